"""Explicit backpropagation checked two ways: finite differences and autodiff.

Gradients ∂L/∂b, ∂L/∂W and the per-layer deltas ``delta_ℓ = ∂L/∂z_ℓ`` (the blame
of each neuron) of random MLPs (depths 1–4, mixed activations), in float64,
against central differences (perturbing each parameter, and each pre-activation
``z_ℓ`` for the deltas), then against ``torch.autograd`` and ``jax.grad``.
"""

from __future__ import annotations

import numpy as np
import pytest
from conftest import require_backend
from oracles import jax_activation, torch_activation

from mlplab import MLP
from mlplab.backend.arrays import get_backend, to_numpy
from mlplab.nn.losses import get_loss
from mlplab.nn.optim import SGD
from mlplab.train import make_step

H = 1e-5  # central-difference step: truncation O(H²) ~ 1e-10, rounding ~ 1e-16 / H ~ 1e-11
KINKED = {"relu", "leaky_relu", "heaviside"}

# Seeded random architectures: depth 1 to 4, mixed activations, every loss.
ARCHS = [
    (3, [], 2, [], "mse"),
    (2, [5], 1, ["tanh"], "bce"),
    (4, [3], 3, ["relu"], "softmax_cross_entropy"),
    (3, [4, 5], 2, ["sigmoid", "gelu"], "mse"),
    (2, [6, 3], 1, ["leaky_relu", "softplus"], "bce"),
    (3, [4, 4, 3], 4, ["tanh", "relu", "sigmoid"], "softmax_cross_entropy"),
    (5, [3, 4, 2], 2, ["gelu", "heaviside", "tanh"], "mse"),
    (2, [4, 3, 5], 3, ["softplus", "leaky_relu", "gelu"], "softmax_cross_entropy"),
]


def _data(n_in, n_out, loss, n=7, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, n_in))
    if loss == "mse":
        y = rng.normal(size=(n, n_out))
    else:
        y = rng.integers(0, max(n_out, 2), n)
    return X, y


def _loss_with(params, acts, X, target, loss, dz=None):
    """L(f(X)) with ``dz = (layer, E)`` added to that layer's pre-activation."""
    h = X
    for i, ((b, W), sigma) in enumerate(zip(params, acts, strict=True)):
        z = h @ W.T + b  # (batch, d_in) @ (d_in, d_out)
        if dz is not None and dz[0] == i:
            z = z + dz[1]
        h = sigma(z)
    return float(loss.value_and_grad(h, target)[0])


def _central(f, x):
    g = np.zeros_like(x)
    for idx in np.ndindex(x.shape):
        e = np.zeros_like(x)
        e[idx] = H
        g[idx] = (f(e) - f(-e)) / (2 * H)
    return g


@pytest.mark.parametrize(
    "arch", ARCHS, ids=lambda a: f"{a[0]}-{a[1]}-{a[2]}-{'/'.join(a[3])}-{a[4]}"
)
def test_backward_matches_finite_differences(arch):
    n_in, hidden, n_out, acts, loss_name = arch
    net = MLP(n_in, hidden, n_out, activation=acts or "tanh", seed=11, dtype="float64")
    # non-zero biases so that every term of the gradient is exercised
    rng = np.random.default_rng(5)
    net.params = [(rng.normal(size=b.shape) * 0.5, W) for b, W in net.params]
    X, y = _data(n_in, n_out, loss_name)
    loss = get_loss(loss_name)
    target = loss.prepare_targets(y, n_out, net.backend)
    params = net.numpy_params()

    _, caches = net.forward(X)
    for sigma, cache in zip(net.activations, caches, strict=True):
        if sigma.name in KINKED:  # precondition: no pre-activation within reach of a kink
            assert np.abs(cache.z).min() > 100 * H
    value, back = net.gradients(X, y, loss_name)
    assert value == pytest.approx(_loss_with(params, net.activations, X, target, loss), rel=1e-14)
    for i, ((b, W), (gb, gW)) in enumerate(zip(params, back.grads, strict=True)):

        def with_W(E, i=i):
            p = [(bb, WW + E if j == i else WW) for j, (bb, WW) in enumerate(params)]
            return _loss_with(p, net.activations, X, target, loss)

        def with_b(E, i=i):
            p = [(bb + E if j == i else bb, WW) for j, (bb, WW) in enumerate(params)]
            return _loss_with(p, net.activations, X, target, loss)

        np.testing.assert_allclose(gW, _central(with_W, W), rtol=1e-6, atol=1e-9)
        np.testing.assert_allclose(gb, _central(with_b, b), rtol=1e-6, atol=1e-9)
    for i, delta in enumerate(back.deltas):
        z = to_numpy(caches[i].z)
        assert delta.shape == z.shape

        def with_z(E, i=i):
            return _loss_with(params, net.activations, X, target, loss, dz=(i, E))

        np.testing.assert_allclose(delta, _central(with_z, z), rtol=1e-6, atol=1e-9)


