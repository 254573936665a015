"""Learning-rate schedules: hand formulas and ``torch.optim.lr_scheduler``."""

from __future__ import annotations

import math

import numpy as np
import pytest
from conftest import require_backend

from mlplab.errors import ConfigError
from mlplab.nn.schedules import Constant, Cosine, Step, Warmup, get_schedule, learning_rates

LR, TOTAL = 0.3, 50


def test_constant():
    np.testing.assert_array_equal(
        learning_rates(LR, "constant", 0, TOTAL, TOTAL), np.full(TOTAL, LR)
    )
    np.testing.assert_array_equal(learning_rates(LR, None, 0, 3, 3), [LR] * 3)


def test_step_by_hand():
    lrs = learning_rates(LR, Step(step_size=7, gamma=0.5), 0, TOTAL, TOTAL)
    for t in range(TOTAL):
        assert lrs[t] == pytest.approx(LR * 0.5 ** (t // 7), rel=1e-15)
    assert lrs[6] == LR and lrs[7] == LR / 2 and lrs[49] == LR / 2**7


def test_cosine_by_hand():
    lrs = learning_rates(LR, Cosine(min_factor=0.1), 0, TOTAL, TOTAL)
    for t in range(TOTAL):
        expected = LR * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * t / TOTAL)))
        assert lrs[t] == pytest.approx(expected, rel=1e-14)
    assert lrs[0] == pytest.approx(LR)
    assert lrs[TOTAL // 2] == pytest.approx(LR * 0.55)
    # past the end it stays at the floor
    assert learning_rates(LR, Cosine(), TOTAL + 5, 1, TOTAL)[0] == pytest.approx(0.0, abs=1e-15)


def test_warmup_by_hand():
    W = 10
    lrs = learning_rates(LR, Warmup(warmup_steps=W), 0, TOTAL, TOTAL)
    for t in range(W):
        assert lrs[t] == pytest.approx(LR * (t + 1) / W, rel=1e-15)
    np.testing.assert_allclose(lrs[W:], LR)
    after = learning_rates(LR, Warmup(warmup_steps=W, after=Cosine()), 0, TOTAL, TOTAL)
    np.testing.assert_allclose(after[:W], lrs[:W])
    for t in range(W, TOTAL):
        expected = LR * 0.5 * (1 + math.cos(math.pi * (t - W) / (TOTAL - W)))
        assert after[t] == pytest.approx(expected, rel=1e-13)


def test_a_window_of_a_run_equals_that_slice_of_the_whole_run():
    for sched in (Step(5, 0.3), Cosine(0.2), Warmup(8, Cosine())):
        whole = learning_rates(LR, sched, 0, TOTAL, TOTAL)
        np.testing.assert_array_equal(learning_rates(LR, sched, 13, 20, TOTAL), whole[13:33])


def _torch_lrs(make_scheduler, n):
    import torch

    p = torch.zeros(1, requires_grad=True)
    opt = torch.optim.SGD([p], lr=LR)
    sched = make_scheduler(opt)
    lrs = []
    for _ in range(n):
        lrs.append(opt.param_groups[0]["lr"])
        opt.step()
        sched.step()
    return np.array(lrs)


def test_step_matches_torch_steplr():
    require_backend("torch")
    from torch.optim.lr_scheduler import StepLR

    ref = _torch_lrs(lambda o: StepLR(o, step_size=7, gamma=0.5), TOTAL)
    np.testing.assert_allclose(learning_rates(LR, Step(7, 0.5), 0, TOTAL, TOTAL), ref, rtol=1e-14)


def test_cosine_matches_torch_cosine_annealing():
    require_backend("torch")
    from torch.optim.lr_scheduler import CosineAnnealingLR

    ref = _torch_lrs(lambda o: CosineAnnealingLR(o, T_max=TOTAL, eta_min=0.1 * LR), TOTAL)
    # torch updates recursively, so the two agree to rounding, not bitwise
    np.testing.assert_allclose(learning_rates(LR, Cosine(0.1), 0, TOTAL, TOTAL), ref, rtol=1e-10)


def test_warmup_matches_torch_linear_then_cosine():
    require_backend("torch")
    from torch.optim.lr_scheduler import CosineAnnealingLR, LinearLR, SequentialLR

    W = 10

    def make(o):
        warm = LinearLR(o, start_factor=1 / W, end_factor=1.0, total_iters=W - 1)
        cos = CosineAnnealingLR(o, T_max=TOTAL - W)
        return SequentialLR(o, [warm, cos], milestones=[W])

    ref = _torch_lrs(make, TOTAL)
    mine = learning_rates(LR, Warmup(W, Cosine()), 0, TOTAL, TOTAL)
    np.testing.assert_allclose(mine, ref, rtol=1e-10, atol=1e-15)


def test_get_schedule_and_errors():
    assert get_schedule(None) == Constant()
    assert get_schedule("step", step_size=3) == Step(3)
    s = Cosine()
    assert get_schedule(s) is s
    with pytest.raises(
        ConfigError,
        match=r"unknown schedule 'linear'; known schedules: constant, step, cosine, warmup",
    ):
        get_schedule("linear")
    with pytest.raises(ConfigError, match=r"`step_size` must be >= 1; got 0"):
        Step(step_size=0)
    with pytest.raises(ConfigError, match=r"`gamma` must be <= 1; got 2"):
        Step(gamma=2)
    with pytest.raises(ConfigError, match=r"`min_factor` must be <= 1; got 1.5"):
        Cosine(min_factor=1.5)
    with pytest.raises(ConfigError, match=r"`warmup_steps` must be >= 1; got 0"):
        Warmup(warmup_steps=0)
