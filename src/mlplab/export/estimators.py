"""What to export: an :class:`~mlplab.nn.mlp.MLP`, an mlplab estimator, or a scikit-learn pipeline.

Every export function takes as ``model``

* an :class:`~mlplab.nn.mlp.MLP` (with an optional ``preprocessor=``);
* a fitted :class:`mlplab.sklearn.MLPClassifier` / :class:`mlplab.sklearn.MLPRegressor`:
  the export reads its label map ``classes_`` (probabilities in the order of
  ``classes_``, sigmoid of one logit for two classes, softmax for more) or
  gives its regression values;
* a fitted scikit-learn ``Pipeline`` whose last step is such an estimator and
  whose earlier steps are affine scalers — ``StandardScaler``,
  ``MinMaxScaler`` (without ``clip``), ``MaxAbsScaler``, ``RobustScaler`` — or
  ``"passthrough"``: the scalers become the recipe's float64 step
  ``(x − μ)/s`` (several are composed into one), so the export maps raw rows
  to ``pipeline.predict_proba`` / ``pipeline.predict``.

scikit-learn is imported only when ``model`` is not an :class:`MLP` (an
estimator or a pipeline means it is already loaded).
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from ..errors import ConfigError
from ..nn.mlp import MLP
from ._common import check_model
from .recipe import Recipe, _output_kind

if TYPE_CHECKING:
    from ..data.preprocessing import Preprocessor

#: The scikit-learn scalers an export can carry (each is ``(x − μ)/s`` per column).
SCALERS = ("StandardScaler", "MinMaxScaler", "MaxAbsScaler", "RobustScaler")


def resolve(model: object, preprocessor: Preprocessor | Recipe | None) -> tuple[MLP, Recipe | None]:
    """The network to export and its recipe (``None``: the network alone).

    ``model`` is an :class:`MLP` (its recipe comes from ``preprocessor``), a
    fitted mlplab estimator or a scikit-learn ``Pipeline`` ending in one (its
    recipe comes from the pipeline: ``preprocessor`` must then be ``None``).
    """
    if isinstance(model, MLP) or not _is_sklearn(model):
        net = check_model(model)
        return net, None if preprocessor is None else Recipe.of(preprocessor, net)
    if preprocessor is not None:
        raise ConfigError(
            f"`preprocessor` is for an MLP; a {type(model).__name__} carries its own "
            "preprocessing (its scalers and classes_). Pass the estimator or pipeline alone."
        )
    return recipe_of_estimator(model)


def recipe_of_estimator(obj: Any) -> tuple[MLP, Recipe]:
    """The network and recipe of a fitted mlplab estimator or a ``Pipeline`` ending in one."""
    from sklearn.pipeline import Pipeline

    steps: list[tuple[str | None, Any]] = obj.steps if isinstance(obj, Pipeline) else [(None, obj)]
    *scalers, (last_name, estimator) = steps
    net, classes = _estimator_parts(last_name, estimator)
    n = net.n_inputs
    mean, scale = np.zeros(n), np.ones(n)
    names = None
    for name, step in scalers:
        if step is None or (isinstance(step, str) and step == "passthrough"):
            continue
        m, s = _affine(name, step, n)
        names = names if names is not None else getattr(step, "feature_names_in_", None)
        mean, scale = mean + m * scale, scale * s  # ((x − μ)/s − m)/s' = (x − μ − m s)/(s s')
    names = names if names is not None else getattr(estimator, "feature_names_in_", None)
    columns = [str(c) for c in names] if names is not None else [f"x{i}" for i in range(n)]
    regression = classes is None
    n_out = net.n_outputs
    recipe = Recipe(
        columns=columns,
        categories={},
        impute=False,
        fill=[0.0] * n,
        mean=mean.tolist(),
        scale=scale.tolist(),
        order=list(range(n)),
        output=_output_kind("regression" if regression else "classification", net),
        classes=classes,
        targets=["y"] if n_out == 1 or not regression else [f"y{i}" for i in range(n_out)],
        target_mean=[0.0] * n_out if regression else None,
        target_scale=[1.0] * n_out if regression else None,
    )
    return net, recipe


def _is_sklearn(obj: object) -> bool:
    """Whether ``obj`` is a scikit-learn estimator (mlplab's included) or pipeline."""
    if "sklearn" not in sys.modules:  # nobody made one
        return False
    from sklearn.base import BaseEstimator

    return isinstance(obj, BaseEstimator)


def _estimator_parts(name: str | None, estimator: Any) -> tuple[MLP, list[Any] | None]:
    """The fitted network of the pipeline's last step, and its classes (``None``: a regressor).

    ``name``: the step's name in its pipeline, ``None`` for an estimator passed alone.
    """
    from ..sklearn import MLPClassifier, MLPRegressor

    if not isinstance(estimator, MLPClassifier | MLPRegressor):
        kind = type(estimator).__name__
        hint = (
            " (a search: export its best_estimator_)"
            if hasattr(estimator, "best_estimator_")
            else ""
        )
        if name is None:
            raise ConfigError(
                f"cannot export a {kind}{hint}: pass an mlplab MLP, a fitted "
                "mlplab.sklearn.MLPClassifier / MLPRegressor, or a Pipeline ending in one."
            )
        raise ConfigError(
            f"cannot export step {name!r} ({kind}): the last step must be an "
            "mlplab.sklearn.MLPClassifier or MLPRegressor."
        )
    model = getattr(estimator, "model_", None)
    if not isinstance(model, MLP):
        raise ConfigError(f"the {type(estimator).__name__} is not fitted: call fit() first.")
    classes = None
    if isinstance(estimator, MLPClassifier):
        classes = np.asarray(estimator.classes_).tolist()
    return check_model(model), classes


def _affine(name: str | None, step: Any, n: int) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """``(μ, s)`` with ``step.transform(x) = (x − μ)/s``, or a one-line error."""
    kind = type(step).__name__
    if kind not in SCALERS or (kind == "MinMaxScaler" and step.clip):
        what = "MinMaxScaler(clip=True) is not affine" if kind in SCALERS else "not affine"
        raise ConfigError(
            f"cannot export pipeline step {name!r} ({kind}): {what}; an export carries only "
            f"{', '.join(SCALERS)} before the mlplab estimator. Apply the step to the data "
            "yourself, or train with `mlplab train`, whose one-hot and imputation export."
        )
    if not hasattr(step, "n_features_in_"):
        raise ConfigError(f"pipeline step {name!r} ({kind}) is not fitted: call fit() first.")
    if step.n_features_in_ != n:
        raise ConfigError(
            f"pipeline step {name!r} ({kind}) takes {step.n_features_in_} features but the "
            f"network takes {n}; only scalers (one output per input) can precede it."
        )
    zero, one = np.zeros(n), np.ones(n)
    if kind == "StandardScaler":
        mean = step.mean_ if step.with_mean else None
        return _f64(mean, zero), _f64(step.scale_ if step.with_std else None, one)
    if kind == "RobustScaler":
        return _f64(step.center_, zero), _f64(step.scale_, one)
    if kind == "MaxAbsScaler":
        return zero, _f64(step.scale_, one)
    # MinMaxScaler: x·a + min_ with min_ = lo − data_min·a, i.e. (x − (data_min − lo/a)) / (1/a)
    a = _f64(step.scale_, one)
    return _f64(step.data_min_, zero) - step.feature_range[0] / a, 1.0 / a


def _f64(values: Any, default: NDArray[np.float64]) -> NDArray[np.float64]:
    return default if values is None else np.asarray(values, dtype=np.float64).reshape(-1)
