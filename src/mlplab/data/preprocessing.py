"""Preprocessing: raw feature rows → model inputs, as a JSON-able recipe.

:class:`Standardizer` is per-column ``x' = (x − μ) / s``. :class:`Preprocessor`
is the whole recipe a model file stores (input columns, one-hot categories,
imputation, standardisation, the target's classes or scale), so prediction
needs nothing but the model file.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ..errors import ConfigError, DataError, ModelFileError
from .dataset import TASKS
from .validation import check_labels_known, check_X, is_missing, join_values, parse_float

if TYPE_CHECKING:
    from .dataset import Dataset

_PREPROCESSOR_VERSION = 1


class Standardizer:
    """Per-column standardisation ``x' = (x − μ) / s`` (``s = 1`` for constant columns).

    Attributes after :meth:`fit`: ``mean`` and ``scale``, `(d,)` float64.
    """

    def __init__(self, mean: ArrayLike | None = None, scale: ArrayLike | None = None) -> None:
        self.mean = None if mean is None else np.asarray(mean, dtype=np.float64)
        self.scale = None if scale is None else np.asarray(scale, dtype=np.float64)

    def fit(
        self, X: ArrayLike, *, names: Sequence[str] | None = None, what: str = "`X`"
    ) -> Standardizer:
        """Learn ``μ`` and ``s`` (population std) of each column of `(n, d)` ``X``.

        ``names`` and ``what`` name the columns in an error (e.g. the target's).
        """
        X = check_X(X)
        with np.errstate(over="ignore", invalid="ignore"):
            mean, std = X.mean(axis=0), X.std(axis=0)
        bad = np.flatnonzero(~(np.isfinite(mean) & np.isfinite(std)))
        if bad.size:
            shown = [names[i] for i in bad[:10]] if names is not None else bad[:10].tolist()
            raise DataError(
                f"column(s) {shown} of {what} are too large to standardise (their mean "
                "or standard deviation overflows float64); rescale them first."
            )
        self.mean = mean
        # A constant column would divide by 0: keep its scale at 1 (it becomes all zeros).
        self.scale = np.where(std > 1e-12 * np.maximum(1.0, np.abs(self.mean)), std, 1.0)
        return self

    def _fitted(self) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """``(mean, scale)``, or a ConfigError if not fitted."""
        if self.mean is None or self.scale is None:
            raise ConfigError("this Standardizer is not fitted yet; call fit(X) first.")
        return self.mean, self.scale

    def transform(self, X: ArrayLike) -> NDArray[np.float64]:
        """`(n, d)` → `(n, d)` standardised."""
        mean, scale = self._fitted()
        X = check_X(X, n_features=len(mean))
        return (X - mean) / scale

    def inverse_transform(self, Z: ArrayLike) -> NDArray[np.float64]:
        """Undo :meth:`transform`: ``x = z·s + μ``."""
        mean, scale = self._fitted()
        Z = check_X(Z, n_features=len(mean))
        return Z * scale + mean

    def fit_transform(self, X: ArrayLike) -> NDArray[np.float64]:
        """:meth:`fit` then :meth:`transform`."""
        return self.fit(X).transform(X)

    def to_dict(self) -> dict[str, list[float]]:
        """JSON-able ``{"mean": [...], "scale": [...]}``."""
        mean, scale = self._fitted()
        return {"mean": mean.tolist(), "scale": scale.tolist()}

    @classmethod
    def from_dict(cls, d: object) -> Standardizer:
        """Inverse of :meth:`to_dict`; malformed input is a :class:`ModelFileError`."""
        mean = _float_list(d, "mean", "standardizer")
        scale = _float_list(d, "scale", "standardizer")
        if len(mean) != len(scale) or any(s <= 0 for s in scale):
            raise ModelFileError(
                "standardizer metadata is inconsistent: `mean` and `scale` must have the same "
                f"length and positive scales (lengths {len(mean)}, {len(scale)})."
            )
        return cls(mean, scale)


def _float_list(d: object, key: str, what: str) -> list[float]:
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

    #: The column means the imputation fills (set by :meth:`fit` / :meth:`from_dict`).
    _fill: NDArray[np.float64]

    def __init__(self, *, standardize: bool = True) -> None:
        self.standardize = bool(standardize)
        self.columns: list[str] = []
        self.categories: dict[str, list[str]] = {}
        self.feature_names: list[str] = []
        self.impute: str | None = None
        self.scaler: Standardizer | None = None
        self.task: str | None = None
        self.targets: list[str] = ["y"]  # the target column names (a name may hold a comma)
        self.classes: list[Any] | None = None
        self.target_scaler: Standardizer | None = None
        self.unseen_rows = 0  # rows of the last encode with a category unseen at training

    @property
    def target_name(self) -> str:
        """The target's name; several targets' names comma-joined (for display)."""
        return ",".join(self.targets)

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
        self.task, self.targets = dataset.task, list(dataset.targets)
        self.classes = None if dataset.classes is None else list(dataset.classes)
        X = np.asarray(dataset.X, dtype=np.float64)
        # Imputation learns its fill from these rows: gaps left open (NaN) by the caller get
        # the column mean of this data, the same value `transform` fills at predict time.
        self._fill = np.nanmean(X, axis=0) if self.impute == "mean" and X.size else X.mean(0)
        if self.impute == "mean":
            if not np.all(np.isfinite(self._fill)):
                raise DataError(
                    "a column has no values to impute from in the training rows; "
                    "remove it or fill it."
                )
            X = np.where(np.isfinite(X), X, self._fill)
        scaler = Standardizer().fit(X, names=self.feature_names, what="the features")
        one_hot = np.array([self._is_one_hot(n) for n in self.feature_names], dtype=bool)
        if not self.standardize:
            one_hot[:] = True
        mean, scale = scaler._fitted()
        scaler.mean = np.where(one_hot, 0.0, mean)
        scaler.scale = np.where(one_hot, 1.0, scale)
        self.scaler = scaler
        self.target_scaler = None
        if dataset.task == "regression":
            y = np.asarray(dataset.y, dtype=np.float64).reshape(len(dataset.y), -1)
            self.target_scaler = Standardizer().fit(y, names=self.targets, what="the target")
        return self

    def _is_one_hot(self, feature_name: str) -> bool:
        col, sep, _ = feature_name.partition("=")
        return bool(sep) and col in self.categories

    def _fitted(self) -> Standardizer:
        """The feature scaler, or a ConfigError if not fitted."""
        if self.scaler is None:
            raise ConfigError("this Preprocessor is not fitted yet; call fit(dataset) first.")
        return self.scaler

    def _target_scaler(self) -> Standardizer:
        if self.target_scaler is None:
            raise ConfigError("this Preprocessor has no target scaler (it is not for regression).")
        return self.target_scaler

    def transform(self, X_raw: ArrayLike) -> NDArray[np.float64]:
        """Numeric `(n, d)` raw features (one-hot already expanded) → `(n, d)` model inputs."""
        scaler = self._fitted()
        arr = np.asarray(X_raw) if not isinstance(X_raw, np.ndarray) else X_raw
        if self.impute == "mean" and arr.dtype.kind == "f" and arr.ndim == 2:
            if arr.shape[1] == self.n_features and not np.all(np.isfinite(arr)):
                arr = np.where(np.isfinite(arr), arr, self._fill)
        return scaler.transform(arr)

    def encode(
        self,
        rows: Iterable[Iterable[Any] | dict[str, Any]],
        *,
        lines: Sequence[int] | None = None,
    ) -> NDArray[np.float64]:
        """Raw rows (sequences of values in :attr:`columns` order, or dicts by column) →
        numeric `(n, d)` features with categorical columns one-hot expanded.

        Missing values become NaN (filled by :meth:`transform` when the training
        data was imputed). A category unseen at training time is encoded as all
        zeros (scikit-learn's ``handle_unknown="ignore"``) with an
        :class:`~mlplab.errors.MLPLabWarning`; :attr:`unseen_rows` counts the
        rows of the last call that had one.
        """
        self._fitted()
        table: list[list[Any]] = []
        for i, row in enumerate(rows):
            if isinstance(row, dict):
                absent = [c for c in self.columns if c not in row]
                if absent:
                    raise DataError(f"row {i} lacks the column(s) {join_values(absent)}.")
                table.append([row[c] for c in self.columns])
            else:
                values = list(row)
                if len(values) != len(self.columns):
                    raise DataError(
                        f"row {i} has {len(values)} values; expected {len(self.columns)} "
                        f"(columns {join_values(self.columns)})."
                    )
                table.append(values)
        columns = [[row[j] for row in table] for j in range(len(self.columns))]
        return self.encode_columns(columns, n_rows=len(table), lines=lines)

    def encode_columns(
        self,
        columns: Sequence[Sequence[Any] | NDArray[Any]],
        *,
        n_rows: int,
        lines: Sequence[int] | None = None,
    ) -> NDArray[np.float64]:
        """Like :meth:`encode`, from one sequence of values per input column.

        A float array is taken as is (NaN = missing); other values are parsed.
        """
        parts: list[NDArray[np.float64]] = []
        unseen = np.zeros(n_rows, dtype=bool)
        found: dict[str, set[str]] = {}
        for c, values in zip(self.columns, columns, strict=True):
            if c in self.categories:
                block, new = self._one_hot(c, values)  # (n, k_c), (n,) bool
                unseen |= new
                if new.any():
                    found[c] = {_category_text(values[int(i)]) for i in np.flatnonzero(new)}
                parts.append(block)
            elif isinstance(values, np.ndarray) and values.dtype.kind == "f":
                parts.append(values.astype(np.float64)[:, None])  # (n, 1)
            else:
                parts.append(self._numbers(c, values, lines)[:, None])  # (n, 1)
        self.unseen_rows = int(unseen.sum())
        if found:
            _warn_unseen(found, unseen, lines, n_rows)
        if not parts:
            return np.empty((n_rows, 0))
        return np.concatenate(parts, axis=1)  # (n, d)

    def _one_hot(
        self, column: str, values: Sequence[Any] | NDArray[Any]
    ) -> tuple[NDArray[np.float64], NDArray[np.bool_]]:
        """The `(n, k)` one-hot block and the `(n,)` rows whose category is unseen."""
        cats = self.categories[column]
        codes = {cat: k for k, cat in enumerate(cats)}
        idx = np.empty(len(values), dtype=np.int64)
        unseen = np.zeros(len(values), dtype=bool)
        for i, v in enumerate(values):
            if _is_missing_value(v):
                idx[i] = -1
                continue
            k = codes.get(_category_text(v))
            unseen[i] = k is None
            idx[i] = -2 if k is None else k
        block = (idx[:, None] == np.arange(len(cats))).astype(np.float64)  # (n, k)
        if not self.impute:
            block[idx == -1] = math.nan  # a missing category is an error unless imputing
        return block, unseen

    @staticmethod
    def _numbers(
        column: str, values: Sequence[Any] | NDArray[Any], lines: Sequence[int] | None
    ) -> NDArray[np.float64]:
        out = np.empty(len(values), dtype=np.float64)
        for i, v in enumerate(values):
            if _is_missing_value(v):
                out[i] = math.nan
                continue
            f = _text_number(v) if isinstance(v, str) else _num_or_none(v)
            if f is None:
                where = f"line {lines[i]}" if lines is not None else f"row {i}"
                raise DataError(
                    f"column {column!r} needs a number but has {v!r} at {where}. Fix the value."
                )
            out[i] = f
        return out

    def apply(self, rows_or_X: Sequence[Any] | NDArray[Any]) -> NDArray[np.float64]:
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

    def transform_target(self, y: ArrayLike) -> NDArray[Any]:
        """Regression targets → standardised `(n,)`/`(n, t)`; class labels → indices."""
        self._fitted()
        if self.task != "regression":
            if self.classes is None:
                raise ConfigError("this Preprocessor has no classes; fit it on labelled data.")
            return check_labels_known(y, self.classes)
        y = np.asarray(y, dtype=np.float64)
        z = self._target_scaler().transform(y.reshape(len(y), -1))
        return z.reshape(y.shape)

    def inverse_transform_target(self, z: ArrayLike) -> NDArray[np.float64]:
        """Standardised regression predictions → target units (shape kept)."""
        self._fitted()
        if self.task != "regression":
            raise ConfigError("inverse_transform_target applies to regression models only.")
        z = np.asarray(z, dtype=np.float64)
        target_scaler = self._target_scaler()
        t = len(target_scaler._fitted()[0])
        y = target_scaler.inverse_transform(z.reshape(len(z), t))
        return y.reshape(z.shape)

    def decode_labels(self, indices: ArrayLike) -> list[Any]:
        """Class indices → original labels."""
        if self.classes is None:
            raise ConfigError("decode_labels applies to classification models only.")
        return [self.classes[int(i)] for i in np.asarray(indices).ravel()]

    def to_dict(self) -> dict[str, Any]:
        """JSON-able description (stored in the model file's metadata)."""
        scaler = self._fitted()
        return {
            "version": _PREPROCESSOR_VERSION,
            "columns": list(self.columns),
            "categories": {c: list(v) for c, v in self.categories.items()},
            "feature_names": list(self.feature_names),
            "standardize": self.standardize,
            "impute": self.impute,
            "fill_values": self._fill.tolist(),
            "scaler": scaler.to_dict(),
            "task": self.task,
            "target_name": self.target_name,  # what mlplab read before `targets` existed
            "targets": list(self.targets),
            "classes": None if self.classes is None else list(self.classes),
            "target_scaler": None if self.target_scaler is None else self.target_scaler.to_dict(),
        }

    @classmethod
    def from_dict(cls, d: object) -> Preprocessor:
        """Inverse of :meth:`to_dict`; anything malformed is a :class:`ModelFileError`."""
        if not isinstance(d, dict) or d.get("version") != _PREPROCESSOR_VERSION:
            got = d.get("version") if isinstance(d, dict) else type(d).__name__
            raise ModelFileError(
                f"preprocessing metadata must be a dict with version {_PREPROCESSOR_VERSION}; "
                f"got {got!r}. The model file is corrupted or from another program."
            )
        p = cls(standardize=bool(d.get("standardize", True)))
        _inputs_from_dict(p, d)
        _targets_from_dict(p, d)
        return p


def _strings(d: dict[str, Any], key: str) -> list[str]:
    """Field ``key`` of preprocessing metadata ``d``, which must be a list of strings."""
    v = d.get(key)
    if not isinstance(v, list) or not all(isinstance(s, str) for s in v):
        raise ModelFileError(f"preprocessing metadata field {key!r} must be a list of strings.")
    return list(v)


def _inputs_from_dict(p: Preprocessor, d: dict[str, Any]) -> None:
    """Set ``p``'s input side from metadata ``d``: columns, categories, imputation, scaler."""
    p.columns, p.feature_names = _strings(d, "columns"), _strings(d, "feature_names")
    cats = d.get("categories")
    if not isinstance(cats, dict) or not all(
        c in p.columns and isinstance(v, list) and all(isinstance(s, str) for s in v)
        for c, v in cats.items()
    ):
        raise ModelFileError(
            "preprocessing metadata field 'categories' must map input columns to lists of strings."
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
    mean = p.scaler._fitted()[0]
    if len(mean) != len(p.feature_names) or len(p._fill) != len(p.feature_names):
        raise ModelFileError(
            f"preprocessing metadata is inconsistent: {len(p.feature_names)} features but "
            f"{len(mean)} standardisation statistics."
        )


def _targets_from_dict(p: Preprocessor, d: dict[str, Any]) -> None:
    """Set ``p``'s target side from metadata ``d``: task, target names, classes, scaler."""
    if d.get("task") not in TASKS:
        raise ModelFileError(f"unknown task {d.get('task')!r} in preprocessing metadata.")
    p.task = d["task"]
    # older files have only the comma-joined target_name
    targets = d.get("targets", str(d.get("target_name", "y")).split(","))
    if not isinstance(targets, list) or not targets or not all(isinstance(t, str) for t in targets):
        raise ModelFileError(f"bad target names {targets!r} in preprocessing metadata.")
    p.targets = targets
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
    n_targets = 1 if p.target_scaler is None else len(p.target_scaler._fitted()[0])
    if len(p.targets) != n_targets:
        raise ModelFileError(
            f"preprocessing metadata names {len(p.targets)} target(s) {p.targets} for "
            f"{n_targets} target value(s)."
        )


def _text_number(s: str) -> float | None:
    """A number from text: ``"1.5"``; ``"True"``/``"False"`` (any case) as 1/0."""
    s = s.strip()
    flag = {"true": 1.0, "false": 0.0}.get(s.lower())
    return flag if flag is not None else parse_float(s)


def _warn_unseen(
    found: dict[str, set[str]],
    unseen: NDArray[np.bool_],
    lines: Sequence[int] | None,
    n_rows: int,
) -> None:
    import warnings

    from ..errors import MLPLabWarning

    first = int(np.flatnonzero(unseen)[0])
    where = f"line {lines[first]}" if lines is not None else f"row {first}"
    cols = "; ".join(f"column {c!r}: {join_values(sorted(v), 5)}" for c, v in found.items())
    warnings.warn(
        f"{int(unseen.sum())} of {n_rows} rows have a category unseen at training time "
        f"({cols}; first at {where}); they are encoded as all zeros in that column's one-hot "
        "block (scikit-learn's handle_unknown='ignore'). Retrain with those categories to "
        "learn them.",
        MLPLabWarning,
        stacklevel=4,
    )


def _num_or_none(v: object) -> float | None:
    if isinstance(v, bool):
        return float(v)
    if isinstance(v, int | float | np.number):
        return float(v)
    return None


def _is_missing_value(v: object) -> bool:
    if v is None:
        return True
    if isinstance(v, str):
        return is_missing(v.strip())
    return isinstance(v, float | np.floating) and math.isnan(v)


def _category_text(v: object) -> str:
    """A category as the text the CSV held: ``1.0`` → ``"1"``, ``" red "`` → ``"red"``."""
    if isinstance(v, float | np.floating) and float(v).is_integer():
        return str(int(v))
    return str(v).strip()
