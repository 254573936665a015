"""CSV files → validated :class:`~mlplab.data.Dataset` (and model inputs).

The file is read in two streaming passes (column types, then values; numbers go
straight into float arrays) after its size is checked, so a huge file is refused
before it is read and a large one never holds every field as a Python string.
Every problem is a :class:`~mlplab.errors.DataError` naming the file, the line
or column, the value, and the fix.
"""

from __future__ import annotations

import csv
import math
import os
from array import array
from collections.abc import Collection, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO, TypeAlias

import numpy as np
from numpy.typing import NDArray

from ..errors import ConfigError, DataError, check_choice, check_number
from .dataset import Dataset
from .preprocessing import Preprocessor
from .validation import check_labels_known, is_missing, join_values, lines_text, parse_float

#: Largest CSV file :func:`load_csv` reads by default (bytes on disk); the default
#: limit is the smaller of this and 1/8 of the available memory.
MAX_CSV_BYTES = 512 * 2**20
#: Integer-valued numeric targets with at most this many distinct values (and at
#: most half as many as rows, unless there are only 2) are inferred to be class
#: labels; anything else numeric is a regression target.
MAX_INFERRED_CLASSES = 20
#: Largest one-hot encoded feature matrix (8 bytes per value) :func:`load_csv` builds;
#: the limit is the smaller of this and 1/8 of the available memory.
MAX_ENCODED_BYTES = 2**30
_DELIMITERS = (",", ";", "\t", "|")
_DELIMITER_NAMES = {",": "','", ";": "';'", "\t": "tab", "|": "'|'"}

#: A parsed column: float64 numbers (NaN where missing), or stripped text (None where missing).
_Column: TypeAlias = NDArray[np.float64] | list[str | None]
#: Boolean masks over rows, per column that has any set.
_Masks: TypeAlias = dict[str, NDArray[np.bool_]]


@dataclass
class _Table:
    """A parsed CSV: header, line number of each data row, and one column per name.

    A numeric column is a float64 array (NaN where missing, ±inf kept); a text
    column is a list of stripped strings (``None`` where missing).
    """

    path: str
    header: list[str]
    lines: NDArray[np.int64]
    columns: dict[str, _Column]

    @property
    def n_rows(self) -> int:
        return len(self.lines)

    def is_numeric(self, name: str) -> bool:
        return isinstance(self.columns[name], np.ndarray)


def _cell_float(s: str) -> float | None:
    """A field as a float (NaN when missing), or ``None`` when it is text.

    ``float`` also takes ``"1_000"`` and non-ASCII digits (``"٣"``); a CSV reader
    should not (see :func:`~mlplab.data.validation.parse_float`).
    """
    try:
        v = float(s)
    except ValueError:
        return math.nan if is_missing(s) else None
    return None if "_" in s or not s.isascii() else v


def _check_file(path: str | os.PathLike[str], max_bytes: int | None) -> tuple[str, int]:
    try:
        p = Path(os.fspath(path))
    except TypeError:
        raise ConfigError(
            f"`path` must be a CSV file path (str or os.PathLike); got {type(path).__name__}."
        ) from None
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
    try:
        with open(p, "rb") as f:
            head = f.read(8192)
    except OSError as err:  # no read permission, an I/O error, …
        raise DataError(f"cannot read CSV file '{p}': {err.strerror or err}.") from None
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


def _human_bytes(n: float) -> str:
    for unit in ("bytes", "KiB", "MiB", "GiB", "TiB"):
        if n < 1024 or unit == "TiB":
            return f"{n} bytes" if unit == "bytes" else f"{n:.1f} {unit}"
        n /= 1024
    raise AssertionError  # unreachable


def _open_text(path: str) -> TextIO:
    # utf-8-sig drops a UTF-8 byte-order mark transparently; newline="" as csv requires.
    try:
        return open(path, encoding="utf-8-sig", newline="")  # noqa: SIM115 - the caller closes
    except OSError as err:
        raise DataError(f"cannot read CSV file '{path}': {err.strerror or err}.") from None


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


def _rows(path: str, delimiter: str) -> Iterator[tuple[int, list[str]]]:
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


