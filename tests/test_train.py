"""``fit``: the training loop against a hand-written one, and every option it has."""

from __future__ import annotations

import io
import math
import sys

import numpy as np
import pytest
from conftest import require_backend

from mlplab import MLP, fit
from mlplab.backend.arrays import to_numpy
from mlplab.errors import MLPLabError, TrainingDiverged
from mlplab.nn.losses import get_loss
from mlplab.nn.schedules import Step, learning_rates
from mlplab.train import History, TrainState
from mlplab.train.plan import epoch_order as _epoch_order


def _regression(n=10, d=2, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d))
    return X, np.sin(X @ np.arange(1.0, d + 1))


def _blobs(n=24, seed=0):
    rng = np.random.default_rng(seed)
    y = np.arange(n) % 2
    X = rng.normal(size=(n, 2)) + 1.5 * (2 * y[:, None] - 1)
    return X, y


def _hand_sgd(net, X, y, loss, lrs, batches, l2=0.0):
    """Plain gradient descent written out: θ ← θ − lr_t (∇L_batch + l2 W); returns step losses."""
    losses = []
    for lr, idx in zip(lrs, batches, strict=True):
        xb, yb = (X, y) if idx is None else (X[idx], y[idx])
        value, back = net.gradients(xb, yb, loss)
        value += 0.5 * l2 * sum(float((W**2).sum()) for _, W in net.numpy_params())
        losses.append(value)
        net.params = [
            (b - lr * gb, W - lr * (gW + l2 * W))
            for (b, W), (gb, gW) in zip(net.params, back.grads, strict=True)
        ]
    return losses


def _same_params(a, b, exact=True, rtol=1e-12):
    for (ba, Wa), (bb, Wb) in zip(a.numpy_params(), b.numpy_params(), strict=True):
        if exact:
            np.testing.assert_array_equal(Wa, Wb)
            np.testing.assert_array_equal(ba, bb)
        else:
            np.testing.assert_allclose(Wa, Wb, rtol=rtol, atol=1e-14)
            np.testing.assert_allclose(ba, bb, rtol=rtol, atol=1e-14)


def _net(backend="numpy", dtype="float64", n_out=1, seed=0, **kw):
    return MLP(2, [5], n_out, seed=seed, backend=backend, dtype=dtype, **kw)


# --- the loop itself --------------------------------------------------------


def test_full_batch_fit_equals_hand_written_gradient_descent_with_schedule_and_l2():
    X, y = _regression()
    sched = Step(step_size=4, gamma=0.5)
    net, ref = _net(), _net()
    h = fit(net, X, y, optimizer="sgd", lr=0.2, schedule=sched, epochs=10, l2=0.01, verbose=0)
    lrs = learning_rates(0.2, sched, 0, 10, 10)
    losses = _hand_sgd(ref, X, y, "mse", lrs, [None] * 10, l2=0.01)
    _same_params(net, ref, exact=False)
    # full batch: one step per epoch, and an epoch's loss is the loss before its step
    assert h.epoch == list(range(1, 11)) and h.n_steps == 10
    np.testing.assert_allclose(h.train_loss, losses, rtol=1e-12)
    assert h.loss == "mse" and h.metric == "r2"


def test_minibatch_fit_uses_the_seeded_epoch_order_with_a_last_partial_batch():
    X, y = _regression(n=10)
    net, ref = _net(), _net()
    h = fit(net, X, y, optimizer="sgd", lr=0.1, epochs=3, batch_size=4, seed=5, verbose=0)
    batches = []
    for e in range(3):
        order = _epoch_order(10, 4, True, 5, e)
        batches += [order[0:4], order[4:8], order[8:10]]  # 4 + 4 + 2
    losses = _hand_sgd(ref, X, y, "mse", [0.1] * 9, batches)
    _same_params(net, ref, exact=False)
    assert h.n_steps == 9
    # an epoch's loss: the mean of its batch losses weighted by batch size
    sizes = np.array([4, 4, 2])
    expected = [float(np.dot(losses[3 * e : 3 * e + 3], sizes) / 10) for e in range(3)]
    np.testing.assert_allclose(h.train_loss, expected, rtol=1e-12)


