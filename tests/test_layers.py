"""One neuron and one wide layer (L4, L7), and the seeded initialisation."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from mlplab import MLP
from mlplab.backend.arrays import get_backend, to_numpy
from mlplab.errors import DataError
from mlplab.nn.activations import RELU_FAMILY, get_activation
from mlplab.nn.layers import dense, dense_backward, dense_forward, neuron
from mlplab.nn.mlp import init_params

ACTS = ["identity", "heaviside", "sigmoid", "tanh", "relu", "leaky_relu", "softplus", "gelu"]


def _tol(dtype):
    return dict(rtol=1e-12, atol=1e-12) if dtype == "float64" else dict(rtol=2e-6, atol=2e-6)


@pytest.mark.parametrize("act", ["heaviside", "tanh"])
def test_neuron_is_sigma_of_bias_plus_dot(backend, dtype, act):
    """f(x, θ) = σ(θ₀ + θ₁:ₙ · x), for one input and a batch, written out by hand."""
    bk = get_backend(backend, dtype)
    rng = np.random.default_rng(0)
    X = rng.normal(size=(6, 3))
    theta = rng.normal(size=4)
    sigma = get_activation(act)
    by_hand = [
        sigma(np.array(theta[0] + theta[1] * x[0] + theta[2] * x[1] + theta[3] * x[2])) for x in X
    ]
    batch = to_numpy(neuron(bk.asarray(X), bk.asarray(theta), act))
    assert batch.shape == (6,)
    np.testing.assert_allclose(batch, by_hand, **_tol(dtype))
    one = to_numpy(neuron(bk.asarray(X[2]), bk.asarray(theta), act))
    assert one.shape == ()
    np.testing.assert_allclose(one, by_hand[2], **_tol(dtype))


def test_neuron_lecture_example_and_default_step():
    # AND neuron θ = [-1, 1, 1] with the default Heaviside step
    theta = np.array([-1.0, 1.0, 1.0])
    X = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
    np.testing.assert_array_equal(neuron(X, theta), [0, 0, 0, 1])


def test_neuron_rejects_wrong_theta_length():
    with pytest.raises(DataError, match=r"`theta` must have n \+ 1 = 3 entries .* got 2"):
        neuron(np.ones((4, 2)), np.ones(2))


def test_wide_layer_equals_its_neurons_one_by_one(backend, dtype):
    """L7: σ(b + W x) computed at once equals neuron j = σ(θ_j) for every row j of W."""
    bk = get_backend(backend, dtype)
    rng = np.random.default_rng(1)
    X, b, W = rng.normal(size=(5, 3)), rng.normal(size=4), rng.normal(size=(4, 3))
    for act in ACTS:
        wide = to_numpy(dense(bk.asarray(X), (bk.asarray(b), bk.asarray(W)), act))
        assert wide.shape == (5, 4)
        for j in range(4):
            theta = bk.asarray(np.concatenate([[b[j]], W[j]]))
            column = to_numpy(neuron(bk.asarray(X), theta, act))
            np.testing.assert_allclose(wide[:, j], column, **_tol(dtype), err_msg=act)


@pytest.mark.parametrize(("batch", "d_in", "d_out"), [(1, 1, 1), (7, 3, 1), (1, 4, 5), (9, 2, 6)])
def test_dense_output_shape(backend, batch, d_in, d_out):
    bk = get_backend(backend, "float32")
    rng = np.random.default_rng(2)
    x = bk.asarray(rng.normal(size=(batch, d_in)))
    params = (bk.asarray(rng.normal(size=d_out)), bk.asarray(rng.normal(size=(d_out, d_in))))
    out = dense(x, params, "tanh")
    assert tuple(out.shape) == (batch, d_out)
    cache = dense_forward(x, params, get_activation("tanh"))
    grad_x, (gb, gW), delta = dense_backward(cache, params, get_activation("tanh"), out)
    assert tuple(grad_x.shape) == (batch, d_in)
    assert tuple(gb.shape) == (d_out,) and tuple(gW.shape) == (d_out, d_in)
    assert tuple(delta.shape) == (batch, d_out)


def test_dense_backward_formulas():
    """delta = grad_a·σ'(z), grad_W = deltaᵀx, grad_b = Σ delta, grad_x = delta W."""
    rng = np.random.default_rng(3)
    x, b, W, g = (rng.normal(size=s) for s in [(5, 3), 4, (4, 3), (5, 4)])
    sigma = get_activation("tanh")
    cache = dense_forward(x, (b, W), sigma)
    np.testing.assert_allclose(cache.z, x @ W.T + b)
    np.testing.assert_allclose(cache.a, np.tanh(x @ W.T + b))
    grad_x, (gb, gW), delta = dense_backward(cache, (b, W), sigma, g)
    np.testing.assert_allclose(delta, g * (1 - np.tanh(cache.z) ** 2))
    np.testing.assert_allclose(gW, sum(np.outer(delta[i], x[i]) for i in range(5)))
    np.testing.assert_allclose(gb, delta.sum(0))
    np.testing.assert_allclose(grad_x, delta @ W)
    assert dense_backward(cache, (b, W), sigma, g, need_grad_x=False)[0] is None


# --- initialisation --------------------------------------------------------