def _read_table(
    path: str | os.PathLike[str],
    delimiter: str | None,
    max_bytes: int | None,
    text_columns: Collection[str] = frozenset(),
) -> _Table:
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

    # Pass 1: shape, and numbers straight into float arrays. A column that meets
    # a non-number becomes text; only then is a second pass made, for those columns.
    floats: list[array[float] | None] = [
        None if name in text_columns else array("d") for name in header
    ]
    lines = array("q")
    for line, fields in rows:
        if len(fields) != width:
            raise DataError(
                f"'{path}' line {line} has {len(fields)} fields but the header has {width} "
                f"columns ({join_values(header, 6)}). Fix that row (a missing or extra "
                f"{_DELIMITER_NAMES.get(delimiter, repr(delimiter))}"
                f"{', or an unclosed quote' if any(chr(10) in f for f in fields) else ''}?)."
            )
        lines.append(line)
        for j, s in enumerate(fields):
            col = floats[j]
            if col is not None:
                v = _cell_float(s)
                if v is None:
                    floats[j] = None
                else:
                    col.append(v)
    if not lines:
        raise DataError(
            f"CSV file '{path}' has a header ({join_values(header, 6)}) but no data rows; "
            "add at least one row of values."
        )

    # Pass 2 (text columns only): the stripped strings, None where missing.
    text: dict[int, list[str | None]] = {j: [] for j in range(width) if floats[j] is None}
    if text:
        for line, fields in _rows(path, delimiter):
            if line != header_line:
                for j, values in text.items():
                    values.append(None if is_missing(fields[j]) else fields[j])
    columns: dict[str, _Column] = {
        name: text[j] if col is None else np.frombuffer(col, dtype=np.float64).copy()
        for j, (name, col) in enumerate(zip(header, floats, strict=True))
    }
    if header[0] == "":
        _warn(
            f"'{path}': skipped the unnamed first column (the index pandas writes with "
            "df.to_csv(); df.to_csv(path, index=False) leaves it out)."
        )
        del columns[""]
        header = header[1:]
    return _Table(path, header, np.frombuffer(lines, dtype=np.int64).copy(), columns)


def _warn(message: str) -> None:
    import warnings

    from ..errors import MLPLabWarning

    warnings.warn(message, MLPLabWarning, stacklevel=3)


_BOOLEANS = {"true": 1.0, "false": 0.0}


def _booleans_as_numbers(table: _Table, names: Iterable[str]) -> None:
    """Text columns holding only True/False (any case) become 0/1 numbers, in place."""
    for c in names:
        values = table.columns[c]
        if table.is_numeric(c) or not any(v is not None for v in values):
            continue
        if all(v is None or v.lower() in _BOOLEANS for v in values):
            table.columns[c] = np.array(
                [math.nan if v is None else _BOOLEANS[v.lower()] for v in values]
            )


def _select_features(
    path: str,
    table: _Table,
    targets: Sequence[str],
    features: Sequence[str] | None,
    drop: Sequence[str] | None,
) -> list[str]:
    """The feature columns: every non-target column, or ``features``, less ``drop``."""
    for what, names in (("features", features), ("drop", drop)):
        unknown = [c for c in names or () if c not in table.columns]
        if unknown:
            raise DataError(
                f"`{what}` (--{what}) names column(s) {join_values(unknown)} that '{path}' "
                f"does not have; its columns are {join_values(table.header, 30)}."
            )
    both = [c for c in features or () if c in set(drop or ()) | set(targets)]
    if both:
        raise DataError(
            f"column(s) {join_values(both)} cannot be both a feature and dropped or the target."
        )
    chosen = list(features) if features is not None else table.header
    return [c for c in chosen if c not in targets and c not in set(drop or ())]


def _warn_identifier_columns(path: str, table: _Table, features: Iterable[str]) -> None:
    """An integer column with a different value on every row looks like an identifier."""
    if table.n_rows < 20:
        return
    for c in features:
        x = table.columns[c]
        if (
            isinstance(x, np.ndarray)
            and np.all(np.isfinite(x))
            and np.all(x == np.round(x))
            and len(np.unique(x)) == table.n_rows
        ):
            _warn(
                f"'{path}' column {c!r} holds a different integer on every row: an "
                f"identifier? It is used as a feature; leave it out with --drop {c} "
                f"(drop=[{c!r}])."
            )