def test_epoch_order_is_seeded_per_epoch():
    a = _epoch_order(10, 3, True, 1, 0)
    np.testing.assert_array_equal(np.sort(a), np.arange(10))
    np.testing.assert_array_equal(a, _epoch_order(10, 3, True, 1, 0))
    assert not np.array_equal(a, _epoch_order(10, 3, True, 1, 1))  # a new order each epoch
    assert not np.array_equal(a, _epoch_order(10, 3, True, 2, 0))  # another seed
    np.testing.assert_array_equal(_epoch_order(10, 3, False, 1, 4), np.arange(10))
    assert _epoch_order(10, 10, True, 1, 0) is None  # full batch: order does not matter


def test_seed_controls_shuffling():
    X, y = _regression(n=12)
    runs = []
    for seed in (0, 0, 1):
        net = _net()
        fit(net, X, y, optimizer="sgd", lr=0.1, epochs=2, batch_size=5, seed=seed, verbose=0)
        runs.append(net)
    _same_params(runs[0], runs[1])
    assert not np.allclose(runs[0].numpy_params()[0][1], runs[2].numpy_params()[0][1])
    unshuffled = _net()
    fit(unshuffled, X, y, optimizer="sgd", lr=0.1, epochs=2, batch_size=5, shuffle=False, verbose=0)
    ref = _net()
    _hand_sgd(
        ref, X, y, "mse", [0.1] * 6, [np.arange(0, 5), np.arange(5, 10), np.arange(10, 12)] * 2
    )
    _same_params(unshuffled, ref, exact=False)


def test_steps_versus_epochs():
    X, y = _regression(n=10)
    net = _net()
    h = fit(net, X, y, optimizer="sgd", lr=0.1, steps=7, batch_size=4, seed=2, verbose=0)
    assert h.n_steps == 7 and h.state.step == 7
    # two whole epochs (6 steps) and one step of the third, recorded as a partial epoch
    assert h.epoch == [1, 2, 3] and len(h.train_loss) == 3
    assert (h.state.epoch, h.state.batch_in_epoch) == (2, 1)
    ref = _net()
    batches = []
    for e in range(3):
        order = _epoch_order(10, 4, True, 2, e)
        batches += [order[0:4], order[4:8], order[8:10]]
    _hand_sgd(ref, X, y, "mse", [0.1] * 7, batches[:7])
    _same_params(net, ref, exact=False)
    h = fit(_net(), X, y, epochs=3, batch_size=4, verbose=0)
    assert h.n_steps == 9 and len(h.train_loss) == 3


# --- validation, early stopping, history, callbacks ------------------------


def test_validation_split_holds_out_a_seeded_subset():
    X, y = _regression(n=20)
    net = _net()
    h = fit(net, X, y, optimizer="sgd", lr=0.1, epochs=3, validation_split=0.25, seed=3, verbose=0)
    perm = np.random.default_rng([3, 2**31 - 1]).permutation(20)
    val, train = perm[:5], perm[5:]
    ref = _net()
    _hand_sgd(ref, X[train], y[train], "mse", [0.1] * 3, [None] * 3)
    _same_params(net, ref, exact=False)
    assert len(h.val_loss) == len(h.val_metric) == 3
    final = float(get_loss("mse").value_and_grad(to_numpy(net(X[val])), y[val][:, None])[0])
    assert h.val_loss[-1] == pytest.approx(final, rel=1e-12)
    assert h.val_metric[-1] == pytest.approx(net.score(X[val], y[val]), rel=1e-12)


def test_validation_data_and_train_metrics():
    X, y = _blobs()
    Xv, yv = _blobs(seed=1)
    net = _net(seed=1)
    h = fit(net, X, y, lr=0.05, epochs=4, validation_data=(Xv, yv), train_metrics=True, verbose=0)
    assert h.loss == "bce" and h.metric == "accuracy"
    assert len(h.val_loss) == len(h.train_metric) == 4
    out = to_numpy(net(Xv))
    assert h.val_loss[-1] == pytest.approx(
        float(get_loss("bce").value_and_grad(out, yv[:, None])[0])
    )
    assert h.val_metric[-1] == net.score(Xv, yv)
    assert h.train_metric[-1] == net.score(X, y)
    assert h.best_epoch == 1 + int(np.argmin(h.val_loss))
    d = h.as_dict()
    assert set(d) == {
        "loss",
        "metric",
        "epoch",
        "train_loss",
        "val_loss",
        "val_accuracy",
        "train_accuracy",
        "best_epoch",
        "stopped_early",
        "interrupted",
        "n_steps",
    }
    assert d["val_accuracy"] == h.val_metric and d["n_steps"] == 4 and not d["stopped_early"]