def test_glorot_init_statistics():
    """Glorot: W ~ U(±√(6/(d_in+d_out))), so Var W = 2 / (d_in + d_out); biases 0."""
    d_in, d_out = 300, 200
    (b, W), _ = init_params([d_in, d_out, 1], [get_activation("tanh")] * 2, "glorot", seed=0)
    limit = np.sqrt(6 / (d_in + d_out))
    assert W.shape == (d_out, d_in)
    np.testing.assert_array_equal(b, np.zeros(d_out))
    assert np.abs(W).max() <= limit
    assert np.abs(W).max() > 0.99 * limit
    assert W.var() == pytest.approx(2 / (d_in + d_out), rel=0.02)
    assert abs(W.mean()) < 0.003
    # uniform on [-limit, limit]: Kolmogorov–Smirnov does not reject
    assert stats.kstest(W.ravel(), "uniform", args=(-limit, 2 * limit)).pvalue > 0.01


def test_he_and_lecun_init_statistics():
    d_in, d_out = 250, 240
    relu = get_activation("relu")
    (_, W_he), _ = init_params([d_in, d_out, 1], [relu, relu], "he", seed=1)
    assert W_he.std() == pytest.approx(np.sqrt(2 / d_in), rel=0.02)
    assert stats.kstest(W_he.ravel() / np.sqrt(2 / d_in), "norm").pvalue > 0.01
    (_, W_lc), _ = init_params([d_in, d_out, 1], [relu, relu], "lecun", seed=1)
    assert W_lc.std() == pytest.approx(np.sqrt(1 / d_in), rel=0.02)
    (b0, W0), _ = init_params([d_in, d_out, 1], [relu, relu], "zeros", seed=1)
    assert not W0.any() and not b0.any()


def test_auto_init_picks_he_for_relu_family_and_glorot_otherwise():
    sizes = [400, 300, 300, 300, 1]
    acts = [get_activation(a) for a in ("relu", "tanh", "gelu", "sigmoid")]
    params = init_params(sizes, acts, "auto", seed=0)
    he_std, glorot_std = np.sqrt(2 / 400), np.sqrt(2 / (300 + 300))
    assert params[0][1].std() == pytest.approx(he_std, rel=0.03)  # relu: He
    assert params[1][1].std() == pytest.approx(glorot_std, rel=0.03)  # tanh: Glorot
    assert params[2][1].std() == pytest.approx(np.sqrt(2 / 300), rel=0.03)  # gelu: He
    assert np.abs(params[3][1]).max() <= np.sqrt(6 / 301)  # sigmoid: Glorot (uniform)


def test_same_seed_same_weights_different_seed_differ(backend):
    a = MLP(3, [5, 4], 2, seed=7, backend=backend).numpy_params()
    b = MLP(3, [5, 4], 2, seed=7, backend=backend).numpy_params()
    c = MLP(3, [5, 4], 2, seed=8, backend=backend).numpy_params()
    for (ba, Wa), (bb, Wb), (_, Wc) in zip(a, b, c, strict=True):
        np.testing.assert_array_equal(Wa, Wb)
        np.testing.assert_array_equal(ba, bb)
        assert not np.allclose(Wa, Wc)
    # the initial weights are the float64 NumPy draws, cast once: equal on every backend
    ref = init_params(
        [3, 5, 4, 2], [get_activation("tanh")] * 2 + [get_activation("identity")], seed=7
    )
    for (_, W), (_, W_ref) in zip(a, ref, strict=True):
        np.testing.assert_array_equal(W, W_ref.astype(np.float32))


def _init_params_whole(sizes, activations, init, seed):
    """The initialisation as it was: every layer drawn whole in float64, then scaled."""
    rng = np.random.default_rng(seed)
    params = []
    for d_in, d_out, sigma in zip(sizes[:-1], sizes[1:], activations, strict=True):
        scheme = ("he" if sigma.name in RELU_FAMILY else "glorot") if init == "auto" else init
        if scheme == "glorot":
            limit = np.sqrt(6.0 / (d_in + d_out))
            W = rng.uniform(-limit, limit, size=(d_out, d_in))
        elif scheme in ("he", "lecun"):
            W = rng.standard_normal((d_out, d_in)) * np.sqrt(
                (2.0 if scheme == "he" else 1.0) / d_in
            )
        else:
            W = np.zeros((d_out, d_in))
        params.append((np.zeros(d_out), W))
    return params


@pytest.mark.parametrize("block", [None, 7, 300])
@pytest.mark.parametrize("init", ["auto", "glorot", "he", "lecun", "zeros"])
def test_blockwise_init_draws_the_same_numbers_on_every_backend(backend, dtype, init, block,
                                                               monkeypatch):  # fmt: skip
    """Drawn a block of rows at a time and cast layer by layer: bitwise the numbers of the
    whole-matrix float64 draw, scaled and cast once, for several seeds and block sizes
    (7 and 300 elements: blocks of one row, and blocks that end mid-matrix)."""
    import mlplab.nn.mlp as mlp_module

    if block is not None:
        monkeypatch.setattr(mlp_module, "INIT_BLOCK", block)
    sizes, names = [13, 40, 31, 3], ["relu", "tanh", "identity"]
    acts = [get_activation(a) for a in names]
    for seed in (0, 1, 12345):
        ref = _init_params_whole(sizes, acts, init, seed)
        net = MLP(13, [40, 31], 3, activation=names[:2], init=init, seed=seed,
                  backend=backend, dtype=dtype)  # fmt: skip
        got = net.numpy_params()
        for (b, W), (b_ref, W_ref) in zip(got, ref, strict=True):
            assert W.dtype == np.dtype(dtype) and b.dtype == np.dtype(dtype)
            np.testing.assert_array_equal(W, W_ref.astype(dtype), strict=True)
            np.testing.assert_array_equal(b, b_ref.astype(dtype), strict=True)
        # the public float64 draw is the whole-matrix one, too
        for (_, W), (_, W_ref) in zip(init_params(sizes, acts, init, seed), ref, strict=True):
            np.testing.assert_array_equal(W, W_ref, strict=True)
