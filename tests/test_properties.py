"""Property tests over random architectures, batch sizes and backends (hypothesis)."""

from __future__ import annotations

import numpy as np
from conftest import require_backend
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mlplab import MLP, fit
from mlplab.backend.arrays import BACKENDS, backend_of, to_numpy

ACTS = ["identity", "sigmoid", "tanh", "relu", "leaky_relu", "softplus", "gelu", "heaviside"]
# derandomized: the same examples every run (CI-stable); JAX compiles each new shape, so few
FAST = settings(
    max_examples=9, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow]
)


@st.composite
def architectures(draw):
    """(n_inputs, hidden sizes, n_outputs, hidden activations): depth 1 to 4."""
    hidden = draw(st.lists(st.integers(1, 5), min_size=0, max_size=3))
    acts = [draw(st.sampled_from(ACTS)) for _ in hidden]
    return draw(st.integers(1, 4)), hidden, draw(st.integers(1, 3)), acts


def _make(arch, backend, dtype="float64", seed=0):
    n_in, hidden, n_out, acts = arch
    return MLP(
        n_in, hidden, n_out, activation=acts or "tanh", seed=seed, backend=backend, dtype=dtype
    )


@FAST
@given(arch=architectures(), n=st.integers(1, 9), backend=st.sampled_from(BACKENDS), data=st.data())
def test_output_gradient_and_delta_shapes(arch, n, backend, data):
    require_backend(backend)
    net = _make(arch, backend)
    n_in, hidden, n_out, _ = arch
    X = np.random.default_rng(n).normal(size=(n, n_in))
    out = net(X)
    assert backend_of(out) == backend and tuple(out.shape) == (n, n_out)
    assert net.predict_proba(X).shape == (n, max(2, n_out))
    assert net.predict_class(X).shape == (n,)
    assert net.depth == len(hidden) + 1 == len(net.params)
    loss = data.draw(
        st.sampled_from(["mse", "bce"] if n_out == 1 else ["mse", "softmax_cross_entropy"])
    )
    y = (
        np.random.default_rng(1).normal(size=(n, n_out))
        if loss == "mse"
        else np.arange(n) % max(n_out, 2)
    )
    value, back = net.gradients(X, y, loss)
    assert np.isfinite(value)
    for (gb, gW), (b_shape, W_shape) in zip(back.grads, net.shapes, strict=True):
        assert tuple(gb.shape) == b_shape and tuple(gW.shape) == W_shape
    for delta, width in zip(back.deltas, net.sizes[1:], strict=True):
        assert tuple(delta.shape) == (n, width)


@settings(FAST, max_examples=7)
@given(
    arch=architectures(),
    n=st.integers(2, 9),
    batch=st.integers(1, 9),
    backend=st.sampled_from(BACKENDS),
    seed=st.integers(0, 2**16),
)
def test_training_is_deterministic_for_a_fixed_seed(arch, n, batch, backend, seed):
    """Same seed, same data → bitwise-equal weights and history; batch 1 and partial batches too."""
    require_backend(backend)
    n_in, _, n_out, _ = arch
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, n_in))
    y = rng.normal(size=(n, n_out))
    runs = []
    for _ in range(2):
        net = _make(arch, backend, dtype="float32", seed=seed % 7)
        h = fit(
            net, X, y, optimizer="adam", lr=0.01, epochs=2, batch_size=batch, seed=seed, verbose=0
        )
        runs.append((net.numpy_params(), h))
    (p1, h1), (p2, h2) = runs
    assert h1.n_steps == 2 * -(-n // min(batch, n))  # ceil(n / B) steps per epoch
    assert h1.train_loss == h2.train_loss and np.all(np.isfinite(h1.train_loss))
    for (b1, W1), (b2, W2) in zip(p1, p2, strict=True):
        np.testing.assert_array_equal(W1, W2)
        np.testing.assert_array_equal(b1, b2)


@FAST
@given(
    arch=architectures(),
    n=st.integers(1, 6),
    src=st.sampled_from(BACKENDS),
    dst=st.sampled_from(BACKENDS),
    dtype=st.sampled_from(["float32", "float64"]),
)
def test_forward_of_a_moved_model_is_equal(arch, n, src, dst, dtype):
    require_backend(src)
    require_backend(dst)
    net = _make(arch, src, dtype=dtype, seed=n)
    moved = net.to(dst)
    assert moved.backend.name == dst and moved.backend.dtype == dtype
    for (b, W), (mb, mW) in zip(net.numpy_params(), moved.numpy_params(), strict=True):
        np.testing.assert_array_equal(W, mW)
        np.testing.assert_array_equal(b, mb)
    X = np.random.default_rng(n).normal(size=(n, arch[0]))
    tol = 1e-12 if dtype == "float64" else 1e-5
    a, b = to_numpy(net(X)), to_numpy(moved(X))
    if "heaviside" in arch[3]:
        # a step may flip where z rounds to either side of 0 in float32; compare the steps' inputs
        _, ca = net.forward(X)
        _, cb = moved.forward(X)
        for x, y in zip(ca, cb, strict=True):
            np.testing.assert_allclose(to_numpy(x.z), to_numpy(y.z), rtol=tol, atol=tol)
    else:
        np.testing.assert_allclose(a, b, rtol=tol, atol=tol)
    back = moved.to(src)
    np.testing.assert_array_equal(to_numpy(back(X)), to_numpy(net(X)))