def test_early_stopping_restores_the_best_weights():
    """Validation targets are the negated training targets: learning makes val loss rise."""
    rng = np.random.default_rng(4)
    X = rng.normal(size=(30, 2))
    y = X @ np.array([1.0, -2.0])
    Xv = rng.normal(size=(10, 2))
    yv = -(Xv @ np.array([1.0, -2.0]))
    snapshots = {}

    def remember(epoch, logs, model):
        snapshots[epoch] = model.numpy_params()

    net = _net(seed=2)
    h = fit(
        net, X, y, optimizer="sgd", lr=0.05, epochs=100, validation_data=(Xv, yv),
        early_stopping=True, patience=3, callbacks=[remember], verbose=0,
    )  # fmt: skip
    assert h.stopped_early
    assert len(h.epoch) == h.best_epoch + 3 < 100
    assert h.val_loss[h.best_epoch - 1] == min(h.val_loss)
    assert h.val_loss[-1] > h.val_loss[h.best_epoch - 1]
    for (b, W), (bb, Wb) in zip(net.numpy_params(), snapshots[h.best_epoch], strict=True):
        np.testing.assert_array_equal(W, Wb)
        np.testing.assert_array_equal(b, bb)
    last = snapshots[h.epoch[-1]]
    assert not np.array_equal(net.numpy_params()[0][1], last[0][1])


@pytest.mark.filterwarnings("ignore:overflow encountered:RuntimeWarning")
def test_early_stopping_when_validation_loss_is_never_finite():
    """float32 validation targets of 1e25 overflow the squared error: patience still runs out."""
    X, y = _regression()
    net = _net(dtype="float32")
    W0 = net.numpy_params()[0][1].copy()
    h = fit(
        net,
        X,
        y,
        validation_data=(X, y * 1e25),
        early_stopping=True,
        patience=2,
        epochs=9,
        verbose=0,
    )
    assert h.stopped_early and h.epoch == [1, 2] and h.best_epoch is None
    assert np.all(np.isinf(h.val_loss))
    assert not np.array_equal(net.numpy_params()[0][1], W0)  # nothing better to restore


def test_callbacks_see_every_epoch_and_can_stop_training():
    X, y = _regression()
    seen = []

    def cb(epoch, logs, model):
        seen.append((epoch, sorted(logs), model))
        return epoch == 3

    net = _net()
    h = fit(net, X, y, epochs=10, validation_split=0.2, callbacks=[cb], verbose=0)
    assert [s[0] for s in seen] == [1, 2, 3] == h.epoch
    assert seen[0][1] == ["epoch", "train_loss", "val_loss", "val_r2"]
    assert all(s[2] is net for s in seen)
    assert not h.stopped_early and net.history is h


def test_progress_is_silent_when_not_a_tty(capsys):
    X, y = _regression()
    fit(_net(), X, y, epochs=2, verbose=1)
    assert capsys.readouterr() == ("", "")
    fit(_net(), X, y, epochs=2, verbose=2)
    out, err = capsys.readouterr()
    assert out == "" and err.startswith("epoch 1: train_loss ") and "epoch 2:" in err


class _FakeTerminal(io.StringIO):
    def isatty(self):
        return True


def test_progress_bar_on_a_terminal_only_when_verbose(monkeypatch, capsys):
    X, y = _regression()
    term = _FakeTerminal()
    monkeypatch.setattr(sys, "stderr", term)
    fit(_net(), X, y, epochs=2, verbose=0)
    assert term.getvalue() == ""
    fit(_net(), X, y, epochs=2, verbose=1)
    assert "epoch" in term.getvalue() and "2/2" in term.getvalue()
    assert capsys.readouterr().out == ""  # the bar goes to the terminal (stderr), not stdout


# --- sample weights and L2 ---------------------------------------------------


