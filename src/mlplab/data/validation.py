"""Input checks for arrays and labels, with one message style.

:func:`check_X`, :func:`check_X_y`, :func:`encode_labels` and
:func:`check_labels_known` turn user arrays into what the library computes on,
or raise a :class:`~mlplab.errors.DataError` that names the problem, the value
and the fix ("expected 4 features, got 3"). Also the small value helpers the
CSV reader and the preprocessing share (missing-value tokens, number parsing).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ..errors import DataError

if TYPE_CHECKING:
    from ..nn.mlp import Array

#: Field values read as "missing" (compared case-insensitively, after stripping).
MISSING_TOKENS = frozenset({"", "na", "nan", "n/a", "null", "none", "?"})


def is_missing(s: str) -> bool:
    return s.lower() in MISSING_TOKENS


def parse_float(s: str) -> float | None:
    """``float(s)`` or ``None``; refuses Python-only spellings like ``1_000``.

    Only ASCII numerals are numbers, as in pandas, R and spreadsheets: Python's
    ``float`` also reads other scripts' digits (Arabic-Indic ``'٣'`` is 3.0), which
    a CSV reader should not guess at.
    """
    if "_" in s or not s.isascii():
        return None
    try:
        return float(s)
    except ValueError:
        return None


def join_values(values: Iterable[object], limit: int = 10) -> str:
    values = list(values)
    shown = ", ".join(repr(v) for v in values[:limit])
    return shown + (f", … ({len(values) - limit} more)" if len(values) > limit else "")


def lines_text(lines: Iterable[int], limit: int = 5) -> str:
    lines = [int(v) for v in lines]
    word = "line" if len(lines) == 1 else "lines"
    shown = ", ".join(str(v) for v in lines[:limit])
    more = f", … ({len(lines) - limit} more)" if len(lines) > limit else ""
    return f"{word} {shown}{more}"


def check_X(X: Array, n_features: int | None = None, name: str = "X") -> NDArray[np.float64]:
    """``X`` as a finite float64 `(n, d)` NumPy array, or a :class:`DataError` saying why not.

    Checks, in order: numeric dtype (no strings/objects), rank 2, at least one
    row and one column, ``d == n_features`` when given, no NaN/inf.
    """
    from ..backend.arrays import to_numpy

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


def length_message(n_x: int, n_y: int) -> str:
    return (
        f"`X` and `y` have different numbers of samples: X has {n_x} rows, y has {n_y}. "
        "Pass one target per row."
    )


def check_X_y(
    X: Array, y: ArrayLike, *, n_features: int | None = None, y_numeric: bool = False
) -> tuple[NDArray[np.float64], NDArray[Any]]:
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
        raise DataError(length_message(len(X), len(y)))
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


def encode_labels(y: ArrayLike, *, min_classes: int = 2) -> tuple[NDArray[np.int64], list[Any]]:
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


def check_labels_known(y: ArrayLike, classes: Sequence[Any]) -> NDArray[np.int64]:
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
    unseen: dict[tuple[str, float | str], Any] = {}
    for i, v in enumerate(y.tolist()):
        k = keys.get(_label_key(v), -1)
        if k < 0:
            unseen.setdefault(_label_key(v), v)
        idx[i] = k
    if unseen:
        raise DataError(
            f"`y` has {len(unseen)} label(s) unseen at fit time: "
            f"{join_values(unseen.values(), 10)}. "
            f"The model knows the classes {join_values(classes, 20)}; retrain with those labels "
            "or remove the rows."
        )
    return idx


def _label_key(v: object) -> tuple[str, float | str]:
    """A comparison key: numbers (and numeric strings) by value, other text as text."""
    if isinstance(v, bool | np.bool_):
        return ("s", str(bool(v)).lower())
    if isinstance(v, int | float | np.number):
        return ("n", float(v))
    s = str(v).strip()
    f = parse_float(s)
    return ("n", f) if f is not None else ("s", s.lower() if s.lower() in ("true", "false") else s)


def _jsonable(v: object) -> Any:
    """NumPy scalars → Python int/float/str/bool (JSON-able)."""
    return v.item() if isinstance(v, np.generic) else v
