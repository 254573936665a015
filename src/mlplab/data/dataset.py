"""The :class:`Dataset` container: features, targets and what they mean."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..errors import DataError, check_choice

TASKS = ("binary", "multiclass", "regression")


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
        targets: the target column names, one per target; a name may itself contain
            a comma. Given, they set ``target_name`` (their comma-join); left out,
            they are read from ``target_name``.
        classes: original label values (JSON-able), ``classes[i]`` ↔ index ``i``;
            ``None`` for regression.
        name: the data set's name (built-in name or the CSV file's stem).
        X_test, y_test: a fixed test split where the data set defines one
            (MNIST-1D: 4000 train / 1000 test), else ``None``.
        columns: the raw input columns before one-hot expansion.
        categories: for each one-hot expanded column, its categories in order.
        impute: ``"mean"`` if missing feature values were filled with the mean.
        imputed: `(n, d)` bool, the cells that were filled (``None`` if none were);
            a training run re-opens them so the fill is learnt from its training rows.
        source: the CSV path, or ``None`` for a built-in set.
    """

    X: np.ndarray
    y: np.ndarray
    task: str
    feature_names: list[str]
    target_name: str = "y"
    classes: list[Any] | None = None
    name: str = ""
    X_test: np.ndarray | None = None
    y_test: np.ndarray | None = None
    columns: list[str] = field(default_factory=list)
    categories: dict[str, list[str]] = field(default_factory=dict)
    impute: str | None = None
    source: str | None = None
    imputed: np.ndarray | None = None
    targets: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
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
        n_targets = int(self.y.shape[1]) if self.y.ndim == 2 else 1
        if self.targets:  # one name per target; target_name is their joint display name
            self.target_name = ",".join(self.targets)
        else:  # several targets: their names comma-joined in target_name
            self.targets = [self.target_name] if n_targets == 1 else self.target_name.split(",")
        if len(self.targets) != n_targets:
            raise DataError(
                f"Dataset has {n_targets} target column(s) in y but {len(self.targets)} target "
                f"names {self.targets}; give one name per target."
            )

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
            if self.classes is None:
                raise DataError("a multiclass Dataset needs its `classes`; got None.")
            return len(self.classes)
        return 1 if self.y.ndim == 1 else int(self.y.shape[1])

    def describe(self) -> str:
        """One line, e.g. ``"iris: 150 samples × 4 features, multiclass (3 classes)"``."""
        test = "" if self.X_test is None else f" (+{len(self.X_test)} test)"
        kind = self.task if self.classes is None else f"{self.task} ({len(self.classes)} classes)"
        return f"{self.name}: {self.n_samples} samples{test} × {self.n_features} features, {kind}"