def test_delta_of_matched_output_is_p_minus_y_over_n():
    """Softmax + cross-entropy: the output layer's blame is (softmax(z) − onehot) / N."""
    net = MLP(3, [4], 3, seed=1, dtype="float64")
    X, y = _data(3, 3, "softmax_cross_entropy")
    out, _ = net.forward(X)
    _, back = net.gradients(X, y, "softmax_cross_entropy")
    p = np.exp(out) / np.exp(out).sum(1, keepdims=True)
    np.testing.assert_allclose(back.deltas[-1], (p - np.eye(3)[y]) / len(y), rtol=1e-12)


def test_l2_penalty_in_the_training_step_matches_finite_differences():
    """The step's gradient (read off one SGD step with lr = 1) is ∇(L + (l2/2) Σ‖W‖²)."""
    net = MLP(3, [4, 3], 2, activation=["tanh", "sigmoid"], seed=2, dtype="float64")
    X, y = _data(3, 2, "mse")
    loss = get_loss("mse")
    target = loss.prepare_targets(y, 2, net.backend)
    w = np.random.default_rng(9).uniform(0.5, 2, len(X))
    l2 = 0.37
    step = make_step(tuple(net.activations), loss, SGD(), l2)
    params = net.numpy_params()
    new, _, value = step(params, {}, X, target, w, 1.0, 1)

    def total(p):
        h = X
        for (b, W), sigma in zip(p, net.activations, strict=True):
            h = sigma(h @ W.T + b)
        penalty = 0.5 * l2 * sum((W**2).sum() for _, W in p)
        return float(loss.value_and_grad(h, target, w)[0]) + penalty

    assert float(value) == pytest.approx(total(params), rel=1e-14)
    for i, ((b, W), (nb, nW)) in enumerate(zip(params, new, strict=True)):

        def with_W(E, i=i):
            return total([(bb, WW + E if j == i else WW) for j, (bb, WW) in enumerate(params)])

        def with_b(E, i=i):
            return total([(bb + E if j == i else bb, WW) for j, (bb, WW) in enumerate(params)])

        np.testing.assert_allclose(W - nW, _central(with_W, W), rtol=1e-6, atol=1e-9)
        np.testing.assert_allclose(b - nb, _central(with_b, b), rtol=1e-6, atol=1e-9)


# --- autodiff oracles: every activation × every loss ----------------------

ACTS = [
    "identity",
    "heaviside",
    {"name": "heaviside", "surrogate": "sigmoid", "slope": 4.0},
    {"name": "heaviside", "surrogate": "straight-through"},
    "sigmoid",
    "tanh",
    "relu",
    "leaky_relu",
    "softplus",
    "gelu",
]
# (loss, number of outputs, label kind)
LOSS_CASES = [
    ("mse", 2, "real"),
    ("bce", 1, "int"),
    ("softmax_cross_entropy", 3, "int"),
    ("softmax_cross_entropy", 3, "onehot"),
]


def _act_id(a):
    return a if isinstance(a, str) else "-".join(str(v) for v in a.values())


def _setup(act, loss_name, n_out, kind):
    net = MLP(3, [4, 3], n_out, activation=act, seed=3, dtype="float64")
    rng = np.random.default_rng(6)
    net.params = [(rng.normal(size=b.shape) * 0.3, W) for b, W in net.params]
    X, y = _data(3, n_out, loss_name, n=6, seed=4)
    if kind == "onehot":
        y = np.eye(n_out)[y]
    return net, X, y


def _torch_loss(loss_name, out, y, kind):
    import torch
    from torch import nn

    if loss_name == "mse":
        return nn.MSELoss()(out, torch.tensor(y))
    if loss_name == "bce":
        return nn.BCEWithLogitsLoss()(out[:, 0], torch.tensor(y, dtype=torch.float64))
    if kind == "onehot":
        return nn.CrossEntropyLoss()(out, torch.tensor(y))
    return nn.CrossEntropyLoss()(out, torch.tensor(y))


