"""Data sets: the built-in ones, CSV files, preprocessing and input checks.

Everything here turns user data into the arrays the MLP trains on:

- :func:`load_dataset` returns a built-in :class:`Dataset` (logic gates, 2-D
  toy sets, 1-D functions, scikit-learn's bundled sets, MNIST-1D generated
  locally). Nothing is ever downloaded.
- :func:`load_csv` reads a CSV file with a header row and a target column,
  validating every step; every problem is a :class:`~mlplab.errors.DataError`
  whose message says what was wrong, the value, and what to do.
- :class:`Preprocessor` is the JSON-able recipe (columns, one-hot categories,
  imputation, standardisation ``x' = (x − μ) / s``, label classes) that turns raw
  rows into model inputs; it is stored in the model file so prediction needs
  nothing else. :func:`load_csv_for_prediction` applies it to a new CSV file.
- :func:`check_X`, :func:`check_X_y`, :func:`encode_labels` and
  :func:`check_labels_known` validate arrays for the library and the
  scikit-learn estimators.
"""

from __future__ import annotations

import csv
import difflib
import functools
import math
import os
import random
from array import array
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .errors import ConfigError, DataError, ModelFileError, check_choice, check_number

TASKS = ("binary", "multiclass", "regression")
DATASETS = (
    "xor",
    "and",
    "or",
    "moons",
    "circles",
    "spirals",
    "blobs",
    "sine",
    "cubic",
    "digits",
    "mnist1d",
    "iris",
    "wine",
    "breast-cancer",
    "diabetes",
)
#: Largest CSV file :func:`load_csv` reads by default (bytes on disk); the default
#: limit is the smaller of this and 1/8 of the available memory.
MAX_CSV_BYTES = 512 * 2**20
#: Field values read as "missing" (compared case-insensitively, after stripping).
MISSING_TOKENS = frozenset({"", "na", "nan", "n/a", "null", "none", "?"})
#: Integer-valued numeric targets with at most this many distinct values (and at
#: most half as many as rows, unless there are only 2) are inferred to be class
#: labels; anything else numeric is a regression target.
MAX_INFERRED_CLASSES = 20
_DELIMITERS = (",", ";", "\t", "|")
_DELIMITER_NAMES = {",": "','", ";": "';'", "\t": "tab", "|": "'|'"}
_PREPROCESSOR_VERSION = 1


# ----------------------------------------------------------------------------- Dataset


@dataclass
class Dataset:
    """Features, targets and what they mean.

    Attributes:
        X: `(n, d)` float64 features.
        y: `(n,)` int64 class indices ``0..k−1`` for classification; `(n,)` or
            `(n, t)` float64 values for regression.
        task: ``"binary"``, ``"multiclass"`` or ``"regression"``.
        feature_names: `d` names, one per column of ``X`` (one-hot columns are
            named ``"column=category"``).
        target_name: name of the target (comma-joined for several targets).
        classes: original label values (JSON-able), ``classes[i]`` ↔ index ``i``;
            ``None`` for regression.
        name: the data set's name (built-in name or the CSV file's stem).
        X_test, y_test: a fixed test split where the data set defines one
            (MNIST-1D: 4000 train / 1000 test), else ``None``.
        columns: the raw input columns before one-hot expansion.
        categories: for each one-hot expanded column, its categories in order.
        impute: ``"mean"`` if missing feature values were filled with the mean.
        source: the CSV path, or ``None`` for a built-in set.
    """

    X: np.ndarray
    y: np.ndarray
    task: str
    feature_names: list[str]
    target_name: str = "y"
    classes: list | None = None
    name: str = ""
    X_test: np.ndarray | None = None
    y_test: np.ndarray | None = None
    columns: list[str] = field(default_factory=list)
    categories: dict[str, list[str]] = field(default_factory=dict)
    impute: str | None = None
    source: str | None = None

    def __post_init__(self):
        check_choice("task", self.task, TASKS)
        if self.X.ndim != 2 or self.X.shape[1] != len(self.feature_names):
            raise DataError(
                f"Dataset X must be (n, {len(self.feature_names)}) to match feature_names; "
                f"got shape {tuple(self.X.shape)}."
            )
        if len(self.y) != len(self.X):
            raise DataError(f"Dataset X has {len(self.X)} rows but y has {len(self.y)}.")
        if (self.X_test is None) != (self.y_test is None):
            raise DataError("Dataset needs both X_test and y_test, or neither.")
        if not self.columns:
            self.columns = list(self.feature_names)

    @property
    def n_samples(self) -> int:
        """Number of (training) rows."""
        return int(self.X.shape[0])

    @property
    def n_features(self) -> int:
        """Number of model inputs `d` (after one-hot expansion)."""
        return int(self.X.shape[1])

    @property
    def n_classes(self) -> int | None:
        """Number of classes `k`, or ``None`` for regression."""
        return None if self.classes is None else len(self.classes)

    @property
    def n_outputs(self) -> int:
        """Output width an MLP needs: 1 for binary, `k` for multiclass, `t` for regression."""
        if self.task == "binary":
            return 1
        if self.task == "multiclass":
            return len(self.classes)
        return 1 if self.y.ndim == 1 else int(self.y.shape[1])

    def describe(self) -> str:
        """One line, e.g. ``"iris: 150 samples × 4 features, multiclass (3 classes)"``."""
        test = "" if self.X_test is None else f" (+{len(self.X_test)} test)"
        kind = self.task if self.classes is None else f"{self.task} ({len(self.classes)} classes)"
        return f"{self.name}: {self.n_samples} samples{test} × {self.n_features} features, {kind}"


# ----------------------------------------------------------------------------- built-in sets


def load_dataset(
    name: str, *, seed: int = 0, n_samples: int | None = None, noise: float | None = None
) -> Dataset:
    """A built-in data set by name (see :data:`DATASETS`); nothing is downloaded.

    Args:
        name: one of :data:`DATASETS`.
        seed: seed of the generated sets (moons, circles, spirals, blobs, sine,
            cubic noise, noisy gates). The bundled sets are fixed; MNIST-1D is the
            canonical set (the ``mnist1d`` package's own seed 42), for comparison
            with the published baselines.
        n_samples: number of rows of a generated set (for xor/and/or: draw that
            many noisy copies of the truth table; for mnist1d: total rows, split
            80/20). Not accepted by the bundled scikit-learn sets.
        noise: standard deviation of the Gaussian noise of a generated set.

    Raises:
        DataError: unknown name (the message lists the names and how to load a CSV).
        ConfigError: ``n_samples``/``noise`` out of range or not applicable.
    """
    if not isinstance(name, str) or name.lower() not in DATASETS:
        raise DataError(_unknown_dataset_message(name))
    name = name.lower()
    check_number("seed", seed, ge=0, integer=True)
    if n_samples is not None:
        check_number("n_samples", n_samples, ge=1, integer=True)
    if noise is not None:
        check_number("noise", noise, ge=0, hint="Pass a standard deviation such as noise=0.1.")
    if name in _SKLEARN_BUNDLED and (n_samples is not None or noise is not None):
        raise ConfigError(
            f"`n_samples` and `noise` apply to generated data sets; '{name}' is a fixed set "
            f"(got n_samples={n_samples}, noise={noise}). Leave them unset."
        )
    return _LOADERS[name](seed=seed, n_samples=n_samples, noise=noise)


def _unknown_dataset_message(name) -> str:
    known = ", ".join(DATASETS)
    close = difflib.get_close_matches(str(name).lower(), DATASETS, n=1)
    hint = f" Did you mean '{close[0]}'?" if close else ""
    return (
        f"unknown data set {name!r}.{hint} The built-in data sets are: {known}. "
        "To use a CSV file, pass its path and the target column with --target COLUMN "
        "(load_csv(path, target=...))."
    )


def _classification(X, y, name, feature_names, classes, **kw) -> Dataset:
    task = "binary" if len(classes) == 2 else "multiclass"
    return Dataset(
        X=np.ascontiguousarray(X, dtype=np.float64),
        y=np.asarray(y, dtype=np.int64),
        task=task,
        feature_names=list(feature_names),
        target_name=kw.pop("target_name", "label"),
        classes=[_jsonable(c) for c in classes],
        name=name,
        **kw,
    )


