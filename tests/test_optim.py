"""Optimizers: each update rule equals ``torch.optim``'s, step by step, in float64."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import require_backend

from mlplab.backend.arrays import get_backend, to_numpy
from mlplab.errors import ConfigError
from mlplab.nn.optim import SGD, Adam, AdamW, get_optimizer

N_STEPS = 8
SHAPES = [((4,), (4, 3)), ((2,), (2, 4))]

# (mlplab optimizer, torch.optim class name, torch settings)
CASES = [
    ("sgd", SGD(), "SGD", {}),
    ("sgd-momentum", SGD(momentum=0.9), "SGD", {"momentum": 0.9}),
    ("sgd-nesterov", SGD(momentum=0.8, nesterov=True), "SGD", {"momentum": 0.8, "nesterov": True}),
    ("sgd-weight-decay", SGD(weight_decay=0.05), "SGD", {"weight_decay": 0.05}),
    (
        "sgd-momentum-nesterov-wd",
        SGD(momentum=0.5, nesterov=True, weight_decay=0.1),
        "SGD",
        {"momentum": 0.5, "nesterov": True, "weight_decay": 0.1},
    ),
    ("adam", Adam(), "Adam", {}),
    (
        "adam-settings",
        Adam(beta1=0.8, beta2=0.95, eps=1e-6),
        "Adam",
        {"betas": (0.8, 0.95), "eps": 1e-6},
    ),
    ("adam-weight-decay", Adam(weight_decay=0.1), "Adam", {"weight_decay": 0.1}),
    ("adamw", AdamW(), "AdamW", {}),
    (
        "adamw-0.2",
        AdamW(weight_decay=0.2, beta2=0.99),
        "AdamW",
        {"weight_decay": 0.2, "betas": (0.9, 0.99)},
    ),
]


def _params_and_grads(seed=0):
    rng = np.random.default_rng(seed)
    params = [(rng.normal(size=b), rng.normal(size=W)) for b, W in SHAPES]
    grads = [[(rng.normal(size=b), rng.normal(size=W)) for b, W in SHAPES] for _ in range(N_STEPS)]
    return params, grads


@pytest.mark.parametrize(
    ("label", "opt", "torch_name", "settings"), CASES, ids=[c[0] for c in CASES]
)
def test_update_equals_torch_optim(label, opt, torch_name, settings):
    """The same gradients fed to both for N_STEPS steps, with a learning rate changing per step."""
    require_backend("torch")
    import torch

    params, grads = _params_and_grads()
    lrs = [0.1, 0.05, 0.2, 0.1, 0.01, 0.3, 0.1, 0.07]
    tparams = [torch.tensor(p, requires_grad=True) for layer in params for p in layer]
    topt = getattr(torch.optim, torch_name)(tparams, lr=lrs[0], **settings)
    state = opt.init(params)
    for t, (g, lr) in enumerate(zip(grads, lrs, strict=True), start=1):
        for group in topt.param_groups:
            group["lr"] = lr
        for tp, gp in zip(tparams, [x for layer in g for x in layer], strict=True):
            tp.grad = torch.tensor(gp)
        topt.step()
        params, state = opt.update(params, g, state, lr, t)
        mine = [x for layer in params for x in layer]
        for a, b in zip(mine, tparams, strict=True):
            np.testing.assert_allclose(a, b.detach().numpy(), rtol=1e-13, atol=1e-15)


@pytest.mark.parametrize(
    ("label", "opt"), [(c[0], c[1]) for c in CASES[::2]], ids=[c[0] for c in CASES[::2]]
)
def test_update_is_the_same_on_every_backend(label, opt, backend):
    bk = get_backend(backend, "float64")
    params, grads = _params_and_grads(1)
    ref, ref_state = params, opt.init(params)
    mine = [(bk.asarray(b), bk.asarray(W)) for b, W in params]
    state = opt.init(mine)
    for t, g in enumerate(grads[:5], start=1):
        ref, ref_state = opt.update(ref, g, ref_state, 0.05, t)
        mine, state = opt.update(
            mine, [(bk.asarray(b), bk.asarray(W)) for b, W in g], state, 0.05, t
        )
    for (b, W), (rb, rW) in zip(mine, ref, strict=True):
        np.testing.assert_allclose(to_numpy(W), rW, rtol=1e-13)
        np.testing.assert_allclose(to_numpy(b), rb, rtol=1e-13)


def test_plain_sgd_by_hand():
    params, grads = _params_and_grads(2)
    new, state = SGD().update(params, grads[0], SGD().init(params), 0.5, 1)
    assert state == {}
    for (b, W), (gb, gW), (nb, nW) in zip(params, grads[0], new, strict=True):
        np.testing.assert_allclose(nW, W - 0.5 * gW)
        np.testing.assert_allclose(nb, b - 0.5 * gb)


def test_first_adam_step_moves_each_weight_by_lr():
    """With bias correction, step 1 is −lr · g / (|g| + ε): every weight moves by ≈ lr."""
    params, grads = _params_and_grads(3)
    new, _ = Adam().update(params, grads[0], Adam().init(params), 0.01, 1)
    for (_, W), (_, gW), (_, nW) in zip(params, grads[0], new, strict=True):
        np.testing.assert_allclose(W - nW, 0.01 * np.sign(gW), rtol=1e-6)


def test_updates_do_not_modify_inputs():
    params, grads = _params_and_grads(4)
    copies = [(b.copy(), W.copy()) for b, W in params]
    for opt in (SGD(momentum=0.9), Adam(), AdamW()):
        opt.update(params, grads[0], opt.init(params), 0.1, 1)
        for (b, W), (cb, cW) in zip(params, copies, strict=True):
            np.testing.assert_array_equal(W, cW)
            np.testing.assert_array_equal(b, cb)


def test_get_optimizer_and_errors():
    assert get_optimizer("sgd", momentum=0.9) == SGD(momentum=0.9)
    assert get_optimizer("adamw").weight_decay == 0.01
    opt = Adam()
    assert get_optimizer(opt) is opt
    with pytest.raises(
        ConfigError, match=r"unknown optimizer 'rmsprop'; known optimizers: sgd, adam, adamw"
    ):
        get_optimizer("rmsprop")
    with pytest.raises(ConfigError, match="bad settings for optimizer 'sgd'"):
        get_optimizer("sgd", beta1=0.9)
    with pytest.raises(ConfigError, match=r"`momentum` must be < 1; got 1.5"):
        SGD(momentum=1.5)
    with pytest.raises(ConfigError, match="`nesterov=True` needs `momentum` > 0"):
        SGD(nesterov=True)
    with pytest.raises(ConfigError, match=r"`beta2` must be < 1; got 1"):
        Adam(beta2=1)
    with pytest.raises(ConfigError, match=r"`eps` must be > 0; got 0"):
        Adam(eps=0)
    with pytest.raises(ConfigError, match=r"`weight_decay` must be >= 0; got -0.1"):
        AdamW(weight_decay=-0.1)
