"""Exports match mlplab to the dtype's precision: every activation × dtype, values and
gradients, at z = 0 and large |z|; onnxruntime runs every float64 graph."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import REQUIRED

import mlplab as ml
from mlplab.backend.arrays import is_available

_missing = [b for b in ("torch", "jax") if not is_available(b)]
if _missing:
    if set(_missing) & set(REQUIRED):
        raise RuntimeError(f"backends {_missing} are required (MLPLAB_REQUIRE_BACKENDS)")
    pytest.skip(f"export needs {_missing}", allow_module_level=True)

import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import torch  # noqa: E402

from mlplab import export  # noqa: E402

ort = pytest.importorskip("onnxruntime")

ACTIVATIONS = {
    "identity": "identity",
    "heaviside": "heaviside",
    "heaviside-sigmoid": {"name": "heaviside", "surrogate": "sigmoid", "slope": 5.0},
    "heaviside-st": {"name": "heaviside", "surrogate": "straight-through"},
    "sigmoid": "sigmoid",
    "tanh": "tanh",
    "relu": "relu",
    "leaky_relu": {"name": "leaky_relu", "negative_slope": 0.01},
    "softplus": "softplus",
    "gelu": "gelu",
}
# z = 0 (the kinks), tiny, moderate, nn.Softplus's threshold 20 and past it, huge
Z = [0.0, 1e-8, 0.5, 1.0, 3.0, 19.99, 20.0, 20.001, 35.0, 100.0, 700.0, 1000.0]
Z = np.array(sorted({-z for z in Z} | set(Z)))
RTOL = {"float64": 4e-15, "float32": 1e-6}
# Where mlplab's formula itself cancels, a one-ulp difference in tanh is amplified: the bound
# is then relative to the terms that cancel (1 − a² with a ≈ ±1; ½z(1 + tanh u) with tanh ≈ −1).
CANCELLING = {
    ("tanh", "gradient"): lambda z: 1.0,
    ("gelu", "value"): np.abs,
    ("gelu", "gradient"): lambda z: 1.0 + np.abs(z),
}


def _unit_net(act, dtype):
    """1 → 1, W = 1, b = 0: the output is σ(x) itself."""
    return ml.MLP.from_params([(np.zeros(1), np.ones((1, 1)))], [act], dtype=dtype)


def _close(got, want, dtype, what, terms=None):
    got, want = np.asarray(got, np.float64).ravel(), np.asarray(want, np.float64).ravel()
    tiny = np.finfo(dtype).tiny  # below that a float underflows: compare absolutely
    scale = np.abs(want) if terms is None else np.abs(want) + terms(Z)
    bad = ~(np.abs(got - want) <= RTOL[dtype] * scale + tiny)
    assert not bad.any(), f"{what}: z={Z[bad]} got {got[bad]} want {want[bad]}"


def _mlplab(net, x):
    out, caches = net.forward(x)
    deltas = net.backward(caches, np.ones_like(ml.to_numpy(out))).deltas
    return ml.to_numpy(out), ml.to_numpy(deltas[0])  # σ(z) and σ'(z) per sample


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("name", list(ACTIVATIONS))
def test_every_export_matches_values_and_gradients(name, dtype):
    net = _unit_net(ACTIVATIONS[name], dtype)
    x = Z.astype(dtype)[:, None]
    want, grad = _mlplab(net, x)
    base = name.partition("-")[0]
    value_terms, grad_terms = CANCELLING.get((base, "value")), CANCELLING.get((base, "gradient"))

    seq = export.to_torch(net)
    xt = torch.tensor(x, requires_grad=True)
    yt = seq(xt)
    yt.sum().backward()
    _close(yt.detach().numpy(), want, dtype, f"torch {name}", value_terms)
    _close(xt.grad.numpy(), grad, dtype, f"torch gradient {name}", grad_terms)

    module = export.to_equinox(net)
    xj = jnp.asarray(x)
    _close(module(xj), want, dtype, f"equinox {name}", value_terms)
    gj = jax.grad(lambda v: module(v).sum())(xj)
    _close(gj, grad, dtype, f"equinox gradient {name}", grad_terms)

    sess = ort.InferenceSession(export.to_onnx_bytes(net))
    (yo,) = sess.run(None, {"x": x})
    assert yo.dtype == np.dtype(dtype)
    _close(yo, want, dtype, f"onnxruntime {name}", value_terms)


def test_leaky_relu_bias_gradient_at_zero_is_the_slope():
    # The independent check of issue 13: a 1→1 leaky_relu net at x = 0, two samples.
    net = _unit_net({"name": "leaky_relu", "negative_slope": 0.01}, "float64")
    x = np.zeros((2, 1))
    module = export.to_equinox(net)
    grads = jax.grad(lambda m: m(jnp.asarray(x)).sum())(module)
    assert float(grads.layers[0].bias[0]) == pytest.approx(0.02)
    seq = export.to_torch(net)
    seq(torch.tensor(x)).sum().backward()
    assert float(seq[0].bias.grad[0]) == pytest.approx(0.02)


def test_float64_onnx_uses_no_operator_without_float64_kernels():
    import onnx

    net = ml.MLP(2, [3, 3, 3], 1, activation=["softplus", "leaky_relu", "gelu"], dtype="float64")
    proto = onnx.load_from_string(export.to_onnx_bytes(net))
    ops = {n.op_type for n in proto.graph.node}
    assert not ops & {"Softplus", "LeakyRelu", "Gelu", "Sigmoid"}
    floats = [a for n in proto.graph.node for a in n.attribute if a.type == a.FLOAT]
    assert floats == []  # no float32 attribute holds a float64 model's number


def test_torch_softplus_is_not_the_thresholded_nn_softplus():
    net = _unit_net("softplus", "float64")
    x = np.array([[20.001], [50.0]])
    got = export.to_torch(net)(torch.tensor(x)).detach().numpy()
    np.testing.assert_array_equal(got, ml.to_numpy(net(x)))
    assert type(export.to_torch(net)[1]).__name__ == "Softplus"
    assert export.from_torch(export.to_torch(net)).activations[0].name == "softplus"