@pytest.mark.parametrize(("loss", "n_out"), [("mse", 1), ("bce", 1), ("softmax_cross_entropy", 2)])
def test_sample_weight_two_equals_a_duplicated_row(loss, n_out):
    X, y = _blobs(n=9)
    if loss == "mse":
        y = y + 0.5 * X[:, 0]
    w = np.ones(9)
    w[4] = 2.0
    a, b = _net(n_out=n_out), _net(n_out=n_out)
    kw = dict(loss=loss, optimizer="adam", lr=0.05, epochs=6, verbose=0)
    ha = fit(a, X, y, sample_weight=w, **kw)
    hb = fit(b, np.concatenate([X, X[4:5]]), np.concatenate([y, y[4:5]]), **kw)
    _same_params(a, b, exact=False, rtol=1e-10)
    np.testing.assert_allclose(ha.train_loss, hb.train_loss, rtol=1e-12)


def test_epoch_loss_with_sample_weights_is_the_weighted_mean():
    """With a negligible step the weights stay put, so each epoch's loss is Σ wᵢ lᵢ / Σ wᵢ."""
    X, y = _regression(n=10)
    w = np.array([5.0, 0.1, 0.1, 3.0, 1.0, 0.2, 4.0, 0.5, 2.0, 0.3])
    net = _net()
    h = fit(
        net, X, y, optimizer="sgd", lr=1e-30, epochs=2, batch_size=3, sample_weight=w, verbose=0
    )
    value = float(get_loss("mse").value_and_grad(to_numpy(net(X)), y[:, None], w)[0])
    np.testing.assert_allclose(h.train_loss, [value, value], rtol=1e-12)


def test_full_batch_sample_weight_on_every_backend(backend):
    """The weighted full-batch run (JAX: the compiled full-batch scan) equals NumPy's."""
    X, y = _blobs(n=9)
    w = np.linspace(0.5, 2.0, 9)
    kw = dict(optimizer="adam", lr=0.05, epochs=5, sample_weight=w, verbose=0)
    ref, net = _net(), _net(backend=backend)
    h_ref, h = fit(ref, X, y, **kw), fit(net, X, y, **kw)
    np.testing.assert_allclose(h.train_loss, h_ref.train_loss, rtol=1e-12)
    _same_params(net, ref, exact=False, rtol=1e-11)


def test_l2_shrinks_weights_and_enters_the_loss():
    X, y = _regression(n=20)
    plain, decayed = _net(), _net()
    hp = fit(plain, X, y, lr=0.05, epochs=30, verbose=0)
    hd = fit(decayed, X, y, lr=0.05, epochs=30, l2=0.5, verbose=0)
    norm = lambda m: sum(float((W**2).sum()) for _, W in m.numpy_params())  # noqa: E731
    assert norm(decayed) < 0.8 * norm(plain)
    # first epoch: same weights, so the loss differs by exactly the penalty (l2/2) Σ‖W‖²
    assert hd.train_loss[0] - hp.train_loss[0] == pytest.approx(0.25 * norm(_net()), rel=1e-10)


# --- divergence, interruption and resume ------------------------------------


@pytest.mark.filterwarnings("ignore:overflow encountered:RuntimeWarning")
@pytest.mark.filterwarnings("ignore:invalid value encountered:RuntimeWarning")
def test_huge_learning_rate_raises_training_diverged(backend):
    X, y = _regression(n=16)
    net = _net(backend=backend, dtype="float32")
    with pytest.raises(TrainingDiverged) as info:
        fit(net, X, y * 100, optimizer="sgd", lr=1e4, epochs=60, verbose=0)
    err = info.value
    assert isinstance(err, MLPLabError)
    assert err.step >= 2
    assert err.last_finite_loss is not None and math.isfinite(err.last_finite_loss)
    msg = str(err)
    assert f"at step {err.step} " in msg
    assert f"last finite loss: {err.last_finite_loss}" in msg
    assert "Try a smaller learning rate, e.g. lr=1000 (was 10000)" in msg
    for b, W in net.numpy_params():
        assert np.all(np.isfinite(W)) and np.all(np.isfinite(b))


