"""Export to ONNX: the graph is written node by node with ``onnx.helper``.

No exporter sits between mlplab and the file, so every operation is the one
mlplab computes, in the model's dtype (float32 or float64):

* ``Linear``: ``MatMul(x, Wᵀ) + b``;
* activations are written as the formulas mlplab evaluates, with operators
  onnxruntime runs in both dtypes: sigmoid ``where(z ≥ 0, 1/(1+e), e/(1+e))``,
  ``e = exp(−|z|)``; softplus ``max(z, 0) + log1p(exp(−|z|))`` (``log1p(u)`` as
  ``u·log(1+u)/((1+u)−1)``, exact to rounding, ``u`` where ``1+u = 1``);
  leaky_relu ``where(z > 0, z, k·z)`` with ``k`` a constant of the model's
  dtype; gelu's tanh form term by term; ``H(z) = Cast(z > 0)``. onnxruntime
  has no float64 kernels for ``Softplus`` or ``LeakyRelu``, stores
  ``LeakyRelu``'s slope as a float32 attribute and computes ``Gelu`` its own
  way: none of those operators is used.

With a :class:`~mlplab.export.recipe.Recipe` (a model trained by ``mlplab
train``), the graph takes raw feature rows — input ``x`` float64 `(batch,
n_numeric)` and, when the model has categorical columns, ``categories``
string `(batch, n_categorical)` — and gives ``mlplab predict``'s outputs:
``probabilities`` float64 and ``label`` (the class label as text) for
classification, ``prediction`` float64 in target units for regression.
Without one, input ``x`` `(batch, d_in)` and output ``y`` `(batch, d_out)` in
the model's dtype, the network alone.
"""

from __future__ import annotations

import json
import os
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import DTypeLike

from ..errors import ConfigError
from ..nn.activations import Activation
from ..nn.mlp import MLP
from ._common import METADATA_KEY, ONNX_FORMAT, architecture
from .estimators import resolve
from .recipe import Recipe

if TYPE_CHECKING:
    from onnx import NodeProto, TensorProto, ValueInfoProto

    from ..data.preprocessing import Preprocessor

OPSET = 21


class _Graph:
    """A list of ONNX nodes and constants with fresh names."""

    def __init__(self, dtype: str):
        self.nodes: list[NodeProto] = []
        self.inits: list[TensorProto] = []
        self.dtype = np.dtype(dtype)
        self._n = 0

    def name(self, base: str) -> str:
        self._n += 1
        return f"{base}_{self._n}"

    def const(self, value: Any, dtype: DTypeLike | None = None, base: str = "c") -> str:
        from onnx import numpy_helper

        arr = np.asarray(value, dtype=dtype or self.dtype)
        name = self.name(base)
        self.inits.append(numpy_helper.from_array(arr, name))
        return name

    def op(self, op_type: str, *inputs: str, **attrs: Any) -> str:
        from onnx import helper

        out = self.name(op_type.lower())
        self.nodes.append(helper.make_node(op_type, list(inputs), [out], **attrs))
        return out


# --- activations, as mlplab computes them -------------------------------------


def _sigmoid(g: _Graph, z: str) -> str:
    one = g.const(1.0)
    e = g.op("Exp", g.op("Neg", g.op("Abs", z)))
    denom = g.op("Add", one, e)
    pos, neg = g.op("Div", one, denom), g.op("Div", e, denom)
    return g.op("Where", g.op("GreaterOrEqual", z, g.const(0.0)), pos, neg)


def _log1p(g: _Graph, u: str) -> str:
    # log1p(u) = u · log(1+u) / ((1+u) − 1), exact to rounding; u itself where 1+u == 1
    one = g.const(1.0)
    w = g.op("Add", one, u)
    wm1 = g.op("Sub", w, one)
    is_one = g.op("Equal", w, one)
    safe = g.op("Where", is_one, one, wm1)  # no 0/0 in the branch not taken
    ratio = g.op("Div", g.op("Mul", u, g.op("Log", w)), safe)
    return g.op("Where", is_one, u, ratio)


def _softplus(g: _Graph, z: str) -> str:
    u = g.op("Exp", g.op("Neg", g.op("Abs", z)))
    return g.op("Add", g.op("Max", z, g.const(0.0)), _log1p(g, u))


