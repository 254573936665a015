"""Export to and import from PyTorch, Equinox and ONNX.

* :mod:`mlplab.export.torch`: :func:`to_torch` / :func:`from_torch`,
  :func:`save_torch` / :func:`load_torch` (safetensors, no pickle);
* :mod:`mlplab.export.equinox`: :func:`to_equinox` / :func:`from_equinox`,
  :func:`save_equinox` / :func:`load_equinox`;
* :mod:`mlplab.export.onnx`: :func:`to_onnx_bytes` / :func:`save_onnx` (the
  graph written node by node; runs in onnxruntime in float32 and float64);
* :mod:`mlplab.export.recipe`: :class:`Recipe`, the preprocessing (one-hot,
  imputation, standardisation) and the reading of outputs (probabilities, the
  label map, target units) an export carries;
* :mod:`mlplab.export.estimators`: what every export takes as ``model``: an
  MLP, a fitted :class:`mlplab.sklearn.MLPClassifier` / ``MLPRegressor``, or a
  scikit-learn ``Pipeline`` of affine scalers ending in one.

Given the model's :class:`~mlplab.data.Preprocessor` (``preprocessor=``), every
export maps *raw feature rows* to the outputs of ``mlplab predict``; without
it, the network alone. An estimator or pipeline exports raw rows → its
``predict_proba`` / ``predict``. Values and gradients match mlplab's to the dtype's
precision for every activation, ``z = 0`` and large ``|z|`` included.

The frameworks are imported on first use: importing this package needs
neither PyTorch nor JAX nor onnx.
"""

from __future__ import annotations

from typing import Any

from .equinox import (
    JaxActivation,
    from_equinox,
    load_equinox,
    save_equinox,
    to_equinox,
)
from .onnx import save_onnx, to_onnx_bytes
from .recipe import Recipe
from .torch import from_torch, load_torch, save_torch, to_torch


def __getattr__(name: str) -> Any:
    # The framework classes are built on first access (PyTorch and JAX are optional).
    if name in ("Heaviside", "Softplus", "Pipeline"):
        from .torch import _classes

        return _classes()[name]
    if name in ("EquinoxMLP", "EquinoxPipeline"):
        from .equinox import _equinox_classes

        return _equinox_classes()[name]
    raise AttributeError(f"module 'mlplab.export' has no attribute {name!r}")


__all__ = [
    "JaxActivation",
    "Recipe",
    "from_equinox",
    "from_torch",
    "load_equinox",
    "load_torch",
    "save_equinox",
    "save_onnx",
    "save_torch",
    "to_equinox",
    "to_onnx_bytes",
    "to_torch",
]