@pytest.mark.parametrize("batch_size", [None, 16])
def test_divergence_keeps_the_weights_of_the_last_finite_epoch(backend, batch_size):
    # No per-epoch work: the whole run is one compiled chunk, yet the model must end
    # with the weights after the last epoch whose losses were all finite.
    rng = np.random.default_rng(0)
    X = rng.normal(size=(40, 3))
    y = X @ np.array([1.0, 2.0, 3.0])
    settings = dict(optimizer="sgd", lr=1.0 if batch_size is None else 0.3, verbose=0)
    net = MLP(3, [8], 1, activation="relu", seed=0, backend=backend)
    with pytest.raises(TrainingDiverged) as info:
        fit(net, X, y, epochs=60, batch_size=batch_size, **settings)
    state = info.value.history.state
    assert state.epoch >= 1  # it diverged after some finite epochs, not at once
    # the kept weights are those before the loss went bad: a step's loss is computed with
    # the weights entering it, so the epoch whose last step produced the bad loss is not kept
    assert f"(end of epoch {state.epoch})" in str(info.value)
    ref = MLP(3, [8], 1, activation="relu", seed=0, backend=backend)
    fit(ref, X, y, epochs=state.epoch, batch_size=batch_size, **settings)
    for (b, W), (rb, rW) in zip(net.numpy_params(), ref.numpy_params(), strict=True):
        np.testing.assert_array_equal(W, rW)
        np.testing.assert_array_equal(b, rb)


def test_a_batch_whose_weights_are_all_zero_contributes_nothing():
    X, y = _regression(n=12)
    w = np.zeros(12)
    w[-1] = 1.0  # the first two batches of 4 weigh nothing
    net = _net()
    before = [W.copy() for _, W in net.numpy_params()]
    h = fit(net, X, y, sample_weight=w, batch_size=4, shuffle=False, epochs=1,
            optimizer="sgd", lr=0.1, verbose=0)  # fmt: skip
    assert np.isfinite(h.train_loss[0])
    ref = _net()  # one step on the only weighted sample equals the same SGD step
    fit(ref, X[-1:], y[-1:], optimizer="sgd", lr=0.1, steps=1, verbose=0)
    for (_, W), (_, rW), W0 in zip(net.numpy_params(), ref.numpy_params(), before, strict=True):
        assert not np.array_equal(W, W0)
        np.testing.assert_allclose(W, rW, rtol=1e-6)


def test_custom_activations_with_one_name_do_not_share_a_training_step():
    from mlplab.nn.activations import Activation

    double = Activation("mine", lambda z: 2 * z, lambda z, a: 2 + 0 * z)
    half = Activation("mine", lambda z: 0.5 * z, lambda z, a: 0.5 + 0 * z)
    assert double != half
    X, y = _regression(n=10)
    losses = []
    for act in (double, half, double):
        net = MLP(2, [4], 1, activation=act, seed=0)
        losses.append(fit(net, X, y, epochs=3, verbose=0).train_loss[-1])
    assert losses[0] == losses[2] != losses[1]


def test_an_unhashable_custom_loss_or_optimizer_gets_a_clear_error():
    from dataclasses import dataclass

    from mlplab.errors import ConfigError
    from mlplab.nn.losses import MSE
    from mlplab.nn.optim import SGD

    class Methods:
        name, task = "mse", "regression"

        def value_and_grad(self, out, target, weight=None):
            return MSE().value_and_grad(out, target, weight)

        def prepare_targets(self, y, n_outputs, backend):
            return MSE().prepare_targets(y, n_outputs, backend)

    @dataclass  # eq=True without frozen: __hash__ is None
    class MyLoss(Methods):
        pass

    @dataclass(frozen=True)
    class FrozenLoss(Methods):
        pass

    @dataclass
    class MySGD:
        name: str = "sgd"

        def init(self, params):
            return SGD().init(params)

        def update(self, params, grads, state, lr, t):
            return SGD().update(params, grads, state, lr, t)

    X, y = _regression(n=8)
    with pytest.raises(ConfigError, match="custom loss must be hashable.*MyLoss"):
        fit(_net(), X, y, loss=MyLoss(), epochs=1, verbose=0)
    with pytest.raises(ConfigError, match="custom optimizer must be hashable.*MySGD"):
        fit(_net(), X, y, optimizer=MySGD(), epochs=1, verbose=0)
    assert len(fit(_net(), X, y, loss=FrozenLoss(), epochs=2, verbose=0).train_loss) == 2


def test_a_partial_last_epoch_is_labelled_alike_everywhere():
    X, y = _regression(n=10)
    seen = []
    h = fit(_net(), X, y, steps=7, batch_size=4, validation_data=(X, y), verbose=0,
            callbacks=[lambda epoch, logs, model: seen.append((epoch, logs["epoch"]))])  # fmt: skip
    assert h.epoch == [1, 2, 3]
    assert seen == [(1, 1), (2, 2), (3, 3)]
    assert h.best_epoch == h.epoch[int(np.argmin(h.val_loss))]


