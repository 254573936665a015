"""The preprocessing and reading of outputs an export carries, as plain numbers.

A model trained by ``mlplab train`` (or the scikit-learn estimators) stores a
:class:`~mlplab.data.Preprocessor`: one-hot categories, mean imputation,
standardisation ``(x − μ) / s`` and, for regression, the target's ``μ_t, s_t``.
:class:`Recipe` is that preprocessor as the exports need it:

* **inputs**: the numeric columns (raw numbers, NaN = missing) and the
  categorical ones (ONNX: their text; PyTorch / Equinox, which have no string
  tensors: the index of the category, see :meth:`Recipe.encode`);
* **features**: numeric columns imputed (``NaN → fill``) and standardised in
  float64 — mlplab's own arithmetic, so the exports match it to the bit before
  the first layer — then one-hot blocks (an unseen or missing category is all
  zeros, scikit-learn's ``handle_unknown="ignore"``), put in the model's
  feature order and cast to the model's dtype;
* **outputs**: regression values in target units ``z·s_t + μ_t``;
  class probabilities (sigmoid of one logit as ``[1 − p, p]``, or a softmax)
  and the label map ``classes``.

The standardisation is kept as its own affine step rather than multiplied into
the first layer's weights: ``W (x − μ)/s + b`` and ``(W/s) x + (b − Wμ/s)`` are
the same function, but the folded form cancels large terms (``|μ|/s ≫ 1``) and
would differ from mlplab by far more than float rounding.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from ..errors import DataError, ModelFileError
from ..nn.mlp import MLP

if TYPE_CHECKING:
    from ..data.preprocessing import Preprocessor

#: How the network's outputs are read: regression values, or class probabilities.
OUTPUTS = ("values", "sigmoid", "probability", "softmax")


@dataclass
class Recipe:
    """Raw feature rows → model inputs → mlplab's outputs (see the module docstring)."""

    columns: list[str]
    categories: dict[str, list[str]]
    impute: bool
    fill: list[float]  # per numeric column
    mean: list[float]  # per numeric column
    scale: list[float]  # per numeric column
    order: list[int]  # feature i = concat(numeric, one-hot blocks)[:, order[i]]
    output: str
    classes: list[Any] | None = None
    targets: list[str] = field(default_factory=lambda: ["y"])
    target_mean: list[float] | None = None
    target_scale: list[float] | None = None

    # --- derived ---

    @property
    def numeric(self) -> list[str]:
        """The numeric input columns, in column order."""
        return [c for c in self.columns if c not in self.categories]

    @property
    def categorical(self) -> list[str]:
        """The categorical input columns, in column order."""
        return [c for c in self.columns if c in self.categories]

    @property
    def labels(self) -> list[str]:
        """The class labels as text (what ``mlplab predict`` writes)."""
        return [str(c) for c in self.classes or []]

    @property
    def is_regression(self) -> bool:
        return self.output == "values"

    # --- construction ---

    @classmethod
    def of(cls, preprocessor: Preprocessor | Recipe, model: MLP) -> Recipe:
        """``preprocessor`` as a recipe for ``model`` (a recipe is returned as it is)."""
        if isinstance(preprocessor, Recipe):
            return preprocessor
        return cls.from_preprocessor(preprocessor, model)

    @classmethod
    def from_preprocessor(cls, prep: Preprocessor, model: MLP) -> Recipe:
        """The recipe of a fitted :class:`~mlplab.data.Preprocessor` and its model."""
        prep._fitted()
        scaler = prep.scaler
        assert scaler is not None and scaler.mean is not None and scaler.scale is not None
        if prep.n_features != model.n_inputs:
            raise DataError(
                f"the preprocessing makes {prep.n_features} inputs but the network takes "
                f"{model.n_inputs}."
            )
        numeric_at: dict[str, int] = {}
        one_hot_at: dict[str, int] = {}
        order: list[int] = []
        n_numeric = sum(c not in prep.categories for c in prep.columns)
        offset = n_numeric
        for c in prep.columns:
            if c in prep.categories:
                one_hot_at[c] = offset
                offset += len(prep.categories[c])
            else:
                numeric_at[c] = len(numeric_at)
        j = 0  # walk the features in the preprocessor's order
        numeric_features: list[int] = []
        for c in prep.columns:
            if c in prep.categories:
                order += [one_hot_at[c] + k for k in range(len(prep.categories[c]))]
                j += len(prep.categories[c])
            else:
                order.append(numeric_at[c])
                numeric_features.append(j)
                j += 1
        pick = np.asarray(numeric_features, dtype=np.int64)
        ts = prep.target_scaler
        return cls(
            columns=list(prep.columns),
            categories={c: list(v) for c, v in prep.categories.items()},
            impute=prep.impute == "mean",
            fill=np.asarray(prep._fill, np.float64)[pick].tolist(),
            mean=scaler.mean[pick].tolist(),
            scale=scaler.scale[pick].tolist(),
            order=order,
            output=_output_kind(prep.task, model),
            classes=None if prep.classes is None else list(prep.classes),
            targets=list(prep.targets),
            target_mean=None if ts is None else np.asarray(ts.mean).tolist(),
            target_scale=None if ts is None else np.asarray(ts.scale).tolist(),
        )

    def to_dict(self) -> dict[str, Any]:
        """JSON-able (stored in every export's header)."""
        return {
            "columns": list(self.columns),
            "numeric_columns": self.numeric,
            "categorical_columns": self.categorical,
            "categories": {c: list(v) for c, v in self.categories.items()},
            "impute": self.impute,
            "fill": list(self.fill),
            "mean": list(self.mean),
            "scale": list(self.scale),
            "order": list(self.order),
            "output": self.output,
            "classes": self.classes,
            "labels": self.labels if self.classes is not None else None,
            "targets": list(self.targets),
            "target_mean": self.target_mean,
            "target_scale": self.target_scale,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Recipe:
        """Inverse of :meth:`to_dict`; anything malformed is a :class:`ModelFileError`."""
        try:
            recipe = cls(
                columns=[str(c) for c in d["columns"]],
                categories={str(c): [str(v) for v in vs] for c, vs in d["categories"].items()},
                impute=bool(d["impute"]),
                fill=[float(v) for v in d["fill"]],
                mean=[float(v) for v in d["mean"]],
                scale=[float(v) for v in d["scale"]],
                order=[int(i) for i in d["order"]],
                output=str(d["output"]),
                classes=d.get("classes"),
                targets=[str(t) for t in d.get("targets", ["y"])],
                target_mean=d.get("target_mean"),
                target_scale=d.get("target_scale"),
            )
        except (KeyError, TypeError, ValueError, AttributeError) as err:
            raise ModelFileError(f"the export's preprocessing header is invalid: {err!r}") from None
        n_num = len(recipe.numeric)
        width = n_num + sum(len(v) for v in recipe.categories.values())
        if (
            recipe.output not in OUTPUTS
            or not all(len(v) == n_num for v in (recipe.fill, recipe.mean, recipe.scale))
            or sorted(recipe.order) != list(range(width))
            or (recipe.output == "values") != (recipe.target_mean is not None)
        ):
            raise ModelFileError("the export's preprocessing header is inconsistent.")
        return recipe

    # --- raw rows → the arrays the exports take ---

    def encode(self, rows: Any) -> np.ndarray:
        """Raw rows → the `(n, n_columns)` float64 array the PyTorch / Equinox exports take.

        ``rows``: a pandas DataFrame, a list of dicts by column, or a list of
        rows in :attr:`columns` order. Numeric columns become numbers (NaN for
        missing); a categorical column becomes the index of its category
        (``-1`` for an unseen or missing one, which the module encodes as all
        zeros).
        """
        table = _columns_of(rows, self.columns)
        out = np.empty((len(table[0]) if table else 0, len(self.columns)))
        for j, (c, values) in enumerate(zip(self.columns, table, strict=True)):
            if c in self.categories:
                codes = {cat: k for k, cat in enumerate(self.categories[c])}
                out[:, j] = [codes.get(_text(v), -1) for v in values]
            else:
                out[:, j] = [_number(v, c) for v in values]
        return out

    def onnx_inputs(self, rows: Any) -> dict[str, np.ndarray]:
        """Raw rows → the ONNX export's inputs ``{"x": float64, "categories": str}``."""
        table = dict(zip(self.columns, _columns_of(rows, self.columns), strict=True))
        n = len(next(iter(table.values()))) if table else 0
        feeds = {}
        if self.numeric:
            feeds["x"] = np.array(
                [[_number(v, c) for v in table[c]] for c in self.numeric], dtype=np.float64
            ).T.reshape(n, len(self.numeric))
        if self.categorical:
            feeds["categories"] = np.array(
                [[_text(v) for v in table[c]] for c in self.categorical], dtype=object
            ).T.reshape(n, len(self.categorical))
        return feeds


def _output_kind(task: str | None, model: MLP) -> str:
    if task == "regression":
        return "values"
    if model.n_outputs == 1:
        last = model.activations[-1].name
        return "probability" if last in ("sigmoid", "heaviside") else "sigmoid"
    return "softmax"


def _columns_of(rows: Any, columns: list[str]) -> list[list[Any]]:
    """One list of values per column from a DataFrame, dicts or sequences."""
    if hasattr(rows, "columns") and hasattr(rows, "__getitem__"):  # a pandas DataFrame
        absent = [c for c in columns if c not in rows.columns]
        if absent:
            raise DataError(f"the rows lack the column(s) {absent}.")
        return [rows[c].tolist() for c in columns]
    rows = list(rows)
    if rows and isinstance(rows[0], dict):
        absent = [c for c in columns if c not in rows[0]]
        if absent:
            raise DataError(f"the rows lack the column(s) {absent}.")
        return [[r[c] for r in rows] for c in columns]
    for i, r in enumerate(rows):
        if len(r) != len(columns):
            raise DataError(f"row {i} has {len(r)} values; expected {len(columns)} ({columns}).")
    return [[r[j] for r in rows] for j in range(len(columns))]


def _text(v: object) -> str:
    from ..data.preprocessing import _category_text, _is_missing_value

    return "" if _is_missing_value(v) else _category_text(v)


def _number(v: Any, column: str) -> float:
    from ..data.preprocessing import _is_missing_value
    from ..data.validation import parse_float

    if _is_missing_value(v):
        return float("nan")
    if isinstance(v, str):
        f = parse_float(v.strip())
        if f is None:
            raise DataError(f"column {column!r} needs a number but has {v!r}.")
        return f
    return float(v)