@pytest.mark.parametrize(("loss_name", "n_out", "kind"), LOSS_CASES, ids=lambda c: str(c))
@pytest.mark.parametrize("act", ACTS, ids=_act_id)
def test_backward_equals_torch_autograd(act, loss_name, n_out, kind):
    require_backend("torch")
    import torch

    net, X, y = _setup(act, loss_name, n_out, kind)
    fn = torch_activation(act)
    tparams = [
        (torch.tensor(b, requires_grad=True), torch.tensor(W, requires_grad=True))
        for b, W in net.numpy_params()
    ]
    h, zs = torch.tensor(X), []
    for i, (b, W) in enumerate(tparams):
        z = h @ W.T + b
        z.retain_grad()
        zs.append(z)
        h = fn(z) if i < len(tparams) - 1 else z  # output layer: identity (logits)
    ref = _torch_loss(loss_name, h, y, kind)
    ref.backward()

    for model in (net, net.to("torch")):  # explicit backward on NumPy and on PyTorch arrays
        value, back = model.gradients(X, y, loss_name)
        assert value == pytest.approx(ref.item(), rel=1e-12)
        for (gb, gW), (b, W) in zip(back.grads, tparams, strict=True):
            np.testing.assert_allclose(to_numpy(gW), W.grad.numpy(), rtol=1e-10, atol=1e-14)
            np.testing.assert_allclose(to_numpy(gb), b.grad.numpy(), rtol=1e-10, atol=1e-14)
        for delta, z in zip(back.deltas, zs, strict=True):
            np.testing.assert_allclose(to_numpy(delta), z.grad.numpy(), rtol=1e-10, atol=1e-14)


def _jax_loss(loss_name, out, y, kind, n_out):
    import jax.numpy as jnp
    import optax

    if loss_name == "mse":
        return jnp.mean((out - y) ** 2)
    if loss_name == "bce":
        return jnp.mean(optax.sigmoid_binary_cross_entropy(out[:, 0], y.astype(out.dtype)))
    if kind == "onehot":
        return jnp.mean(optax.softmax_cross_entropy(out, y))
    return jnp.mean(optax.softmax_cross_entropy_with_integer_labels(out, y))


@pytest.mark.parametrize(("loss_name", "n_out", "kind"), LOSS_CASES, ids=lambda c: str(c))
@pytest.mark.parametrize("act", ACTS, ids=_act_id)
def test_backward_equals_jax_grad(act, loss_name, n_out, kind):
    require_backend("jax")
    import jax
    import jax.numpy as jnp

    net, X, y = _setup(act, loss_name, n_out, kind)
    jnet = net.to("jax")  # float64: turns on jax_enable_x64
    fn = jax_activation(act)
    Xj, yj = jnp.asarray(X), jnp.asarray(y)

    def objective(params, dzs):
        h = Xj
        for i, ((b, W), dz) in enumerate(zip(params, dzs, strict=True)):
            z = h @ W.T + b + dz
            h = fn(z) if i < len(params) - 1 else z
        return _jax_loss(loss_name, h, yj, kind, n_out)

    _, caches = net.forward(X)
    dzs = [jnp.zeros(c.z.shape, dtype=jnp.float64) for c in caches]
    ref_value, (gparams, gz) = jax.value_and_grad(objective, argnums=(0, 1))(jnet.params, dzs)
    for model in (net, jnet):
        value, back = model.gradients(X, y, loss_name)
        assert value == pytest.approx(float(ref_value), rel=1e-12)
        for (gb, gW), (rb, rW) in zip(back.grads, gparams, strict=True):
            assert np.asarray(rW).dtype == np.float64
            np.testing.assert_allclose(to_numpy(gW), np.asarray(rW), rtol=1e-10, atol=1e-14)
            np.testing.assert_allclose(to_numpy(gb), np.asarray(rb), rtol=1e-10, atol=1e-14)
        for delta, rz in zip(back.deltas, gz, strict=True):
            np.testing.assert_allclose(to_numpy(delta), np.asarray(rz), rtol=1e-10, atol=1e-14)


def test_gradients_on_every_backend_agree(backend, dtype):
    net = MLP(3, [5, 4], 3, activation=["gelu", "tanh"], seed=8, dtype="float64")
    X, y = _data(3, 3, "softmax_cross_entropy")
    ref_value, ref = net.gradients(X, y, "softmax_cross_entropy")
    other = net.to(get_backend(backend, dtype))
    value, back = other.gradients(X, y, "softmax_cross_entropy")
    tol = 1e-12 if dtype == "float64" else 1e-5
    assert value == pytest.approx(ref_value, rel=tol)
    for (gb, gW), (rb, rW) in zip(back.grads, ref.grads, strict=True):
        assert to_numpy(gW).dtype == np.dtype(dtype)
        np.testing.assert_allclose(to_numpy(gW), rW, rtol=tol, atol=tol)
        np.testing.assert_allclose(to_numpy(gb), rb, rtol=tol, atol=tol)