def _gelu(g: _Graph, z: str) -> str:
    from ..nn.activations import _SQRT_2_OVER_PI

    cube = g.op("Mul", g.op("Mul", z, z), z)
    inner = g.op("Add", z, g.op("Mul", g.const(0.044715), cube))
    t = g.op("Tanh", g.op("Mul", g.const(_SQRT_2_OVER_PI), inner))
    half_z = g.op("Mul", g.const(0.5), z)
    return g.op("Mul", half_z, g.op("Add", g.const(1.0), t))


def _activation(g: _Graph, act: Activation, z: str) -> str:
    name = act.name
    if name == "identity":
        return z
    if name == "heaviside":
        return g.op("Cast", g.op("Greater", z, g.const(0.0)), to=_onnx_type(g.dtype))
    if name == "leaky_relu":
        k = g.const(dict(act.params)["negative_slope"])
        return g.op("Where", g.op("Greater", z, g.const(0.0)), z, g.op("Mul", k, z))
    if name == "relu":
        return g.op("Max", z, g.const(0.0))
    if name == "sigmoid":
        return _sigmoid(g, z)
    if name == "tanh":
        return g.op("Tanh", z)
    if name == "softplus":
        return _softplus(g, z)
    if name == "gelu":
        return _gelu(g, z)
    raise ConfigError(f"ONNX export: no mapping for the activation {name!r}.")


def _onnx_type(dtype: DTypeLike) -> int:
    from onnx import helper

    return int(helper.np_dtype_to_tensor_dtype(np.dtype(dtype)))


def _network(g: _Graph, model: MLP, x: str) -> str:
    for (b, W), act in zip(model.numpy_params(), model.activations, strict=True):
        z = g.op("Add", g.op("MatMul", x, g.const(W.T, base="W")), g.const(b, base="b"))
        x = _activation(g, act, z)
    return x


# --- preprocessing and outputs -------------------------------------------------


def _features(g: _Graph, recipe: Recipe) -> str:
    """Raw inputs → the network's `(batch, d_in)` inputs (float64 arithmetic, then cast)."""
    f64 = np.float64
    blocks = []
    if recipe.numeric:
        num = "x"
        if recipe.impute:
            num = g.op("Where", g.op("IsNaN", num), g.const(recipe.fill, f64), num)
        centred = g.op("Sub", num, g.const(recipe.mean, f64))
        blocks.append(g.op("Div", centred, g.const(recipe.scale, f64)))
    for j, c in enumerate(recipe.categorical):
        column = g.op("Gather", "categories", g.const([j], np.int64), axis=1)  # (batch, 1)
        cats = g.const([recipe.categories[c]], object)  # (1, k) strings
        blocks.append(g.op("Cast", g.op("Equal", column, cats), to=_onnx_type(f64)))
    table = blocks[0] if len(blocks) == 1 else g.op("Concat", *blocks, axis=1)
    features = g.op("Gather", table, g.const(recipe.order, np.int64), axis=1)
    return g.op("Cast", features, to=_onnx_type(g.dtype))


def _outputs(g: _Graph, recipe: Recipe, net: str) -> list[tuple[str, str]]:
    """``[(graph value, output name)]``: mlplab predict's outputs, in float64."""
    out = g.op("Cast", net, to=_onnx_type(np.float64))
    g.dtype = np.dtype(np.float64)  # the network is written: constants are float64 from here
    if recipe.output == "values":
        scaled = g.op("Mul", out, g.const(recipe.target_scale))
        return [(g.op("Add", scaled, g.const(recipe.target_mean)), "prediction")]
    if recipe.output == "softmax":
        top = g.op("ReduceMax", out, g.const([1], np.int64), keepdims=1)
        e = g.op("Exp", g.op("Sub", out, top))
        proba = g.op("Div", e, g.op("ReduceSum", e, g.const([1], np.int64), keepdims=1))
    else:
        p = out if recipe.output == "probability" else _sigmoid(g, out)
        proba = g.op("Concat", g.op("Sub", g.const(1.0), p), p, axis=1)
    index = g.op("ArgMax", proba, axis=1, keepdims=0)
    label = g.op("Gather", g.const(recipe.labels, object), index, axis=0)
    return [(proba, "probabilities"), (label, "label")]