def _regression(X, y, name, feature_names, target_name="y") -> Dataset:
    return Dataset(
        X=np.ascontiguousarray(X, dtype=np.float64),
        y=np.asarray(y, dtype=np.float64),
        task="regression",
        feature_names=list(feature_names),
        target_name=target_name,
        classes=None,
        name=name,
    )


def _gate(table_name):
    def load(*, seed, n_samples, noise):
        from .gates import TRUTH_INPUTS, TRUTH_TABLES

        X = np.asarray(TRUTH_INPUTS, dtype=np.float64)  # (4, 2)
        y = np.asarray(TRUTH_TABLES[table_name], dtype=np.int64)  # (4,)
        if n_samples is not None:
            # n noisy copies of the four corners, each corner equally often.
            rng = np.random.default_rng(seed)
            idx = rng.permutation(np.arange(n_samples) % 4)
            X = X[idx] + (noise or 0.0) * rng.standard_normal((n_samples, 2))
            y = y[idx]
        elif noise:
            X = X + noise * np.random.default_rng(seed).standard_normal(X.shape)
        return _classification(X, y, table_name, ["x1", "x2"], [0, 1])

    return load


def _moons(*, seed, n_samples, noise):
    from sklearn.datasets import make_moons

    X, y = make_moons(
        n_samples=n_samples or 200, noise=0.2 if noise is None else noise, random_state=seed
    )
    return _classification(X, y, "moons", ["x1", "x2"], [0, 1])


def _circles(*, seed, n_samples, noise):
    from sklearn.datasets import make_circles

    X, y = make_circles(
        n_samples=n_samples or 200,
        noise=0.1 if noise is None else noise,
        factor=0.5,
        random_state=seed,
    )
    return _classification(X, y, "circles", ["x1", "x2"], [0, 1])


def _spirals(*, seed, n_samples, noise):
    """Two interleaved spirals: arm c at angle ``3π t + cπ``, radius ``t``, ``t ~ U(0.05, 1)``."""
    n = n_samples or 300
    rng = np.random.default_rng(seed)
    y = np.arange(n) % 2
    t = rng.uniform(0.05, 1.0, n)
    angle = 3 * np.pi * t + np.pi * y
    X = np.stack([t * np.cos(angle), t * np.sin(angle)], axis=1)  # (n, 2)
    X = X + (0.03 if noise is None else noise) * rng.standard_normal((n, 2))
    return _classification(X, y, "spirals", ["x1", "x2"], [0, 1])


def _blobs(*, seed, n_samples, noise):
    from sklearn.datasets import make_blobs

    X, y = make_blobs(
        n_samples=n_samples or 300,
        centers=3,
        n_features=2,
        cluster_std=1.0 if noise is None else max(noise, 1e-12),
        random_state=seed,
    )
    return _classification(X, y, "blobs", ["x1", "x2"], [0, 1, 2])


def _sine(*, seed, n_samples, noise):
    """``y = sin(x) + noise``, ``x ~ U(−π, π)`` sorted."""
    n = n_samples or 200
    rng = np.random.default_rng(seed)
    x = np.sort(rng.uniform(-np.pi, np.pi, n))
    y = np.sin(x) + (0.1 if noise is None else noise) * rng.standard_normal(n)
    return _regression(x[:, None], y, "sine", ["x"])


def cubic(x):
    """The lecture's cubic ``f(x) = x³ − 2x² − x + 2`` (roots −1, 1, 2)."""
    x = np.asarray(x, dtype=np.float64)
    return x**3 - 2 * x**2 - x + 2


def _cubic(*, seed, n_samples, noise):
    """The lecture's samples x = 0, 0.25, …, 1.75 (or ``n_samples`` evenly on [0, 1.75])."""
    x = np.arange(8) * 0.25 if n_samples is None else np.linspace(0.0, 1.75, n_samples)
    y = cubic(x)
    if noise:
        y = y + noise * np.random.default_rng(seed).standard_normal(len(x))
    return _regression(x[:, None], y, "cubic", ["x"])


def _sklearn_bundled(loader_name, name, classes_from_names):
    def load(*, seed, n_samples, noise):
        import sklearn.datasets

        bunch = getattr(sklearn.datasets, loader_name)()
        features = [str(f) for f in bunch.feature_names]
        if classes_from_names is None:
            return _regression(bunch.data, bunch.target, name, features, "target")
        classes = (
            [str(c) for c in bunch.target_names]
            if classes_from_names
            else sorted(int(c) for c in np.unique(bunch.target))
        )
        return _classification(bunch.data, bunch.target, name, features, classes)

    return load


@functools.lru_cache(maxsize=2)
def _mnist1d_arrays(num_samples: int):
    from mnist1d.data import get_dataset_args, make_dataset

    args = get_dataset_args()
    args.num_samples = num_samples
    # make_dataset seeds the global `random` and `np.random` states (seed 42);
    # put the caller's global state back afterwards.
    np_state, py_state = np.random.get_state(), random.getstate()  # noqa: NPY002
    try:
        data = make_dataset(args)
    finally:
        np.random.set_state(np_state)  # noqa: NPY002
        random.setstate(py_state)
    return tuple(
        np.asarray(data[k], dtype=np.float64 if k.startswith("x") else np.int64)
        for k in ("x", "y", "x_test", "y_test")
    )


def _mnist1d(*, seed, n_samples, noise):
    if noise is not None:
        raise ConfigError(
            f"`noise` does not apply to 'mnist1d' (got noise={noise}); its noise is part of the "
            "canonical generator. Leave it unset."
        )
    if n_samples is not None and n_samples < 20:
        raise ConfigError(
            f"`n_samples` for 'mnist1d' must be >= 20 (2 per class per split); got {n_samples}."
        )
    X, y, X_test, y_test = _mnist1d_arrays(n_samples or 5000)
    return _classification(
        X.copy(),
        y.copy(),
        "mnist1d",
        [f"x{i}" for i in range(X.shape[1])],
        list(range(10)),
        target_name="digit",
        X_test=X_test.copy(),
        y_test=y_test.copy(),
    )


_SKLEARN_BUNDLED = {
    "digits": _sklearn_bundled("load_digits", "digits", False),
    "iris": _sklearn_bundled("load_iris", "iris", True),
    "wine": _sklearn_bundled("load_wine", "wine", True),
    "breast-cancer": _sklearn_bundled("load_breast_cancer", "breast-cancer", True),
    "diabetes": _sklearn_bundled("load_diabetes", "diabetes", None),
}
_LOADERS = {
    "xor": _gate("xor"),
    "and": _gate("and"),
    "or": _gate("or"),
    "moons": _moons,
    "circles": _circles,
    "spirals": _spirals,
    "blobs": _blobs,
    "sine": _sine,
    "cubic": _cubic,
    "mnist1d": _mnist1d,
    **_SKLEARN_BUNDLED,
}


# ----------------------------------------------------------------------------- CSV reading


@dataclass
class _Table:
    """A parsed CSV: header, line number of each data row, and one column per name.

    A numeric column is a float64 array (NaN where missing, ±inf kept); a text
    column is a list of stripped strings (``None`` where missing).
    """

    path: str
    header: list[str]
    lines: np.ndarray
    columns: dict[str, np.ndarray | list]

    @property
    def n_rows(self) -> int:
        return len(self.lines)

    def is_numeric(self, name: str) -> bool:
        return isinstance(self.columns[name], np.ndarray)


def _is_missing(s: str) -> bool:
    return s.lower() in MISSING_TOKENS


def _parse_float(s: str) -> float | None:
    """``float(s)`` or ``None``; refuses Python-only spellings like ``1_000``."""
    if "_" in s:
        return None
    try:
        return float(s)
    except ValueError:
        return None