def _stop_after(n_calls):
    """A should_stop that says yes on its n-th call (and after)."""
    calls = []

    def should_stop():
        calls.append(1)
        return len(calls) >= n_calls

    should_stop.calls = calls
    return should_stop


def test_should_stop_is_asked_once_per_step():
    X, y = _regression(n=10)
    for n_calls in (2, 3, 4, 6):  # 3 steps per epoch: 3 and 6 end an epoch
        never = _stop_after(10**9)
        h = fit(_net(), X, y, epochs=2, batch_size=4, should_stop=never, verbose=0)
        assert len(never.calls) == 6 and not h.interrupted
        stop = _stop_after(n_calls)
        h = fit(_net(), X, y, epochs=3, batch_size=4, should_stop=stop, verbose=0)
        assert h.interrupted and h.n_steps == n_calls == len(stop.calls)
        assert h.epoch == list(range(1, n_calls // 3 + 1))


def test_should_stop_then_resume_is_bitwise_identical(backend):
    """Interrupt (mid-epoch on NumPy/PyTorch, at an epoch boundary on JAX), resume with `state`.

    On JAX both runs are given a `should_stop`, so both compile one epoch per
    `lax.scan`: XLA may fuse a longer scan differently (1 ulp apart in float32),
    and bitwise equality is promised for the same compiled program.
    """
    X, y = _regression(n=10)
    kw = dict(optimizer="adam", lr=0.05, batch_size=4, seed=3, verbose=0)
    never = (lambda: False) if backend == "jax" else None
    whole = _net(backend=backend, dtype="float32")
    hw = fit(whole, X, y, epochs=4, should_stop=never, **kw)  # 4 epochs × 3 steps, uninterrupted

    net = _net(backend=backend, dtype="float32")
    h1 = fit(net, X, y, epochs=4, should_stop=_stop_after(2 if backend == "jax" else 5), **kw)
    assert h1.interrupted
    st = h1.state
    assert st.step == 3 * st.epoch + st.batch_in_epoch
    if backend == "jax":  # asked once per compiled epoch
        assert (st.step, st.epoch, st.batch_in_epoch) == (6, 2, 0)
    else:  # asked once after every step: stopped after step 5, inside the second epoch
        assert (st.step, st.epoch, st.batch_in_epoch) == (5, 1, 2)
    assert h1.epoch == list(range(1, st.epoch + 1))
    remaining = 4 - st.epoch  # a partly done epoch counts as one to go
    h2 = fit(net, X, y, epochs=remaining, state=st, should_stop=never, **kw)
    assert not h2.interrupted
    assert h2.state.step == 12 and h2.state.epoch == 4 and h2.epoch[-1] == 4
    _same_params(net, whole)
    # the interrupted epoch's loss covers the batches before and after the interrupt
    assert h1.epoch + h2.epoch == hw.epoch and h1.train_loss + h2.train_loss == hw.train_loss


# --- inputs of every array type ---------------------------------------------


def _as(kind, arr):
    if kind == "numpy":
        return arr
    require_backend(kind)
    if kind == "torch":
        import torch

        return torch.as_tensor(arr)
    import jax.numpy as jnp

    return jnp.asarray(arr)


@pytest.mark.parametrize("input_kind", ["numpy", "torch", "jax"])
def test_fit_accepts_every_array_type(backend, input_kind):
    X, y = _blobs(n=12)
    ref = _net(backend=backend, dtype="float32")
    fit(ref, X.astype(np.float32), y, epochs=3, batch_size=5, verbose=0)
    net = _net(backend=backend, dtype="float32")
    h = fit(
        net,
        _as(input_kind, X.astype(np.float32)),
        _as(input_kind, y),
        epochs=3,
        batch_size=5,
        verbose=0,
    )
    assert h.loss == "bce"  # integer labels of any array type are recognised as classes
    _same_params(net, ref)
    assert net.predict_class(_as(input_kind, X)).shape == (12,)
    assert 0.0 <= net.score(_as(input_kind, X), _as(input_kind, y)) <= 1.0


def test_history_defaults():
    h = History(loss="mse", metric="r2")
    assert h.epoch == [] and h.best_epoch is None and not h.interrupted
    assert TrainState(opt_state={}).batch_in_epoch == 0