# --- the model -----------------------------------------------------------------


def to_onnx_bytes(
    model: object,
    *,
    metadata: dict[str, Any] | None = None,
    preprocessor: Preprocessor | Recipe | None = None,
) -> bytes:
    """``model`` as an ONNX model (bytes), opset 21, checked by ``onnx.checker``.

    Without ``preprocessor``: input ``x`` `(batch, d_in)`, output ``y``
    `(batch, d_out)`, the model's dtype. With a fitted
    :class:`~mlplab.data.Preprocessor` (or a :class:`Recipe`): raw rows in,
    ``mlplab predict``'s outputs out (see the module docstring). The batch
    size is dynamic. A fitted :class:`mlplab.sklearn.MLPClassifier` /
    ``MLPRegressor``, or a scikit-learn ``Pipeline`` of affine scalers ending in
    one (see :mod:`mlplab.export.estimators`), exports raw rows → its
    ``predict_proba`` and label (or ``predict``). The architecture,
    ``metadata`` and the recipe (with the label map) are stored in
    ``metadata_props["mlplab_architecture"]``.
    Needs the ``onnx`` package (``pip install 'mlplab[onnx]'``).
    """
    try:
        import onnx
        from onnx import helper
    except ImportError:
        raise ConfigError(
            "ONNX export needs the `onnx` package: pip install 'mlplab[onnx]'."
        ) from None
    mlp, recipe = resolve(model, preprocessor)
    g = _Graph(mlp.backend.dtype)
    dtype = _onnx_type(g.dtype)
    if recipe is None:
        inputs = [helper.make_tensor_value_info("x", dtype, ["batch", mlp.n_inputs])]
        outputs: list[tuple[str, str, int, list[str | int]]] = [
            (_network(g, mlp, "x"), "y", dtype, ["batch", mlp.n_outputs])
        ]
    else:
        inputs = _recipe_inputs(recipe)
        net = _network(g, mlp, _features(g, recipe))
        outputs = [
            (value, name, *_output_type(recipe, name, mlp))
            for value, name in _outputs(g, recipe, net)
        ]
    infos = []
    for value, name, otype, shape in outputs:
        g.nodes.append(helper.make_node("Identity", [value], [name]))
        infos.append(helper.make_tensor_value_info(name, otype, shape))
    graph = helper.make_graph(g.nodes, "mlplab_mlp", inputs, infos, initializer=g.inits)
    proto = helper.make_model(
        graph, opset_imports=[helper.make_opsetid("", OPSET)], producer_name="mlplab"
    )
    proto.ir_version = min(proto.ir_version, 10)  # what current onnxruntime releases read
    header = architecture(mlp, ONNX_FORMAT, metadata, recipe)
    helper.set_model_props(proto, {METADATA_KEY: json.dumps(header)})
    onnx.checker.check_model(proto, full_check=True)
    data: bytes = proto.SerializeToString()
    return data


def _recipe_inputs(recipe: Recipe) -> list[ValueInfoProto]:
    from onnx import TensorProto, helper

    inputs = []
    if recipe.numeric:
        shape: list[str | int] = ["batch", len(recipe.numeric)]
        inputs.append(helper.make_tensor_value_info("x", TensorProto.DOUBLE, shape))
    if recipe.categorical:
        shape = ["batch", len(recipe.categorical)]
        inputs.append(helper.make_tensor_value_info("categories", TensorProto.STRING, shape))
    return inputs


def _output_type(recipe: Recipe, name: str, model: MLP) -> tuple[int, list[str | int]]:
    from onnx import TensorProto

    if name == "label":
        return TensorProto.STRING, ["batch"]
    width = len(recipe.targets) if name == "prediction" else max(2, model.n_outputs)
    return TensorProto.DOUBLE, ["batch", width]


def save_onnx(
    model: object,
    path: str | os.PathLike[str],
    *,
    metadata: dict[str, Any] | None = None,
    preprocessor: Preprocessor | Recipe | None = None,
) -> None:
    """Write :func:`to_onnx_bytes` of ``model`` to ``path`` atomically."""
    from ..files.atomic import atomic_write_bytes

    atomic_write_bytes(path, to_onnx_bytes(model, metadata=metadata, preprocessor=preprocessor))