def csv_columns(
    path: str | os.PathLike[str], *, delimiter: str | None = None, max_bytes: int | None = None
) -> list[str]:
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
    if all(not is_missing(s) and parse_float(s) is not None for s in header):
        raise DataError(
            f"'{path}' has no header row: its first line is data ({join_values(header, 6)}). "
            "Add a first line naming the columns, e.g. 'x1,x2,label'."
        )
    for j, name in enumerate(header):
        if not name and not (j == 0 and len(header) > 1):  # an unnamed first: pandas' index
            raise DataError(
                f"'{path}' header column {j + 1} has no name ({join_values(header, 6)}); "
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


def load_csv(
    path: str | os.PathLike[str],
    target: str | Sequence[str],
    *,
    one_hot: bool = False,
    task: str | None = None,
    delimiter: str | None = None,
    drop_missing: bool = False,
    impute: str | None = None,
    max_bytes: int | None = None,
    features: Sequence[str] | None = None,
    drop: Sequence[str] | None = None,
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
        features: the feature columns to use (default: every column but the targets).
        drop: columns to leave out (an ``id``, a free-text note, a leak of the target).

    Files as people have them: an unnamed first column (the index pandas'
    ``df.to_csv()`` writes) is skipped with a warning; a column of only
    ``True``/``False`` (any case) is read as 1/0; an integer feature column with
    a different value on every row draws a warning (an identifier?).

    Raises:
        DataError: with a message naming the file, the problem, the values and the fix.
        ConfigError: an option out of range.
    """
    targets = _target_list(target)
    _check_load_options(task, drop_missing, impute, max_bytes)
    table = _read_table(path, delimiter, max_bytes)
    path = table.path
    _check_targets_present(path, table, targets)
    features = _select_features(path, table, targets, features, drop)
    _booleans_as_numbers(table, features)
    _warn_identifier_columns(path, table, features)
    _check_features_and_task(path, targets, features, task)
    categories = _categories(path, table, features, one_hot)
    bad = _missing_masks(table)
    keep = _rows_to_keep(path, table, bad, targets, drop_missing, impute)
    X, names, imputed = _feature_matrix(path, table, features, categories, keep, bad, impute)
    lines = table.lines[keep]
    y, task_out, classes = _encode_target(path, table, targets, keep, lines, task)
    return Dataset(
        X=X,
        y=y,
        task=task_out,
        feature_names=names,
        targets=list(targets),
        classes=classes,
        name=Path(path).stem,
        columns=features,
        categories=categories,
        impute=impute,
        source=path,
        imputed=imputed if imputed is not None and imputed.any() else None,
    )


def _check_load_options(
    task: str | None, drop_missing: bool, impute: str | None, max_bytes: int | None
) -> None:
    """Validate :func:`load_csv`'s options before the file is opened."""
    check_choice("task", task, (None, "classification", "binary", "multiclass", "regression"))
    check_choice("impute", impute, (None, "mean"))
    if drop_missing and impute is not None:
        raise ConfigError(
            "`drop_missing` and `impute` cannot both be set; choose --drop-missing or "
            "--impute mean."
        )
    if max_bytes is not None:
        check_number("max_bytes", max_bytes, ge=1, integer=True)


def _check_targets_present(path: str, table: _Table, targets: Sequence[str]) -> None:
    """Every target column is in the file's header, or a message naming the columns."""
    absent = [t for t in targets if t not in table.columns]
    if absent:
        raise DataError(_missing_target_message(path, absent[0], table.header))


def _check_features_and_task(
    path: str, targets: Sequence[str], features: Sequence[str], task: str | None
) -> None:
    """At least one feature column; several targets only for regression."""
    if not features:
        raise DataError(
            f"'{path}' has no feature columns: its only columns are the target(s) "
            f"{join_values(targets)}. Add input columns."
        )
    if len(targets) > 1 and task not in (None, "regression"):
        raise DataError(
            f"several target columns ({join_values(targets)}) are only supported for regression; "
            f"got task={task!r}. Pass one --target for classification."
        )


def _categories(
    path: str, table: _Table, features: Sequence[str], one_hot: bool
) -> dict[str, list[str]]:
    """The sorted categories of each text feature (an error unless ``one_hot``)."""
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
    return categories


def _missing_masks(table: _Table) -> _Masks:
    """Missing / non-finite values, per column that has any, as booleans over rows."""
    bad: _Masks = {}
    for c in table.header:
        col = table.columns[c]
        mask = (
            ~np.isfinite(col)
            if isinstance(col, np.ndarray)
            else np.array([s is None for s in col], dtype=bool)
        )
        if mask.any():
            bad[c] = mask
    return bad


def _rows_to_keep(
    path: str,
    table: _Table,
    bad: _Masks,
    targets: Sequence[str],
    drop_missing: bool,
    impute: str | None,
) -> NDArray[np.bool_]:
    """The rows to use (booleans), after the missing-value policy is applied or refused."""
    keep = np.ones(table.n_rows, dtype=bool)
    if not bad:
        return keep
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
                f"({lines_text(table.lines[bad[c]])}); targets are never imputed. "
                "Pass --drop-missing (drop_missing=True) to drop those rows."
            )
    else:
        raise DataError(_missing_values_message(path, table, bad, targets))
    return keep


def _feature_matrix(
    path: str,
    table: _Table,
    features: Sequence[str],
    categories: dict[str, list[str]],
    keep: NDArray[np.bool_],
    bad: _Masks,
    impute: str | None,
) -> tuple[NDArray[np.float64], list[str], NDArray[np.bool_] | None]:
    """``(X, names, imputed)``: the kept rows' features, one-hot encoded and mean-imputed.

    ``X`` is `(n, d)` float64, filled in place (no per-column copies); ``imputed``
    is `(n, d)` booleans marking the filled values, or ``None`` without ``impute``.
    """
    width = sum(len(categories[c]) if c in categories else 1 for c in features)
    check_encoded_size(path, int(keep.sum()), width, categories)
    X = np.zeros((int(keep.sum()), width))  # (n, d), filled in place: no per-column copies
    imputed = np.zeros(X.shape, dtype=bool) if impute == "mean" else None  # (n, d)
    names: list[str] = []
    j = 0
    for c in features:
        col = table.columns[c]
        if c in categories:
            codes = {cat: i for i, cat in enumerate(categories[c])}
            idx = np.array([codes.get(s, -1) if s is not None else -1 for s in col])[keep]
            rows = np.flatnonzero(idx >= 0)  # a missing category is an all-zero row
            X[rows, j + idx[rows]] = 1.0
            names.extend(f"{c}={cat}" for cat in categories[c])
            j += len(categories[c])
            continue
        x = np.asarray(col)[keep]
        if imputed is not None:
            imputed[:, j] = ~np.isfinite(x)
        if impute == "mean" and c in bad:
            finite = np.isfinite(x)
            if not finite.any():
                raise DataError(
                    f"'{path}' column {c!r} has no finite values to take the mean of; "
                    "remove the column or fill it."
                )
            x = np.where(finite, x, x[finite].mean())
        X[:, j] = x
        names.append(c)
        j += 1
    return X, names, imputed


def max_encoded_bytes() -> int:
    """The largest feature matrix one-hot encoding may build: ``min(MAX_ENCODED_BYTES, memory/8)``.

    Training holds a few copies of it (the splits, the standardised and the
    model-dtype arrays), so 1/8 of the available memory leaves room for them.
    """
    from ..backend.memory import available_memory

    return max(2**20, min(MAX_ENCODED_BYTES, available_memory() // 8))


def check_encoded_size(
    path: str | os.PathLike[str], n_rows: int, width: int, categories: dict[str, list[str]]
) -> None:
    """Refuse, with the numbers, a one-hot encoding too large for memory, before building it."""
    from ..backend.memory import format_bytes

    need, limit = 8 * n_rows * width, max_encoded_bytes()
    if need <= limit or not categories:
        return
    worst = max(categories, key=lambda c: len(categories[c]))
    raise DataError(
        f"one-hot encoding '{path}' would make a {n_rows:,} × {width:,} matrix "
        f"({format_bytes(need)}), more than the {format_bytes(limit)} limit; column {worst!r} "
        f"alone has {len(categories[worst]):,} categories. Drop that column, or group or hash "
        "its values into fewer categories first."
    )


def _target_list(target: str | Sequence[str]) -> list[str]:
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


def _missing_target_message(path: str, name: str, header: Sequence[str]) -> str:
    lower = {h.lower(): h for h in header}
    hint = f" Did you mean {lower[name.lower()]!r}?" if name.lower() in lower else ""
    if sum(parse_float(h) is not None for h in header) >= len(header) / 2:
        hint += " Its first line looks like data: the file needs a header row naming the columns."
    return (
        f"target column {name!r} is not in '{path}'.{hint} The columns are: "
        f"{join_values(header, 30)}. Pass one of them with --target."
    )


def _text_features_message(path: str, table: _Table, text_features: Sequence[str]) -> str:
    parts = []
    decimal_comma = False
    for c in text_features[:10]:
        # the first value that is not a number: the one that made the column text
        at, example = next(
            ((i, s) for i, s in enumerate(table.columns[c]) if s is not None and _is_text(s)),
            (0, ""),
        )
        decimal_comma |= _looks_like_decimal_comma(example)
        parts.append(f"{c!r} ({example!r} at line {int(table.lines[at])})")
    more = f", … ({len(text_features) - 10} more)" if len(text_features) > 10 else ""
    word, pron = ("column", "it") if len(text_features) == 1 else ("columns", "them")
    hint = (
        " Values like '1,5' look like decimal commas: write them as 1.5." if decimal_comma else ""
    )
    if any(_foreign_digits(p) for p in parts):
        hint += " Numbers must use the ASCII digits 0-9 (not, e.g., Arabic-Indic digits)."
    return (
        f"'{path}' has non-numeric feature {word}: {', '.join(parts)}{more}. "
        f"Pass --one-hot (one_hot=True) to encode {pron} as 0/1 columns, or remove {pron}.{hint}"
    )


def _foreign_digits(s: str) -> bool:
    return any(ch.isdigit() and not ch.isascii() for ch in s)


def _is_text(s: str) -> bool:
    return not is_missing(s) and _cell_float(s) is None


def _looks_like_decimal_comma(s: str) -> bool:
    head, _, tail = s.lstrip("-+").partition(",")
    return head.isdigit() and tail.isdigit()


def _missing_values_message(
    path: str, table: _Table, bad: _Masks, targets: Collection[str] = ()
) -> str:
    total = sum(int(m.sum()) for m in bad.values())
    parts = [f"column {c!r} at {lines_text(table.lines[m])}" for c, m in list(bad.items())[:5]]
    more = f"; … ({len(bad) - 5} more columns)" if len(bad) > 5 else ""
    word = "value" if total == 1 else "values"
    fix = "Pass --drop-missing (drop_missing=True) to drop those rows"
    if any(c not in targets for c in bad):  # only feature gaps can be imputed
        fix += ", or --impute mean (impute='mean') to fill feature gaps with the column mean"
    return f"'{path}' has {total} missing, NaN or infinite {word}: {'; '.join(parts)}{more}. {fix}."


def _encode_target(
    path: str,
    table: _Table,
    targets: Sequence[str],
    keep: NDArray[np.bool_],
    lines: NDArray[np.int64],
    task: str | None,
) -> tuple[NDArray[Any], str, list[Any] | None]:
    """``(y, task, classes)`` from the target column(s) of the kept rows."""
    if task == "regression" or len(targets) > 1:
        ys: list[NDArray[np.float64]] = []
        for t in targets:
            col = table.columns[t]
            if not isinstance(col, np.ndarray):
                bad = [(int(table.lines[i]), s) for i, s in enumerate(col) if keep[i]]
                bad = [(ln, s) for ln, s in bad if s is not None and parse_float(s) is None]
                shown = ", ".join(f"{s!r} (line {ln})" for ln, s in bad[:5])
                raise DataError(
                    f"regression target {t!r} in '{path}' has non-numeric values: {shown}. "
                    "Pass a numeric column, or --task classification for class labels."
                )
            ys.append(col[keep])
        return _stack_targets(ys), "regression", None

    t = targets[0]
    col = table.columns[t]
    labels: list[int | float] | list[str]
    if isinstance(col, np.ndarray):
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
        # _rows_to_keep dropped or refused the rows with a missing target
        texts = [s for i, s in enumerate(col) if keep[i] and s is not None]
        labels = sorted(set(texts))
        _warn_mixed_labels(path, t, labels)
        codes = {s: i for i, s in enumerate(labels)}
        y = np.array([codes[s] for s in texts], dtype=np.int64)
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
            f"({join_values(labels, 10)}). Use --task classification to infer binary/multiclass."
        )
    return y, ("binary" if k == 2 else "multiclass"), labels


def _stack_targets(ys: list[NDArray[np.float64]]) -> NDArray[np.float64]:
    """One target's `(n,)` values, or several targets' as `(n, t)` columns, in float64."""
    y = ys[0] if len(ys) == 1 else np.stack(ys, axis=1)  # (n,) or (n, t)
    return y.astype(np.float64)


def _warn_mixed_labels(path: str, name: str, labels: list[str]) -> None:
    """A target holding numbers and text (0, 1 and 'cat') is most likely a data error: warn."""
    import warnings

    numbers = [s for s in labels if parse_float(s) is not None]
    text = [s for s in labels if parse_float(s) is None]
    if numbers and text:
        warnings.warn(
            f"target column {name!r} in '{path}' mixes numbers ({join_values(numbers, 5)}) "
            f"and text ({join_values(text, 5)}); all {len(labels)} values are taken as class "
            "labels. If the text is a data error, fix those rows.",
            UserWarning,
            stacklevel=4,
        )


def load_csv_for_prediction(
    path: str | os.PathLike[str],
    preprocessor: Preprocessor,
    target: str | Sequence[str] | None = None,
    *,
    delimiter: str | None = None,
    ignore_extra: bool = False,
    ignore: Sequence[str] = (),
    with_target: bool | None = None,
    max_bytes: int | None = None,
) -> tuple[NDArray[np.float64], NDArray[Any] | None]:
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
    targets, present = _prediction_targets(path, table, preprocessor, target, with_target)
    _check_model_columns(path, table, preprocessor, present, ignore, ignore_extra)
    X = _model_inputs(path, table, preprocessor)
    if not targets:
        return X, None
    if preprocessor.task == "regression":
        return X, _regression_targets(path, table, targets)
    return X, _class_targets(path, table, targets[0], preprocessor.classes)


def _prediction_targets(
    path: str,
    table: _Table,
    preprocessor: Preprocessor,
    target: str | Sequence[str] | None,
    with_target: bool | None,
) -> tuple[list[str], list[str]]:
    """``(targets to read, targets present)``: none to read when ignored or absent."""
    targets = list(preprocessor.targets) if target is None else _target_list(target)
    if with_target or (with_target is None and target is not None):
        _check_targets_present(path, table, targets)
    present = [t for t in targets if t in table.columns]
    if with_target is False or len(present) < len(targets):
        targets = []
    return targets, present


def _check_model_columns(
    path: str,
    table: _Table,
    preprocessor: Preprocessor,
    present: Collection[str],
    ignore: Iterable[str],
    ignore_extra: bool,
) -> None:
    """The file has every column the model was trained on and (unless ignored) no others."""
    absent = [c for c in preprocessor.columns if c not in table.columns]
    if absent:
        raise DataError(
            f"'{path}' lacks the column(s) {join_values(absent)} that the model was trained on; "
            f"it needs {join_values(preprocessor.columns, 30)}."
        )
    extra = [
        c
        for c in table.header
        if c not in preprocessor.columns and c not in present and c not in set(ignore)
    ]
    if extra and not ignore_extra:
        raise DataError(
            f"'{path}' has column(s) the model was not trained on: {join_values(extra)}. Remove "
            f"them; the model uses {join_values(preprocessor.columns, 30)}"
            f" (and the target {preprocessor.target_name!r})."
        )


def _model_inputs(path: str, table: _Table, preprocessor: Preprocessor) -> NDArray[np.float64]:
    """`(n, d)` model inputs: the columns encoded, checked for gaps, and standardised."""
    n = table.n_rows
    check_encoded_size(path, n, len(preprocessor.feature_names), preprocessor.categories)
    # Numbers stay float arrays (NaN = missing); categorical columns keep their text.
    columns = [table.columns[c] for c in preprocessor.columns]
    X_raw = preprocessor.encode_columns(columns, n_rows=n, lines=table.lines.tolist())
    if preprocessor.impute is None and not np.all(np.isfinite(X_raw)):
        bad: _Masks = {}
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
    return preprocessor.transform(X_raw)


def _regression_targets(path: str, table: _Table, targets: Sequence[str]) -> NDArray[np.float64]:
    """`(n,)` or `(n, t)` float64 target values, which must all be finite numbers."""
    ys: list[NDArray[np.float64]] = []
    for t in targets:
        col = table.columns[t]
        if not isinstance(col, np.ndarray) or not np.all(np.isfinite(col)):
            raise DataError(
                f"target column {t!r} in '{path}' must hold finite numbers for this "
                "regression model; fix or remove the bad rows."
            )
        ys.append(col)
    return _stack_targets(ys)


def _class_targets(
    path: str, table: _Table, t: str, classes: Sequence[Any] | None
) -> NDArray[np.int64]:
    """`(n,)` int64 class indices of target ``t``; every label filled and known to the model."""
    if classes is None:
        raise ConfigError("the model has no class labels: it is not a classifier.")
    col = table.columns[t]
    labels: list[Any] = col.tolist() if isinstance(col, np.ndarray) else col
    missing = [i for i, v in enumerate(labels) if v is None or (isinstance(v, float) and v != v)]
    if missing:
        raise DataError(
            f"target column {t!r} in '{path}' has missing labels at "
            f"{lines_text(table.lines[missing])}; fill or remove those rows."
        )
    try:
        return check_labels_known(labels, classes)
    except DataError as e:
        raise DataError(f"target column {t!r} in '{path}': {e}") from None