def _check_file(path, max_bytes) -> tuple[str, int]:
    p = Path(os.fspath(path))
    if not p.exists():
        raise DataError(f"CSV file '{p}' does not exist. Check the path (cwd: {os.getcwd()}).")
    if not p.is_file():
        raise DataError(f"'{p}' is not a file (it is a directory or a device); pass a CSV file.")
    size = p.stat().st_size
    limit = default_max_bytes() if max_bytes is None else max_bytes
    if size > limit:
        raise DataError(
            f"CSV file '{p}' is {_human_bytes(size)}, more than the {_human_bytes(limit)} limit; "
            "it was not read, to keep memory safe. Use a sample of the rows, or raise the limit "
            "(max_bytes=...) if the machine has the memory (up to 8× the file size)."
        )
    if size == 0:
        raise DataError(f"CSV file '{p}' is empty (0 bytes); it needs a header row and data rows.")
    with open(p, "rb") as f:
        head = f.read(8192)
    if b"\x00" in head:
        raise DataError(
            f"'{p}' is a binary file (it contains NUL bytes), not CSV text; did you pass a model "
            "or another file by mistake? Pass a UTF-8 CSV file."
        )
    return str(p), size


def default_max_bytes() -> int:
    """The default CSV size limit: ``min(MAX_CSV_BYTES, available memory / 8)``.

    Parsed numbers take 8 bytes per field (about 1–4× the text) and a text
    column keeps one Python string per field, so 1/8 leaves room for both.
    """
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return max(2**20, min(MAX_CSV_BYTES, int(line.split()[1]) * 1024 // 8))
    except (OSError, ValueError, IndexError):
        pass
    return MAX_CSV_BYTES


def _human_bytes(n: int) -> str:
    for unit in ("bytes", "KiB", "MiB", "GiB", "TiB"):
        if n < 1024 or unit == "TiB":
            return f"{n} bytes" if unit == "bytes" else f"{n:.1f} {unit}"
        n /= 1024
    raise AssertionError  # unreachable


def _open_text(path: str):
    # utf-8-sig drops a UTF-8 byte-order mark transparently; newline="" as csv requires.
    return open(path, encoding="utf-8-sig", newline="")


def _detect_delimiter(path: str) -> str:
    """The delimiter among ``, ; tab |`` that splits the first lines consistently."""
    with _open_text(path) as f:
        try:
            sample = f.read(64 * 1024)
        except UnicodeDecodeError as e:
            raise _decode_error(path, e) from None
    lines = [ln for ln in sample.splitlines() if ln.strip()]
    if not lines:
        raise DataError(
            f"CSV file '{path}' is empty (only blank lines); it needs a header row and data rows."
        )
    if len(sample) == 64 * 1024 and len(lines) > 1:
        lines = lines[:-1]  # the last line of a partial read may be cut
    lines = lines[:20]
    best, best_fields = None, 1
    consistent = []
    for d in _DELIMITERS:
        counts = [len(r) for r in csv.reader(lines, delimiter=d, skipinitialspace=True)]
        if counts[0] > 1 and all(c == counts[0] for c in counts):
            consistent.append((counts[0], d))
        if counts[0] > best_fields:
            best, best_fields = d, counts[0]
    if consistent:
        return max(consistent)[1]
    if best is not None:
        return best  # inconsistent rows: the ragged-row check will name the line
    if not any(d in line for d in _DELIMITERS for line in lines) and all(
        ch.isalnum() or ch in "_-." for ch in lines[0].strip().strip('"')
    ):
        return ","  # one column and no delimiter anywhere: nothing to split
    names = ", ".join(_DELIMITER_NAMES.values())
    raise DataError(
        f"could not detect the delimiter of '{path}': its header line {lines[0][:80]!r} contains "
        f"none of {names}. Pass the delimiter with --delimiter (delimiter=...)."
    )


def _decode_error(path: str, e: UnicodeDecodeError) -> DataError:
    bad = e.object[e.start : e.start + 1].hex()
    return DataError(
        f"'{path}' is not UTF-8 text (byte 0x{bad} at offset {e.start}); is it a CSV file? "
        "Save it as UTF-8 CSV and try again."
    )


def _rows(path: str, delimiter: str):
    """Yield ``(line_number, fields)`` of non-blank rows, fields stripped."""
    with _open_text(path) as f:
        reader = csv.reader(f, delimiter=delimiter, skipinitialspace=True)
        try:
            start = 1
            for fields in reader:
                # A quoted field may span lines: report the line where the record starts.
                line, start = start, reader.line_num + 1
                if not fields or (len(fields) == 1 and not fields[0].strip()):
                    continue
                yield line, [s.strip() for s in fields]
        except UnicodeDecodeError as e:
            raise _decode_error(path, e) from None
        except csv.Error as e:
            raise DataError(
                f"'{path}' line {reader.line_num + 1} cannot be parsed as CSV ({e}); "
                "is it a text CSV file?"
            ) from None


def _read_table(path, delimiter, max_bytes, text_columns=frozenset()) -> _Table:
    """Parse a CSV in two streaming passes (types, then values) to bound memory.

    Columns named in ``text_columns`` are kept as text even if every value is a number.
    """
    path, _ = _check_file(path, max_bytes)
    if delimiter is None:
        delimiter = _detect_delimiter(path)
    elif not isinstance(delimiter, str) or len(delimiter) != 1:
        raise ConfigError(
            f"`delimiter` must be a single character such as ',' or ';'; got {delimiter!r}."
        )
    rows = _rows(path, delimiter)
    first = next(rows, None)
    if first is None:
        raise DataError(
            f"CSV file '{path}' is empty (only blank lines); it needs a header row and data rows."
        )
    header_line, header = first
    _check_header(path, header)
    width = len(header)

    # Pass 1: shape and types. A column is numeric when every non-missing field parses.
    numeric = [name not in text_columns for name in header]
    n_rows = 0
    for line, fields in rows:
        if len(fields) != width:
            raise DataError(
                f"'{path}' line {line} has {len(fields)} fields but the header has {width} "
                f"columns ({_join(header, 6)}). Fix that row (a missing or extra "
                f"{_DELIMITER_NAMES.get(delimiter, repr(delimiter))}"
                f"{', or an unclosed quote' if any(chr(10) in f for f in fields) else ''}?)."
            )
        n_rows += 1
        for j, s in enumerate(fields):
            if numeric[j] and not _is_missing(s) and _parse_float(s) is None:
                numeric[j] = False
    if n_rows == 0:
        raise DataError(
            f"CSV file '{path}' has a header ({_join(header, 6)}) but no data rows; "
            "add at least one row of values."
        )

    # Pass 2: values. Numeric columns go straight into float arrays.
    lines = array("q")
    cols: list = [array("d") if numeric[j] else [] for j in range(width)]
    for line, fields in _rows(path, delimiter):
        if line == header_line:
            continue
        lines.append(line)
        for j, s in enumerate(fields):
            if numeric[j]:
                cols[j].append(math.nan if _is_missing(s) else float(s))
            else:
                cols[j].append(None if _is_missing(s) else s)
    columns = {
        name: np.frombuffer(c, dtype=np.float64).copy() if numeric[j] else c
        for j, (name, c) in enumerate(zip(header, cols, strict=True))
    }
    return _Table(path, header, np.frombuffer(lines, dtype=np.int64).copy(), columns)


def csv_columns(path, *, delimiter: str | None = None, max_bytes: int | None = None) -> list[str]:
    """The column names in a CSV file's header row (validated as :func:`load_csv` does)."""
    path, _ = _check_file(path, max_bytes)
    if delimiter is None:
        delimiter = _detect_delimiter(path)
    first = next(_rows(path, delimiter), None)
    if first is None:
        raise DataError(
            f"CSV file '{path}' is empty (only blank lines); it needs a header row and data rows."
        )
    _check_header(path, first[1])
    return first[1]


def _check_header(path: str, header: list[str]) -> None:
    if all(not _is_missing(s) and _parse_float(s) is not None for s in header):
        raise DataError(
            f"'{path}' has no header row: its first line is data ({_join(header, 6)}). "
            "Add a first line naming the columns, e.g. 'x1,x2,label'."
        )
    for j, name in enumerate(header):
        if not name:
            raise DataError(
                f"'{path}' header column {j + 1} has no name ({_join(header, 6)}); "
                "name every column in the first line."
            )
    seen = set()
    for name in header:
        if name in seen:
            raise DataError(
                f"'{path}' header names column {name!r} more than once; column names must be "
                "unique."
            )
        seen.add(name)


def _join(values, limit: int = 10) -> str:
    values = list(values)
    shown = ", ".join(repr(v) for v in values[:limit])
    return shown + (f", … ({len(values) - limit} more)" if len(values) > limit else "")


def _lines_text(lines, limit: int = 5) -> str:
    lines = [int(v) for v in lines]
    word = "line" if len(lines) == 1 else "lines"
    shown = ", ".join(str(v) for v in lines[:limit])
    more = f", … ({len(lines) - limit} more)" if len(lines) > limit else ""
    return f"{word} {shown}{more}"


# ----------------------------------------------------------------------------- load_csv


def load_csv(
    path,
    target: str | Sequence[str],
    *,
    one_hot: bool = False,
    task: str | None = None,
    delimiter: str | None = None,
    drop_missing: bool = False,
    impute: str | None = None,
    max_bytes: int | None = None,
) -> Dataset:
    """Load a CSV file with a header row into a validated :class:`Dataset`.

    Args:
        path: the CSV file (UTF-8, a byte-order mark is fine).
        target: the target column's name (or several names for multi-output regression).
        one_hot: expand non-numeric feature columns into one 0/1 column per category
            (named ``"column=category"``); without it such columns are an error.
        task: ``"classification"`` (or ``"binary"``/``"multiclass"``), ``"regression"``,
            or ``None`` to infer: text, or integer values with at most
            :data:`MAX_INFERRED_CLASSES` distinct values (each seen about twice),
            mean classification; other numbers mean regression.
        delimiter: the field separator; ``None`` detects ``,`` ``;`` tab or ``|``.
        drop_missing: drop rows with a missing, NaN or infinite value.
        impute: ``"mean"`` fills missing/non-finite numeric features with the
            column mean (and missing categories with all-zero one-hot columns).
        max_bytes: refuse larger files before reading (default :func:`default_max_bytes`).

    Raises:
        DataError: with a message naming the file, the problem, the values and the fix.
        ConfigError: an option out of range.
    """
    targets = _target_list(target)
    check_choice("task", task, (None, "classification", "binary", "multiclass", "regression"))
    check_choice("impute", impute, (None, "mean"))
    if drop_missing and impute is not None:
        raise ConfigError(
            "`drop_missing` and `impute` cannot both be set; choose --drop-missing or "
            "--impute mean."
        )
    if max_bytes is not None:
        check_number("max_bytes", max_bytes, ge=1, integer=True)
    table = _read_table(path, delimiter, max_bytes)
    path = table.path

    missing_targets = [t for t in targets if t not in table.columns]
    if missing_targets:
        raise DataError(_missing_target_message(path, missing_targets[0], table.header))
    features = [c for c in table.header if c not in targets]
    if not features:
        raise DataError(
            f"'{path}' has no feature columns: its only columns are the target(s) "
            f"{_join(targets)}. Add input columns."
        )
    if len(targets) > 1 and task not in (None, "regression"):
        raise DataError(
            f"several target columns ({_join(targets)}) are only supported for regression; "
            f"got task={task!r}. Pass one --target for classification."
        )

    text_features = [c for c in features if not table.is_numeric(c)]
    if text_features and not one_hot:
        raise DataError(_text_features_message(path, table, text_features))
    categories = {c: sorted({s for s in table.columns[c] if s is not None}) for c in text_features}
    for c, cats in categories.items():
        if len(cats) > 100 and len(cats) > table.n_rows // 2:
            raise DataError(
                f"'{path}' column {c!r} has {len(cats)} distinct values in {table.n_rows} rows; "
                f"one-hot encoding would add {len(cats)} columns. It looks like an identifier or "
                "free text: remove it from the file."
            )

    # Missing / non-finite values, per column, as booleans over rows.
    bad = {}
    for c in table.header:
        col = table.columns[c]
        mask = ~np.isfinite(col) if table.is_numeric(c) else np.array([s is None for s in col])
        if mask.any():
            bad[c] = mask
    keep = np.ones(table.n_rows, dtype=bool)
    if bad:
        if drop_missing:
            for mask in bad.values():
                keep &= ~mask
            if not keep.any():
                raise DataError(
                    f"every row of '{path}' has a missing or non-finite value, so "
                    "--drop-missing left no rows. Fill the gaps or try --impute mean."
                )
        elif impute == "mean":
            bad_targets = [c for c in targets if c in bad]
            if bad_targets:
                c = bad_targets[0]
                raise DataError(
                    f"'{path}' target column {c!r} has missing or non-finite values "
                    f"({_lines_text(table.lines[bad[c]])}); targets are never imputed. "
                    "Pass --drop-missing (drop_missing=True) to drop those rows."
                )
        else:
            raise DataError(_missing_values_message(path, table, bad, targets))

    lines = table.lines[keep]
    X_parts, names = [], []
    for c in features:
        col = table.columns[c]
        if c in categories:
            codes = {cat: i for i, cat in enumerate(categories[c])}
            idx = np.array([codes.get(s, -1) if s is not None else -1 for s in col])[keep]
            block = (idx[:, None] == np.arange(len(categories[c]))).astype(np.float64)
            X_parts.append(block)  # (n, k_c); a missing category is an all-zero row
            names.extend(f"{c}={cat}" for cat in categories[c])
        else:
            x = col[keep].copy()
            if impute == "mean" and c in bad:
                finite = np.isfinite(x)
                if not finite.any():
                    raise DataError(
                        f"'{path}' column {c!r} has no finite values to take the mean of; "
                        "remove the column or fill it."
                    )
                x[~finite] = x[finite].mean()
            X_parts.append(x[:, None])
            names.append(c)
    X = np.concatenate(X_parts, axis=1)  # (n, d)

    y, task_out, classes = _encode_target(path, table, targets, keep, lines, task)
    return Dataset(
        X=X,
        y=y,
        task=task_out,
        feature_names=names,
        target_name=",".join(targets),
        classes=classes,
        name=Path(path).stem,
        columns=features,
        categories=categories,
        impute=impute,
        source=path,
    )


def _target_list(target) -> list[str]:
    if isinstance(target, str):
        targets = [target]
    elif isinstance(target, Sequence) and all(isinstance(t, str) for t in target):
        targets = list(target)
    else:
        targets = []
    if not targets or not all(t.strip() for t in targets):
        raise ConfigError(
            f"`target` must name the target column (--target COLUMN); got {target!r}."
        )
    return [t.strip() for t in targets]


def _missing_target_message(path, name, header) -> str:
    lower = {h.lower(): h for h in header}
    hint = f" Did you mean {lower[name.lower()]!r}?" if name.lower() in lower else ""
    if sum(_parse_float(h) is not None for h in header) >= len(header) / 2:
        hint += " Its first line looks like data: the file needs a header row naming the columns."
    return (
        f"target column {name!r} is not in '{path}'.{hint} The columns are: {_join(header, 30)}. "
        "Pass one of them with --target."
    )


def _text_features_message(path, table, text_features) -> str:
    parts = []
    decimal_comma = False
    for c in text_features[:10]:
        example = next((s for s in table.columns[c] if s is not None), "")
        decimal_comma |= _looks_like_decimal_comma(example)
        parts.append(f"{c!r} (e.g. {example!r})")
    more = f", … ({len(text_features) - 10} more)" if len(text_features) > 10 else ""
    word, pron = ("column", "it") if len(text_features) == 1 else ("columns", "them")
    hint = (
        " Values like '1,5' look like decimal commas: write them as 1.5." if decimal_comma else ""
    )
    return (
        f"'{path}' has non-numeric feature {word}: {', '.join(parts)}{more}. "
        f"Pass --one-hot (one_hot=True) to encode {pron} as 0/1 columns, or remove {pron}.{hint}"
    )


def _looks_like_decimal_comma(s: str) -> bool:
    head, _, tail = s.lstrip("-+").partition(",")
    return head.isdigit() and tail.isdigit()


def _missing_values_message(path, table, bad, targets=()) -> str:
    total = sum(int(m.sum()) for m in bad.values())
    parts = [f"column {c!r} at {_lines_text(table.lines[m])}" for c, m in list(bad.items())[:5]]
    more = f"; … ({len(bad) - 5} more columns)" if len(bad) > 5 else ""
    word = "value" if total == 1 else "values"
    fix = "Pass --drop-missing (drop_missing=True) to drop those rows"
    if any(c not in targets for c in bad):  # only feature gaps can be imputed
        fix += ", or --impute mean (impute='mean') to fill feature gaps with the column mean"
    return f"'{path}' has {total} missing, NaN or infinite {word}: {'; '.join(parts)}{more}. {fix}."


def _encode_target(path, table, targets, keep, lines, task):
    """``(y, task, classes)`` from the target column(s) of the kept rows."""
    if task == "regression" or len(targets) > 1:
        ys = []
        for t in targets:
            if not table.is_numeric(t):
                col = table.columns[t]
                bad = [(int(table.lines[i]), s) for i, s in enumerate(col) if keep[i]]
                bad = [(ln, s) for ln, s in bad if s is not None and _parse_float(s) is None]
                shown = ", ".join(f"{s!r} (line {ln})" for ln, s in bad[:5])
                raise DataError(
                    f"regression target {t!r} in '{path}' has non-numeric values: {shown}. "
                    "Pass a numeric column, or --task classification for class labels."
                )
            ys.append(table.columns[t][keep])
        y = ys[0] if len(ys) == 1 else np.stack(ys, axis=1)  # (n,) or (n, t)
        return y.astype(np.float64), "regression", None

    t = targets[0]
    col = table.columns[t]
    if table.is_numeric(t):
        values = col[keep]
        uniq = np.unique(values)
        integral = bool(np.all(uniq == np.round(uniq)))
        # Few distinct integers, each seen about twice or more, look like class labels.
        few = len(uniq) <= 2 or len(uniq) <= min(MAX_INFERRED_CLASSES, len(values) // 2)
        if task is None and not (integral and few):
            return values.astype(np.float64), "regression", None
        labels = [int(u) if integral else float(u) for u in uniq]
        y = np.searchsorted(uniq, values).astype(np.int64)
    else:
        values = [s for i, s in enumerate(col) if keep[i]]
        labels = sorted(set(values))
        codes = {s: i for i, s in enumerate(labels)}
        y = np.array([codes[s] for s in values], dtype=np.int64)
    if len(labels) < 2:
        raise DataError(
            f"target column {t!r} in '{path}' has a single class ({labels[0]!r}) in all "
            f"{len(y)} rows; classification needs at least 2 classes. Check --target, or pass "
            "--task regression for a numeric target."
        )
    k = len(labels)
    if task in ("binary", "multiclass") and (task == "binary") != (k == 2):
        raise DataError(
            f"--task {task} does not fit target {t!r} in '{path}': it has {k} classes "
            f"({_join(labels, 10)}). Use --task classification to infer binary/multiclass."
        )
    return y, ("binary" if k == 2 else "multiclass"), labels


# ----------------------------------------------------------------------------- splitting


def train_test_split(X, y, *, test_size: float | int = 0.25, seed: int = 0, stratify=None):
    """Split rows into train and test parts, seeded; stratified by ``stratify`` labels.

    Args:
        X: `(n, d)` features. y: `(n, …)` targets.
        test_size: fraction in (0, 1) or a row count in [1, n − 1].
        seed: seed of ``numpy.random.default_rng``.
        stratify: `(n,)` labels whose proportions both parts keep (per class,
            rounded so the total test size is exact), or ``None``.

    Returns:
        ``(X_train, X_test, y_train, y_test)``, rows in shuffled order.
    """
    X, y = np.asarray(X), np.asarray(y)
    n = len(X)
    if len(y) != n:
        raise DataError(_length_message(n, len(y)))
    check_number("seed", seed, ge=0, integer=True)
    if isinstance(test_size, float):
        check_number("test_size", test_size, gt=0, lt=1, hint="Pass a fraction such as 0.25.")
        n_test = int(round(test_size * n))
    else:
        check_number("test_size", test_size, ge=1, integer=True)
        n_test = int(test_size)
    if not 1 <= n_test <= n - 1:
        raise DataError(
            f"cannot split {n} rows with test_size={test_size}: it gives {n_test} test rows; "
            "both parts need at least one row."
        )
    rng = np.random.default_rng(seed)
    if stratify is None:
        perm = rng.permutation(n)
        test, train = perm[:n_test], perm[n_test:]
    else:
        labels = np.asarray(stratify)
        if len(labels) != n:
            raise DataError(f"`stratify` has {len(labels)} labels for {n} rows; they must match.")
        _, codes = np.unique(labels, return_inverse=True)
        counts = np.bincount(codes)
        # Largest-remainder rounding of n_test · (class share): exact total, fair per class.
        quota = n_test * counts / n
        per_class = np.floor(quota).astype(int)
        order = np.argsort(-(quota - per_class), kind="stable")
        per_class[order[: n_test - per_class.sum()]] += 1
        test_parts, train_parts = [], []
        for k in range(len(counts)):
            idx = rng.permutation(np.flatnonzero(codes == k))
            test_parts.append(idx[: per_class[k]])
            train_parts.append(idx[per_class[k] :])
        test = rng.permutation(np.concatenate(test_parts))
        train = rng.permutation(np.concatenate(train_parts))
    return X[train], X[test], y[train], y[test]


# ----------------------------------------------------------------------------- array checks


def check_X(X, n_features: int | None = None, name: str = "X") -> np.ndarray:
    """``X`` as a finite float64 `(n, d)` NumPy array, or a :class:`DataError` saying why not.

    Checks, in order: numeric dtype (no strings/objects), rank 2, at least one
    row and one column, ``d == n_features`` when given, no NaN/inf.
    """
    from ._backend import to_numpy

    try:
        arr = to_numpy(X) if type(X).__module__.split(".")[0] in ("torch", "jax", "jaxlib") else X
        arr = np.asarray(arr)
    except (ValueError, TypeError) as e:  # ragged nested lists
        raise DataError(
            f"`{name}` is not a rectangular array: its rows have different lengths "
            f"({type(e).__name__}). Every row needs the same number of values."
        ) from None
    if arr.dtype.kind in "OUSV" or arr.dtype.kind == "c":
        arr = _numeric_from_object(arr, name)
    if arr.ndim != 2:
        fix = (
            f" Reshape with {name}.reshape(-1, 1) for one feature or {name}.reshape(1, -1) "
            "for one sample."
            if arr.ndim == 1
            else ""
        )
        raise DataError(
            f"`{name}` must be 2-D (n_samples, n_features); got {arr.ndim}-D with shape "
            f"{tuple(arr.shape)}.{fix}"
        )
    if arr.shape[0] == 0:
        raise DataError(
            f"`{name}` is empty: shape {tuple(arr.shape)} has 0 samples; pass at least one row."
        )
    if arr.shape[1] == 0:
        raise DataError(f"`{name}` has 0 features (shape {tuple(arr.shape)}); pass some columns.")
    if n_features is not None and arr.shape[1] != n_features:
        raise DataError(
            f"`{name}` has the wrong number of features: expected {n_features} features, got "
            f"{arr.shape[1]}. Pass the same columns, in the same order, as at fit time."
        )
    arr = arr.astype(np.float64, copy=False)
    finite = np.isfinite(arr)
    if not finite.all():
        rows, cols = np.nonzero(~finite)
        where = ", ".join(f"({r}, {c})" for r, c in zip(rows[:5], cols[:5], strict=True))
        more = f", … ({len(rows) - 5} more)" if len(rows) > 5 else ""
        raise DataError(
            f"`{name}` contains {len(rows)} NaN or infinite value(s) at (row, column) "
            f"{where}{more}. Remove those rows or fill them (e.g. impute the column mean)."
        )
    return arr


def _numeric_from_object(arr: np.ndarray, name: str) -> np.ndarray:
    if arr.dtype.kind == "c":
        raise DataError(f"`{name}` has complex dtype {arr.dtype}; pass real numbers.")
    if arr.dtype.kind == "O":
        try:
            return arr.astype(np.float64)
        except (ValueError, TypeError):
            pass
    flat = arr.ravel().tolist()
    example = next(
        (v for v in flat if not isinstance(v, int | float | np.number) or isinstance(v, bool)),
        flat[0] if flat else None,
    )
    kind = "strings" if arr.dtype.kind in "US" else "Python objects"
    raise DataError(
        f"`{name}` holds {kind} (dtype {arr.dtype}, e.g. {example!r}), not numbers. "
        "Encode text columns first (e.g. load_csv(..., one_hot=True) or --one-hot)."
    )


def _length_message(n_x: int, n_y: int) -> str:
    return (
        f"`X` and `y` have different numbers of samples: X has {n_x} rows, y has {n_y}. "
        "Pass one target per row."
    )


def check_X_y(X, y, *, n_features: int | None = None, y_numeric: bool = False):
    """``(X, y)`` checked together: ``X`` as in :func:`check_X`, ``y`` 1-D or 2-D, same length.

    ``y`` keeps its dtype (labels may be strings) unless ``y_numeric``, which
    requires finite numbers and returns float64.
    """
    X = check_X(X, n_features=n_features)
    try:
        y = np.asarray(y)
    except (ValueError, TypeError) as e:
        raise DataError(
            f"`y` is not a rectangular array ({type(e).__name__}); give every row the same length."
        ) from None
    if y.ndim == 0 or y.ndim > 2:
        raise DataError(
            f"`y` must be 1-D (n,) or 2-D (n, t); got {y.ndim}-D with shape {tuple(y.shape)}."
        )
    if len(y) != len(X):
        raise DataError(_length_message(len(X), len(y)))
    if y_numeric:
        if y.dtype.kind not in "biuf":
            raise DataError(
                f"`y` must hold numbers for regression; got dtype {y.dtype} "
                f"(e.g. {y.ravel()[0]!r}). Encode the target as numbers, or use a classifier."
            )
        y = y.astype(np.float64)
        if not np.all(np.isfinite(y)):
            rows = np.flatnonzero(~np.isfinite(y.reshape(len(y), -1)).all(axis=1))
            raise DataError(
                f"`y` contains NaN or infinite values at rows {rows[:5].tolist()}; "
                "drop or fix those rows."
            )
    return X, y


def encode_labels(y, *, min_classes: int = 2) -> tuple[np.ndarray, list]:
    """Class labels → ``(indices, classes)``: `(n,)` int64 indices into sorted ``classes``.

    Labels may be ints, bools, strings or integer-valued floats; ``classes`` holds
    JSON-able Python values (``classes[indices[i]] == y[i]``).
    """
    y = np.asarray(y)
    if y.ndim == 2 and y.shape[1] == 1:
        y = y[:, 0]
    if y.ndim != 1:
        raise DataError(
            f"class labels must be 1-D (n,); got shape {tuple(y.shape)}. "
            "Pass one label per row (not one-hot)."
        )
    if y.size == 0:
        raise DataError("`y` is empty (0 labels); pass one label per row.")
    if y.dtype.kind == "f":
        if not np.all(np.isfinite(y)):
            raise DataError(
                f"`y` contains NaN or infinite labels at rows "
                f"{np.flatnonzero(~np.isfinite(y))[:5].tolist()}; drop those rows."
            )
        if not np.all(y == np.round(y)):
            example = y[y != np.round(y)][0]
            raise DataError(
                f"`y` has non-integer float values (e.g. {example}), which are not class labels. "
                "For a numeric target use regression; for classes pass integers or strings."
            )
        y = y.astype(np.int64)
    elif y.dtype.kind == "O":
        try:
            y = y.astype(str)
        except (ValueError, TypeError):
            raise DataError(
                "`y` holds objects that are not labels; pass ints or strings."
            ) from None
    try:
        classes, indices = np.unique(y, return_inverse=True)
    except TypeError:
        raise DataError("`y` mixes label types that cannot be sorted; use one type.") from None
    if len(classes) < min_classes:
        raise DataError(
            f"`y` has a single class ({_jsonable(classes[0])!r}); classification needs at least "
            f"{min_classes} classes. Check the labels, or use regression for a numeric target."
        )
    return indices.astype(np.int64).ravel(), [_jsonable(c) for c in classes]


def check_labels_known(y, classes: Sequence) -> np.ndarray:
    """Labels → `(n,)` int64 indices into ``classes``; labels unseen at fit time are named.

    Numbers match numerically and strings match the text of a number, so labels
    read back from a CSV (``"1"``) find the class ``1`` of the fitted model.
    """
    y = np.asarray(y)
    if y.ndim == 2 and y.shape[1] == 1:
        y = y[:, 0]
    if y.ndim != 1:
        raise DataError(f"class labels must be 1-D (n,); got shape {tuple(y.shape)}.")
    keys = {_label_key(c): i for i, c in enumerate(classes)}
    idx = np.empty(len(y), dtype=np.int64)
    unseen = {}
    for i, v in enumerate(y.tolist()):
        k = keys.get(_label_key(v), -1)
        if k < 0:
            unseen.setdefault(_label_key(v), v)
        idx[i] = k
    if unseen:
        raise DataError(
            f"`y` has {len(unseen)} label(s) unseen at fit time: {_join(unseen.values(), 10)}. "
            f"The model knows the classes {_join(classes, 20)}; retrain with those labels "
            "or remove the rows."
        )
    return idx


def _label_key(v):
    """A comparison key: numbers (and numeric strings) by value, other text as text."""
    if isinstance(v, bool | np.bool_):
        return ("s", str(bool(v)).lower())
    if isinstance(v, int | float | np.number):
        return ("n", float(v))
    s = str(v).strip()
    f = _parse_float(s)
    return ("n", f) if f is not None else ("s", s.lower() if s.lower() in ("true", "false") else s)


def _jsonable(v):
    """NumPy scalars → Python int/float/str/bool (JSON-able)."""
    return v.item() if isinstance(v, np.generic) else v


# ----------------------------------------------------------------------------- preprocessing


class Standardizer:
    """Per-column standardisation ``x' = (x − μ) / s`` (``s = 1`` for constant columns).

    Attributes after :meth:`fit`: ``mean`` and ``scale``, `(d,)` float64.
    """

    def __init__(self, mean=None, scale=None):
        self.mean = None if mean is None else np.asarray(mean, dtype=np.float64)
        self.scale = None if scale is None else np.asarray(scale, dtype=np.float64)

    def fit(self, X) -> Standardizer:
        """Learn ``μ`` and ``s`` (population std) of each column of `(n, d)` ``X``."""
        X = check_X(X)
        self.mean = X.mean(axis=0)
        std = X.std(axis=0)
        # A constant column would divide by 0: keep its scale at 1 (it becomes all zeros).
        self.scale = np.where(std > 1e-12 * np.maximum(1.0, np.abs(self.mean)), std, 1.0)
        return self

    def _fitted(self):
        if self.mean is None:
            raise ConfigError("this Standardizer is not fitted yet; call fit(X) first.")

    def transform(self, X) -> np.ndarray:
        """`(n, d)` → `(n, d)` standardised."""
        self._fitted()
        X = check_X(X, n_features=len(self.mean))
        return (X - self.mean) / self.scale

    def inverse_transform(self, Z) -> np.ndarray:
        """Undo :meth:`transform`: ``x = z·s + μ``."""
        self._fitted()
        Z = check_X(Z, n_features=len(self.mean))
        return Z * self.scale + self.mean

    def fit_transform(self, X) -> np.ndarray:
        """:meth:`fit` then :meth:`transform`."""
        return self.fit(X).transform(X)

    def to_dict(self) -> dict:
        """JSON-able ``{"mean": [...], "scale": [...]}``."""
        self._fitted()
        return {"mean": self.mean.tolist(), "scale": self.scale.tolist()}

    @classmethod
    def from_dict(cls, d: dict) -> Standardizer:
        """Inverse of :meth:`to_dict`; malformed input is a :class:`ModelFileError`."""
        mean = _float_list(d, "mean", "standardizer")
        scale = _float_list(d, "scale", "standardizer")
        if len(mean) != len(scale) or any(s <= 0 for s in scale):
            raise ModelFileError(
                "standardizer metadata is inconsistent: `mean` and `scale` must have the same "
                f"length and positive scales (lengths {len(mean)}, {len(scale)})."
            )
        return cls(mean, scale)


def _float_list(d, key, what) -> list[float]:
    v = d.get(key) if isinstance(d, dict) else None
    if not isinstance(v, list) or not all(
        isinstance(x, int | float) and not isinstance(x, bool) and math.isfinite(x) for x in v
    ):
        raise ModelFileError(
            f"{what} metadata field {key!r} must be a list of finite numbers; got "
            f"{type(v).__name__}. The model file is corrupted or from elsewhere."
        )
    return [float(x) for x in v]


class Preprocessor:
    """Everything that turns raw feature rows into model inputs, JSON-able for the model file.

    Raw row (one value per input column) → one-hot expansion of categorical
    columns → imputation of missing numbers (if the training data was imputed)
    → standardisation ``(x − μ) / s`` of the numeric columns (one-hot columns
    are left as 0/1) → `(n, d)` model input. It also holds the target's
    meaning: task, class labels, and for regression the target's ``μ, s``
    (:meth:`transform_target` / :meth:`inverse_transform_target`).

    Args:
        standardize: standardise numeric feature columns (default ``True``).
    """

    def __init__(self, *, standardize: bool = True):
        self.standardize = bool(standardize)
        self.columns: list[str] = []
        self.categories: dict[str, list[str]] = {}
        self.feature_names: list[str] = []
        self.impute: str | None = None
        self.scaler: Standardizer | None = None
        self.task: str | None = None
        self.target_name: str = "y"
        self.classes: list | None = None
        self.target_scaler: Standardizer | None = None

    @property
    def n_features(self) -> int:
        """Model input width `d` (after one-hot expansion)."""
        return len(self.feature_names)

    def fit(self, dataset: Dataset) -> Preprocessor:
        """Learn the recipe from a :class:`Dataset` (its training rows)."""
        self.columns = list(dataset.columns)
        self.categories = {c: list(v) for c, v in dataset.categories.items()}
        self.feature_names = list(dataset.feature_names)
        self.impute = dataset.impute
        self.task, self.target_name = dataset.task, dataset.target_name
        self.classes = None if dataset.classes is None else list(dataset.classes)
        scaler = Standardizer().fit(dataset.X)
        one_hot = np.array([self._is_one_hot(n) for n in self.feature_names], dtype=bool)
        if not self.standardize:
            one_hot[:] = True
        scaler.mean = np.where(one_hot, 0.0, scaler.mean)
        scaler.scale = np.where(one_hot, 1.0, scaler.scale)
        self.scaler = scaler
        self._fill = Standardizer().fit(dataset.X).mean  # raw column means, for imputation
        self.target_scaler = None
        if dataset.task == "regression":
            y = np.asarray(dataset.y, dtype=np.float64).reshape(len(dataset.y), -1)
            self.target_scaler = Standardizer().fit(y)
        return self

    def _is_one_hot(self, feature_name: str) -> bool:
        col, sep, _ = feature_name.partition("=")
        return bool(sep) and col in self.categories

    def _fitted(self):
        if self.scaler is None:
            raise ConfigError("this Preprocessor is not fitted yet; call fit(dataset) first.")

    def transform(self, X_raw) -> np.ndarray:
        """Numeric `(n, d)` raw features (one-hot already expanded) → `(n, d)` model inputs."""
        self._fitted()
        arr = np.asarray(X_raw) if not isinstance(X_raw, np.ndarray) else X_raw
        if self.impute == "mean" and arr.dtype.kind == "f" and arr.ndim == 2:
            if arr.shape[1] == self.n_features and not np.all(np.isfinite(arr)):
                arr = np.where(np.isfinite(arr), arr, self._fill)
        return self.scaler.transform(arr)

    def encode(self, rows, *, lines: Sequence[int] | None = None) -> np.ndarray:
        """Raw rows (sequences of values in :attr:`columns` order, or dicts by column) →
        numeric `(n, d)` features with categorical columns one-hot expanded.

        Missing values become NaN (filled by :meth:`transform` when the training
        data was imputed); unseen categories are a :class:`DataError`.
        """
        self._fitted()
        out = np.empty((len(rows), self.n_features), dtype=np.float64)
        for i, row in enumerate(rows):
            if isinstance(row, dict):
                absent = [c for c in self.columns if c not in row]
                if absent:
                    raise DataError(f"row {i} lacks the column(s) {_join(absent)}.")
                values = [row[c] for c in self.columns]
            else:
                values = list(row)
                if len(values) != len(self.columns):
                    raise DataError(
                        f"row {i} has {len(values)} values; expected {len(self.columns)} "
                        f"(columns {_join(self.columns)})."
                    )
            where = f"line {lines[i]}" if lines is not None else f"row {i}"
            out[i] = self._encode_row(values, where)
        return out

    def _encode_row(self, values, where: str) -> list[float]:
        row: list[float] = []
        for c, v in zip(self.columns, values, strict=True):
            s = v.strip() if isinstance(v, str) else v
            missing = (
                s is None
                or (isinstance(s, str) and _is_missing(s))
                or (isinstance(s, float) and math.isnan(s))
            )
            if c in self.categories:
                cats = self.categories[c]
                if missing:
                    row.extend([0.0] * len(cats) if self.impute else [math.nan] * len(cats))
                    continue
                s = str(s)
                if s not in cats:
                    raise DataError(
                        f"column {c!r} has the category {s!r} at {where}, unseen at training "
                        f"time; the model knows {_join(cats, 20)}. Map it to one of those or "
                        "retrain with it."
                    )
                row.extend(1.0 if s == cat else 0.0 for cat in cats)
            elif missing:
                row.append(math.nan)
            else:
                f = _parse_float(s) if isinstance(s, str) else _num_or_none(s)
                if f is None:
                    raise DataError(
                        f"column {c!r} needs a number but has {s!r} at {where}. Fix the value."
                    )
                row.append(f)
        return row

    def apply(self, rows_or_X) -> np.ndarray:
        """Model inputs from either a numeric `(n, d)` array or raw rows (see :meth:`encode`)."""
        arr = rows_or_X
        if not isinstance(arr, np.ndarray):
            if len(rows_or_X) and isinstance(rows_or_X[0], dict):
                return self.transform(self.encode(rows_or_X))
            try:
                arr = np.asarray(rows_or_X, dtype=np.float64)
            except (ValueError, TypeError):
                return self.transform(self.encode(rows_or_X))
        if arr.dtype.kind in "OUS":
            return self.transform(self.encode(arr.tolist()))
        if arr.ndim == 2 and arr.shape[1] == len(self.columns) != self.n_features:
            return self.transform(self.encode(arr.tolist()))
        return self.transform(arr)

    def transform_target(self, y) -> np.ndarray:
        """Regression targets → standardised `(n,)`/`(n, t)`; class labels → indices."""
        self._fitted()
        if self.task != "regression":
            return check_labels_known(y, self.classes)
        y = np.asarray(y, dtype=np.float64)
        z = self.target_scaler.transform(y.reshape(len(y), -1))
        return z.reshape(y.shape)

    def inverse_transform_target(self, z) -> np.ndarray:
        """Standardised regression predictions → target units (shape kept)."""
        self._fitted()
        if self.task != "regression":
            raise ConfigError("inverse_transform_target applies to regression models only.")
        z = np.asarray(z, dtype=np.float64)
        t = len(self.target_scaler.mean)
        y = self.target_scaler.inverse_transform(z.reshape(len(z), t))
        return y.reshape(z.shape)

    def decode_labels(self, indices) -> list:
        """Class indices → original labels."""
        if self.classes is None:
            raise ConfigError("decode_labels applies to classification models only.")
        return [self.classes[int(i)] for i in np.asarray(indices).ravel()]

    def to_dict(self) -> dict:
        """JSON-able description (stored in the model file's metadata)."""
        self._fitted()
        return {
            "version": _PREPROCESSOR_VERSION,
            "columns": list(self.columns),
            "categories": {c: list(v) for c, v in self.categories.items()},
            "feature_names": list(self.feature_names),
            "standardize": self.standardize,
            "impute": self.impute,
            "fill_values": self._fill.tolist(),
            "scaler": self.scaler.to_dict(),
            "task": self.task,
            "target_name": self.target_name,
            "classes": None if self.classes is None else list(self.classes),
            "target_scaler": None if self.target_scaler is None else self.target_scaler.to_dict(),
        }

    @classmethod
    def from_dict(cls, d: dict) -> Preprocessor:
        """Inverse of :meth:`to_dict`; anything malformed is a :class:`ModelFileError`."""
        if not isinstance(d, dict) or d.get("version") != _PREPROCESSOR_VERSION:
            got = d.get("version") if isinstance(d, dict) else type(d).__name__
            raise ModelFileError(
                f"preprocessing metadata must be a dict with version {_PREPROCESSOR_VERSION}; "
                f"got {got!r}. The model file is corrupted or from another program."
            )

        def strings(key):
            v = d.get(key)
            if not isinstance(v, list) or not all(isinstance(s, str) for s in v):
                raise ModelFileError(
                    f"preprocessing metadata field {key!r} must be a list of strings."
                )
            return list(v)

        p = cls(standardize=bool(d.get("standardize", True)))
        p.columns, p.feature_names = strings("columns"), strings("feature_names")
        cats = d.get("categories")
        if not isinstance(cats, dict) or not all(
            c in p.columns and isinstance(v, list) and all(isinstance(s, str) for s in v)
            for c, v in cats.items()
        ):
            raise ModelFileError(
                "preprocessing metadata field 'categories' must map input columns to lists of "
                "strings."
            )
        p.categories = {c: list(v) for c, v in cats.items()}
        expected = sum(len(p.categories.get(c, [None])) for c in p.columns)
        if expected != len(p.feature_names):
            raise ModelFileError(
                f"preprocessing metadata is inconsistent: {len(p.columns)} columns expand to "
                f"{expected} features but {len(p.feature_names)} feature names are stored."
            )
        if d.get("impute") not in (None, "mean"):
            raise ModelFileError(f"unknown imputation {d.get('impute')!r} in preprocessing.")
        p.impute = d.get("impute")
        p._fill = np.asarray(_float_list(d, "fill_values", "preprocessing"))
        p.scaler = Standardizer.from_dict(d.get("scaler"))
        if len(p.scaler.mean) != len(p.feature_names) or len(p._fill) != len(p.feature_names):
            raise ModelFileError(
                f"preprocessing metadata is inconsistent: {len(p.feature_names)} features but "
                f"{len(p.scaler.mean)} standardisation statistics."
            )
        if d.get("task") not in TASKS:
            raise ModelFileError(f"unknown task {d.get('task')!r} in preprocessing metadata.")
        p.task = d["task"]
        p.target_name = str(d.get("target_name", "y"))
        classes = d.get("classes")
        if (p.task == "regression") != (classes is None) or (
            classes is not None
            and (
                not isinstance(classes, list)
                or len(classes) < 2
                or not all(isinstance(c, str | int | float | bool) for c in classes)
            )
        ):
            raise ModelFileError(
                "preprocessing metadata field 'classes' must be a list of at least 2 labels for "
                "classification and null for regression."
            )
        p.classes = classes
        ts = d.get("target_scaler")
        p.target_scaler = None if ts is None else Standardizer.from_dict(ts)
        if p.task == "regression" and p.target_scaler is None:
            raise ModelFileError("regression preprocessing metadata lacks 'target_scaler'.")
        return p


def _num_or_none(v) -> float | None:
    if isinstance(v, bool):
        return float(v)
    if isinstance(v, int | float | np.number):
        return float(v)
    return None


def load_csv_for_prediction(
    path,
    preprocessor: Preprocessor,
    target: str | None = None,
    *,
    delimiter: str | None = None,
    ignore_extra: bool = False,
    with_target: bool | None = None,
    max_bytes: int | None = None,
) -> tuple[np.ndarray, np.ndarray | None]:
    """Read a CSV for a fitted model: ``(X, y)`` with ``X`` ready for the model.

    Columns are matched by name (any order). The target column is ``target``,
    or the model's own target name. ``with_target``: ``True`` requires it,
    ``False`` ignores it (``y`` is ``None``; use this to predict), ``None``
    reads it when the file has it. ``y`` holds class indices (classification)
    or values in target units (regression).

    Returns:
        ``X``: `(n, d)` model inputs (encoded, imputed, standardised);
        ``y``: `(n,)` int64 / `(n,)` or `(n, t)` float64, or ``None``.

    Raises:
        DataError: missing or (unless ``ignore_extra``) unexpected columns,
            unseen categories or labels, non-numeric or missing values.
    """
    preprocessor._fitted()
    table = _read_table(path, delimiter, max_bytes, text_columns=set(preprocessor.categories))
    path = table.path
    targets = preprocessor.target_name.split(",") if target is None else _target_list(target)
    if with_target or (with_target is None and target is not None):
        absent = [t for t in targets if t not in table.columns]
        if absent:
            raise DataError(_missing_target_message(path, absent[0], table.header))
    present = [t for t in targets if t in table.columns]
    if with_target is False or len(present) < len(targets):
        targets = []
    absent = [c for c in preprocessor.columns if c not in table.columns]
    if absent:
        raise DataError(
            f"'{path}' lacks the column(s) {_join(absent)} that the model was trained on; "
            f"it needs {_join(preprocessor.columns, 30)}."
        )
    extra = [c for c in table.header if c not in preprocessor.columns and c not in present]
    if extra and not ignore_extra:
        raise DataError(
            f"'{path}' has column(s) the model was not trained on: {_join(extra)}. Remove "
            f"them; the model uses {_join(preprocessor.columns, 30)}"
            f" (and the target {preprocessor.target_name!r})."
        )
    n = table.n_rows
    # Numbers stay floats (NaN = missing); categorical columns keep their text.
    cols = [
        table.columns[c].tolist() if table.is_numeric(c) else table.columns[c]
        for c in preprocessor.columns
    ]
    rows = [[col[i] for col in cols] for i in range(n)]
    X_raw = preprocessor.encode(rows, lines=table.lines.tolist())
    if preprocessor.impute is None and not np.all(np.isfinite(X_raw)):
        bad = {}
        for j, name in enumerate(preprocessor.feature_names):
            mask = ~np.isfinite(X_raw[:, j])
            if mask.any():
                col, sep, _ = name.partition("=")
                key = col if sep and col in preprocessor.categories else name
                bad[key] = bad.get(key, np.zeros(n, dtype=bool)) | mask
        raise DataError(
            _missing_values_message(path, table, bad).split(" Pass ")[0]
            + " The model was trained without imputation: fill or remove those rows."
        )
    X = preprocessor.transform(X_raw)
    if not targets:
        return X, None
    if preprocessor.task == "regression":
        ys = []
        for t in targets:
            col = table.columns[t]
            if not table.is_numeric(t) or not np.all(np.isfinite(col)):
                raise DataError(
                    f"target column {t!r} in '{path}' must hold finite numbers for this "
                    "regression model; fix or remove the bad rows."
                )
            ys.append(col)
        y = ys[0] if len(ys) == 1 else np.stack(ys, axis=1)
        return X, y.astype(np.float64)
    col = table.columns[targets[0]]
    labels = col.tolist() if table.is_numeric(targets[0]) else col
    missing = [i for i, v in enumerate(labels) if v is None or (isinstance(v, float) and v != v)]
    if missing:
        raise DataError(
            f"target column {targets[0]!r} in '{path}' has missing labels at "
            f"{_lines_text(table.lines[missing])}; fill or remove those rows."
        )
    try:
        return X, check_labels_known(labels, preprocessor.classes)
    except DataError as e:
        raise DataError(f"target column {targets[0]!r} in '{path}': {e}") from None
