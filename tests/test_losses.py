"""Losses from logits: finite differences, PyTorch / JAX oracles, stability, label checks."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import require_backend

from mlplab.backend.arrays import get_backend, to_numpy
from mlplab.errors import ConfigError, DataError
from mlplab.nn.losses import (
    MSE,
    BinaryCrossEntropy,
    SoftmaxCrossEntropy,
    get_loss,
    infer_loss,
    l2_penalty,
)

LOSSES = ["mse", "bce", "softmax_cross_entropy"]


def _case(name, n=6, seed=0):
    """(logits, float targets, integer labels or None, weights) in float64."""
    rng = np.random.default_rng(seed)
    if name == "mse":
        return rng.normal(size=(n, 3)), rng.normal(size=(n, 3)), None, rng.uniform(0.1, 2, n)
    if name == "bce":
        labels = rng.integers(0, 2, n)
        return (
            rng.normal(size=(n, 1)) * 3,
            labels[:, None].astype(float),
            labels,
            rng.uniform(0.1, 2, n),
        )
    labels = rng.integers(0, 4, n)
    return rng.normal(size=(n, 4)) * 3, np.eye(4)[labels], labels, rng.uniform(0.1, 2, n)


def _fd_grad(f, x, h=1e-6):
    g = np.zeros_like(x)
    for idx in np.ndindex(x.shape):
        e = np.zeros_like(x)
        e[idx] = h
        g[idx] = (f(x + e) - f(x - e)) / (2 * h)
    return g


@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("name", LOSSES)
def test_gradient_matches_finite_differences(name, weighted):
    loss = get_loss(name)
    out, target, _, w = _case(name)
    w = w if weighted else None
    value, grad = loss.value_and_grad(out, target, w)
    expected = _fd_grad(lambda o: float(loss.value_and_grad(o, target, w)[0]), out)
    np.testing.assert_allclose(grad, expected, rtol=1e-6, atol=1e-9)


@pytest.mark.parametrize("name", LOSSES)
def test_weighted_loss_is_weighted_mean_and_weight_two_duplicates(name):
    loss = get_loss(name)
    out, target, _, w = _case(name)
    per = np.array(
        [float(loss.value_and_grad(out[i : i + 1], target[i : i + 1])[0]) for i in range(6)]
    )
    assert float(loss.value_and_grad(out, target, w)[0]) == pytest.approx((w * per).sum() / w.sum())
    w2 = np.ones(6)
    w2[0] = 2.0
    dup_out, dup_t = np.concatenate([out, out[:1]]), np.concatenate([target, target[:1]])
    v_dup, g_dup = loss.value_and_grad(dup_out, dup_t)
    v_w, g_w = loss.value_and_grad(out, target, w2)
    assert float(v_w) == pytest.approx(float(v_dup), rel=1e-14)
    # the duplicated row's two gradient rows add up to the weighted row's
    np.testing.assert_allclose(g_w[0], g_dup[0] + g_dup[6], rtol=1e-13)
    np.testing.assert_allclose(g_w[1:], g_dup[1:6], rtol=1e-13)


def _torch_loss(name, out, target, labels, onehot):
    import torch
    from torch import nn

    if name == "mse":
        return nn.MSELoss()(out, torch.tensor(target))
    if name == "bce":
        return nn.BCEWithLogitsLoss()(out, torch.tensor(target))
    if onehot:
        return nn.CrossEntropyLoss()(out, torch.tensor(target))
    return nn.CrossEntropyLoss()(out, torch.tensor(labels))


@pytest.mark.parametrize(
    ("name", "onehot"),
    [
        ("mse", True),
        ("bce", True),
        ("softmax_cross_entropy", False),
        ("softmax_cross_entropy", True),
    ],
)
def test_matches_torch_nn_losses_and_autograd(name, onehot):
    require_backend("torch")
    import torch

    loss = get_loss(name)
    out_np, target, labels, _ = _case(name, seed=1)
    out = torch.tensor(out_np, requires_grad=True)
    ref = _torch_loss(name, out, target, labels, onehot)
    ref.backward()
    y = target if (onehot or labels is None) else labels
    prepared = loss.prepare_targets(y, out_np.shape[1], get_backend("numpy", "float64"))
    value, grad = loss.value_and_grad(out_np, prepared)
    assert float(value) == pytest.approx(ref.item(), rel=1e-13)
    np.testing.assert_allclose(grad, out.grad.numpy(), rtol=1e-12, atol=1e-15)
    # mlplab's code on torch tensors, too
    tb = get_backend("torch", "float64")
    value_t, grad_t = loss.value_and_grad(
        tb.asarray(out_np), loss.prepare_targets(y, out_np.shape[1], tb)
    )
    assert value_t.item() == pytest.approx(ref.item(), rel=1e-13)
    np.testing.assert_allclose(to_numpy(grad_t), out.grad.numpy(), rtol=1e-12, atol=1e-15)


def test_weighted_bce_matches_torch_per_sample_losses():
    require_backend("torch")
    import torch
    from torch import nn

    out_np, target, _, w = _case("bce", seed=2)
    out = torch.tensor(out_np, requires_grad=True)
    per = nn.BCEWithLogitsLoss(reduction="none")(out, torch.tensor(target))[:, 0]
    ref = (per * torch.tensor(w)).sum() / w.sum()
    ref.backward()
    value, grad = BinaryCrossEntropy().value_and_grad(out_np, target, w)
    assert float(value) == pytest.approx(ref.item(), rel=1e-13)
    np.testing.assert_allclose(grad, out.grad.numpy(), rtol=1e-12)


def _jax_loss(name):
    import jax.numpy as jnp
    import optax

    return {
        "mse": lambda o, t: jnp.mean((o - t) ** 2),
        "bce": lambda o, t: jnp.mean(optax.sigmoid_binary_cross_entropy(o, t)),
        "softmax_cross_entropy": lambda o, t: jnp.mean(optax.softmax_cross_entropy(o, t)),
    }[name]


@pytest.mark.parametrize("name", LOSSES)
def test_matches_jax_grad(name):
    require_backend("jax")
    import jax

    jb = get_backend("jax", "float64")
    out_np, target, _, _ = _case(name, seed=3)
    out, t = jb.asarray(out_np), jb.asarray(target)  # float64 turns on jax_enable_x64
    ref_value, ref_grad = jax.value_and_grad(_jax_loss(name))(out, t)
    assert ref_grad.dtype == np.float64
    value, grad = get_loss(name).value_and_grad(out_np, target)
    assert float(value) == pytest.approx(float(ref_value), rel=1e-13)
    np.testing.assert_allclose(grad, np.asarray(ref_grad), rtol=1e-12, atol=1e-15)
    value_j, grad_j = get_loss(name).value_and_grad(out, t)
    np.testing.assert_allclose(np.asarray(grad_j), np.asarray(ref_grad), rtol=1e-12, atol=1e-15)


def test_logit_gradient_is_p_minus_y_over_n():
    out, target, _, _ = _case("softmax_cross_entropy")
    _, grad = SoftmaxCrossEntropy().value_and_grad(out, target)
    p = np.exp(out) / np.exp(out).sum(1, keepdims=True)
    np.testing.assert_allclose(grad, (p - target) / 6, rtol=1e-12)
    out, target, _, _ = _case("bce")
    _, grad = BinaryCrossEntropy().value_and_grad(out, target)
    np.testing.assert_allclose(grad, (1 / (1 + np.exp(-out)) - target) / 6, rtol=1e-12)


def test_huge_logits_stay_finite_and_correct(backend, dtype):
    """BCE and softmax CE for logits of ±1e4, in float32 and float64."""
    bk = get_backend(backend, dtype)
    z = bk.asarray(np.array([[1e4], [-1e4], [1e4], [-1e4]]))
    y = bk.asarray(np.array([[1.0], [0.0], [0.0], [1.0]]))
    value, grad = BinaryCrossEntropy().value_and_grad(z, y)
    # the right answers: 0, 0, 1e4, 1e4 -> mean 5e3; grad (σ(z) − y)/4 = 0, 0, 1/4, −1/4
    assert float(value) == pytest.approx(5e3, rel=1e-6)
    np.testing.assert_allclose(to_numpy(grad)[:, 0], [0, 0, 0.25, -0.25], atol=1e-7)
    logits = bk.asarray(np.array([[1e4, -1e4, 0.0], [-1e4, 1e4, 1e4]]))
    onehot = bk.asarray(np.array([[1.0, 0, 0], [1.0, 0, 0]]))
    value, grad = SoftmaxCrossEntropy().value_and_grad(logits, onehot)
    # row 1: correct class wins, loss 0; row 2: loss = logsumexp − z₀ = 1e4 + log 2 + 1e4
    assert float(value) == pytest.approx((0 + 2e4 + np.log(2)) / 2, rel=1e-6)
    g = to_numpy(grad)
    assert np.all(np.isfinite(g))
    np.testing.assert_allclose(g, [[0, 0, 0], [-0.5, 0.25, 0.25]], atol=1e-7)


def test_mse_value_by_hand():
    out = np.array([[1.0, 2.0], [3.0, 5.0]])
    target = np.array([[0.0, 2.0], [3.0, 3.0]])
    value, grad = MSE().value_and_grad(out, target)
    assert float(value) == pytest.approx((1 + 0 + 0 + 4) / 4)
    np.testing.assert_allclose(grad, 2 * (out - target) / 4)


def test_l2_penalty_value_and_gradient():
    rng = np.random.default_rng(4)
    params = [
        (rng.normal(size=3), rng.normal(size=(3, 2))),
        (rng.normal(size=1), rng.normal(size=(1, 3))),
    ]
    value, grads = l2_penalty(params, 0.3)
    assert float(value) == pytest.approx(0.15 * sum((W**2).sum() for _, W in params))
    assert len(grads) == len(params)  # one weight gradient a layer: biases are not penalised
    for (b, W), gW in zip(params, grads, strict=True):

        def f(W_, b=b, W=W):
            swapped = [(bb, W_ if WW is W else WW) for bb, WW in params]
            return float(l2_penalty(swapped, 0.3)[0])

        np.testing.assert_allclose(gW, _fd_grad(f, W), rtol=1e-7)


# --- targets: preparation and checks --------------------------------------


def test_prepare_targets():
    nb = get_backend("numpy", "float64")
    ce = SoftmaxCrossEntropy()
    np.testing.assert_array_equal(
        ce.prepare_targets(np.array([2, 0]), 3, nb), [[0, 0, 1], [1, 0, 0]]
    )
    np.testing.assert_array_equal(
        ce.prepare_targets(np.array([[2], [0]]), 3, nb), [[0, 0, 1], [1, 0, 0]]
    )
    soft = np.array([[0.2, 0.8], [1.0, 0.0]])
    np.testing.assert_array_equal(ce.prepare_targets(soft, 2, nb), soft)
    assert BinaryCrossEntropy().prepare_targets([0, 1, True], 1, nb).shape == (3, 1)
    assert MSE().prepare_targets(np.arange(4.0), 1, nb).shape == (4, 1)


def test_label_errors():
    nb = get_backend("numpy", "float32")
    ce, bce, mse = SoftmaxCrossEntropy(), BinaryCrossEntropy(), MSE()
    with pytest.raises(
        DataError, match=r"class labels must lie in 0\.\.2 for a model with 3 outputs; got \[3, 7\]"
    ):
        ce.prepare_targets(np.array([0, 3, 7, 1]), 3, nb)
    with pytest.raises(DataError, match=r"got \[-1\]"):
        ce.prepare_targets(np.array([0, -1]), 3, nb)
    with pytest.raises(
        DataError, match="whole numbers 0..k-1; got fractional values such as \\[0.5\\]"
    ):
        ce.prepare_targets(np.array([0.5, 1.0]), 3, nb)
    with pytest.raises(DataError, match=r"binary labels must be 0 or 1 .*; got \[2.0\]"):
        bce.prepare_targets(np.array([0, 1, 2]), 1, nb)
    with pytest.raises(DataError, match=r"binary labels must be 0 or 1 .*; got \[-1.0\]"):
        bce.prepare_targets(np.array([-1, 1]), 1, nb)
    with pytest.raises(
        DataError, match="class labels must be numbers; got dtype <U3. Encode text labels"
    ):
        ce.prepare_targets(np.array(["cat", "dog"]), 2, nb)
    with pytest.raises(DataError, match="binary labels must be numbers"):
        bce.prepare_targets(["yes", "no"], 1, nb)
    with pytest.raises(DataError, match="contain NaN or infinite values"):
        mse.prepare_targets(np.array([1.0, np.nan]), 1, nb)
    with pytest.raises(DataError, match=r"regression targets must have shape \(n_samples, 2\)"):
        mse.prepare_targets(np.zeros((4, 3)), 2, nb)
    with pytest.raises(
        DataError, match=r"one-hot or probability targets \(n_samples, 2\) must hold "
    ):
        ce.prepare_targets(np.array([[0, 2], [1, 0]]), 2, nb)
    with pytest.raises(DataError, match=r"rows summing to 1; got row sums \[0\.5, 1\.0\]"):
        ce.prepare_targets(np.array([[0.5, 0], [0.3, 0.7]]), 2, nb)
    with pytest.raises(DataError, match=r"values from -1 to 2"):
        ce.prepare_targets(np.array([[-1.0, 2.0], [1, 0]]), 2, nb)
    with pytest.raises(ConfigError, match="binary cross-entropy needs a model with 1 output"):
        bce.prepare_targets(np.array([0, 1]), 3, nb)
    with pytest.raises(
        ConfigError, match="softmax cross-entropy needs a model with one output per class"
    ):
        ce.prepare_targets(np.array([0, 1]), 1, nb)


def test_get_and_infer_loss():
    assert get_loss("cross_entropy").name == "softmax_cross_entropy"
    assert get_loss("bce").task == "binary"
    with pytest.raises(
        ConfigError, match=r"unknown loss 'hinge'; known losses: mse, bce, softmax_cross_entropy"
    ):
        get_loss("hinge")
    assert infer_loss(np.array([0, 1]), 1).name == "bce"
    assert infer_loss(np.array([0, 2]), 3).name == "softmax_cross_entropy"
    assert infer_loss(np.array([0.5, 2.0]), 1).name == "mse"
