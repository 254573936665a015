"""The MLP as a composition of wide layers (L8): architecture, forward, helpers, backends."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import require_backend
from sklearn.metrics import r2_score as sk_r2

from mlplab import MLP
from mlplab.backend.arrays import backend_of, to_numpy
from mlplab.errors import ConfigError
from mlplab.nn.activations import get_activation
from mlplab.nn.layers import dense
from mlplab.nn.mlp import forward


def test_four_layer_mlp_has_four_parameter_matrices():
    """L8: "a four-layer MLP has four parameter matrices"."""
    net = MLP(3, [5, 4, 6], 2)
    assert net.depth == 4
    assert len(net.params) == 4
    assert net.sizes == [3, 5, 4, 6, 2]
    assert net.shapes == [((5,), (5, 3)), ((4,), (4, 5)), ((6,), (6, 4)), ((2,), (2, 6))]
    for (b, W), (b_shape, W_shape) in zip(net.params, net.shapes, strict=True):
        assert b.shape == b_shape and W.shape == W_shape
    # Σ (d_out · d_in + d_out), counted by hand
    assert net.n_params == (5 * 3 + 5) + (4 * 5 + 4) + (6 * 4 + 6) + (2 * 6 + 2) == 88
    assert net.n_params == sum(b.size + W.size for b, W in net.numpy_params())


def test_architecture_variants():
    single = MLP(4, (), 3)
    assert single.depth == 1 and single.shapes == [((3,), (3, 4))] and single.n_params == 15
    assert MLP(2, 7, 1).hidden == [7]  # one int = one hidden layer
    mixed = MLP(2, [3, 3], 1, activation=["relu", "gelu"], output_activation="sigmoid")
    assert [a.name for a in mixed.activations] == ["relu", "gelu", "sigmoid"]
    assert (mixed.n_inputs, mixed.n_outputs) == (2, 1)
    assert "n_params=25" in repr(mixed)


@pytest.mark.parametrize("hidden", [(), (4,), (5, 3), (3, 4, 2)])
def test_forward_is_the_composition_of_dense_layers(backend, dtype, hidden):
    acts = ["tanh", "relu", "sigmoid"][: len(hidden)]
    net = MLP(3, hidden, 2, activation=acts or "tanh", seed=3, backend=backend, dtype=dtype)
    X = np.random.default_rng(0).normal(size=(6, 3))
    h = X
    for (b, W), sigma in zip(net.numpy_params(), net.activations, strict=True):
        h = dense(h.astype(np.float64), (b.astype(np.float64), W.astype(np.float64)), sigma)
    out = net(X)
    assert backend_of(out) == backend
    tol = 1e-12 if dtype == "float64" else 1e-5
    np.testing.assert_allclose(to_numpy(out), h, rtol=tol, atol=tol)
    out2, caches = net.forward(X)
    np.testing.assert_array_equal(to_numpy(out2), to_numpy(out))
    assert len(caches) == net.depth
    np.testing.assert_array_equal(to_numpy(caches[-1].a), to_numpy(out))
    np.testing.assert_array_equal(to_numpy(caches[0].x), X.astype(dtype))


def test_from_params_and_to_other_backends(backend):
    rng = np.random.default_rng(1)
    params = [
        (rng.normal(size=4), rng.normal(size=(4, 2))),
        (rng.normal(size=1), rng.normal(size=(1, 4))),
    ]
    net = MLP.from_params(params, ["tanh", "identity"], dtype="float64")
    X = rng.normal(size=(5, 2))
    expected = np.tanh(X @ params[0][1].T + params[0][0]) @ params[1][1].T + params[1][0]
    np.testing.assert_allclose(to_numpy(net(X)), expected, rtol=1e-14)
    moved = net.to(backend)
    assert moved.backend.name == backend and moved.backend.dtype == "float64"
    assert [a.spec() for a in moved.activations] == [a.spec() for a in net.activations]
    np.testing.assert_allclose(to_numpy(moved(X)), expected, rtol=1e-13)
    for (b, W), (b0, W0) in zip(moved.numpy_params(), params, strict=True):
        np.testing.assert_array_equal(W, W0)
        np.testing.assert_array_equal(b, b0)
    as32 = net.to(backend, dtype="float32")
    assert to_numpy(as32.params[0][1]).dtype == np.float32


def test_from_params_checks_shapes():
    with pytest.raises(
        ConfigError, match=r"layer 1: expected b of shape \(d_out,\) and W of shape"
    ):
        MLP.from_params(
            [(np.zeros(3), np.zeros((3, 2))), (np.zeros(1), np.zeros((1, 4)))], ["tanh"] * 2
        )
    with pytest.raises(ConfigError, match="`activations` has 1 entries for 2 layers"):
        MLP.from_params(
            [(np.zeros(3), np.zeros((3, 2))), (np.zeros(1), np.zeros((1, 3)))], ["tanh"]
        )
    with pytest.raises(ConfigError, match="at least one"):
        MLP.from_params([], [])


def test_one_feature_input_may_be_1d():
    net = MLP(1, [3], 1, dtype="float64")
    x = np.linspace(-1, 1, 5)
    np.testing.assert_array_equal(to_numpy(net(x)), to_numpy(net(x[:, None])))


def test_pure_forward_matches_method():
    net = MLP(2, [3], 2, seed=4)
    X = np.ones((2, 2), dtype=np.float32)
    np.testing.assert_array_equal(forward(net.params, net.activations, X), net(X))


# --- prediction helpers, with inputs of every array type -----------------


def _as(kind, X):
    if kind == "numpy":
        return X
    require_backend(kind)
    if kind == "torch":
        import torch

        return torch.as_tensor(X)
    import jax.numpy as jnp

    return jnp.asarray(X, dtype=jnp.float32)


@pytest.mark.parametrize("input_kind", ["numpy", "torch", "jax"])
def test_predict_accepts_every_array_type_and_returns_it(backend, input_kind):
    net = MLP(2, [4], 3, seed=0, backend=backend)
    X = np.random.default_rng(0).normal(size=(7, 2)).astype(np.float32)
    ref = forward(
        [(b.astype(np.float64), W.astype(np.float64)) for b, W in net.numpy_params()],
        net.activations,
        X.astype(np.float64),
    )
    x_in = _as(input_kind, X)
    out = net.predict(x_in)
    assert backend_of(out) == input_kind  # the caller's array type comes back
    np.testing.assert_allclose(to_numpy(out), ref, rtol=1e-5, atol=1e-6)
    proba = net.predict_proba(x_in)
    assert isinstance(proba, np.ndarray) and proba.shape == (7, 3)
    e = np.exp(ref - ref.max(1, keepdims=True))
    np.testing.assert_allclose(proba, e / e.sum(1, keepdims=True), rtol=1e-5)
    np.testing.assert_allclose(proba.sum(1), 1.0, rtol=1e-12)
    np.testing.assert_array_equal(net.predict_class(x_in), np.argmax(ref, axis=1))
    assert isinstance(net.predict(X.tolist()), np.ndarray)


def test_binary_predict_proba_and_score(backend):
    net = MLP(2, [5], 1, seed=1, backend=backend, dtype="float64")
    X = np.random.default_rng(1).normal(size=(40, 2))
    logit = to_numpy(net(X))[:, 0]
    p = 1 / (1 + np.exp(-logit))
    proba = net.predict_proba(X)
    np.testing.assert_allclose(proba, np.stack([1 - p, p], 1), rtol=1e-12)
    y = (X[:, 0] > 0).astype(int)
    assert net.score(X, y) == np.mean((p > 0.5).astype(int) == y)
    # a sigmoid output is already a probability: used as is
    sig = MLP.from_params(net.numpy_params(), ["tanh", "sigmoid"], backend=backend, dtype="float64")
    np.testing.assert_allclose(sig.predict_proba(X)[:, 1], p, rtol=1e-12)


def test_regression_score_is_r2(backend):
    net = MLP(3, [4], 2, seed=2, backend=backend, dtype="float64")
    rng = np.random.default_rng(2)
    X, Y = rng.normal(size=(30, 3)), rng.normal(size=(30, 2))
    pred = to_numpy(net(X))
    assert net.score(X, Y) == pytest.approx(sk_r2(Y, pred), rel=1e-12)
    assert net.score(X, pred) == pytest.approx(1.0)


def test_multiclass_score_is_accuracy():
    net = MLP(2, [6], 3, seed=5, dtype="float64")
    X = np.random.default_rng(3).normal(size=(50, 2))
    pred = net.predict_class(X)
    y = pred.copy()
    y[:10] = (y[:10] + 1) % 3
    assert net.score(X, y) == pytest.approx(0.8)


def test_activation_list_must_match_hidden_layers():
    with pytest.raises(ConfigError, match="`activation` lists 1 activations for 2 hidden layers"):
        MLP(2, [3, 3], 1, activation=["relu"])
    with pytest.raises(ConfigError, match="`init` must be one of"):
        MLP(2, [3], 1, init="xavier")
    assert get_activation(MLP(2, [3], 1, activation="relu").activations[0]).name == "relu"
