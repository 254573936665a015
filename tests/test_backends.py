"""NumPy, PyTorch and JAX give the same numbers: initial weights, minibatch order, loss curves."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import require_backend

import mlplab.train.loop as train_module
from mlplab import MLP, fit
from mlplab.backend.arrays import (
    BACKENDS,
    available_backends,
    backend_of,
    from_numpy_like,
    get_backend,
    to_numpy,
)
from mlplab.errors import ConfigError, DataError
from mlplab.nn.optim import get_optimizer
from mlplab.nn.schedules import get_schedule
from mlplab.train.plan import epoch_order as _epoch_order

N, BATCH = 36, 8  # 5 steps per epoch, the last one a partial batch of 4
EPOCHS = 40  # 200 steps


def _data():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(N, 3))
    y = (X[:, 0] * X[:, 1] + 0.3 * X[:, 2] > 0).astype(int) + (X[:, 2] > 1).astype(int)
    return X, y  # three classes


def _all_backends():
    for name in BACKENDS:
        require_backend(name)
    return BACKENDS


OPTIMIZERS = {
    "sgd-momentum": dict(optimizer=get_optimizer("sgd", momentum=0.9), lr=0.05),
    "adam": dict(optimizer="adam", lr=0.01),
}


def _run(backend, dtype, settings, **extra):
    X, y = _data()
    net = MLP(3, [8, 6], 3, activation=["tanh", "relu"], seed=4, backend=backend, dtype=dtype)
    kw = dict(epochs=EPOCHS, batch_size=BATCH, seed=7, verbose=0) | settings | extra
    h = fit(net, X, y, **kw)
    assert h.n_steps == 200
    return np.array(h.train_loss), net


@pytest.mark.parametrize("opt", list(OPTIMIZERS))
def test_200_steps_give_the_same_loss_curve_on_every_backend(opt):
    """float32: curves equal to rtol 1e-4.

    Why 1e-4: float32 has ε ≈ 1.2e-7, and the frameworks sum in different orders
    (BLAS vs XLA vs NumPy matmuls, fused vs unfused ops), so each step differs
    by a few ulps; over 200 steps of a contracting optimisation these stay
    ~1e-6–1e-5 relative (measured ≤ 1e-5). 1e-4 leaves headroom while any real
    difference (another batch order, a wrong bias correction, a missed
    momentum term) changes the curve by > 1e-2. Measured on CPU: SGD ≤ 1e-6,
    Adam ≤ 2e-5 (JAX). float64 must agree to 1e-10.
    """
    names = _all_backends()
    curves = {b: _run(b, "float32", OPTIMIZERS[opt]) for b in names}
    ref_curve, ref_net = curves["numpy"]
    assert ref_curve[-1] < 0.7 * ref_curve[0]  # it does learn
    for b in names[1:]:
        curve, net = curves[b]
        np.testing.assert_allclose(curve, ref_curve, rtol=1e-4, err_msg=b)
        for pb, pr in zip(net.numpy_params(), ref_net.numpy_params(), strict=True):
            for a, r in zip(pb, pr, strict=True):  # b and W
                np.testing.assert_allclose(a, r, rtol=1e-3, atol=1e-4, err_msg=b)
    # float64 (JAX float64 is compared in the sample-weight test below)
    curves64 = {b: _run(b, "float64", OPTIMIZERS[opt])[0] for b in ("numpy", "torch")}
    np.testing.assert_allclose(curves64["torch"], curves64["numpy"], rtol=1e-10)
    np.testing.assert_allclose(ref_curve, curves64["numpy"], rtol=1e-4)


def test_same_seed_same_minibatch_order_on_every_backend(monkeypatch):
    """Spy on the step plans that fit hands to each backend's loop."""
    names = _all_backends()
    plans = {}
    real = train_module.run_steps

    def spy(backend, step_fn, params, opt_state, data, plan, should_stop=None, mesh=None):
        plans.setdefault(backend.name, []).append(
            (
                None if plan.batches is None else [np.asarray(b).copy() for b in plan.batches],
                plan.lrs.copy(),
                plan.t.copy(),
            )
        )
        return real(backend, step_fn, params, opt_state, data, plan, should_stop, mesh=mesh)

    monkeypatch.setattr(train_module, "run_steps", spy)
    for b in names:  # the Adam curve run's config, with a cosine schedule
        _run(b, "float32", OPTIMIZERS["adam"], schedule="cosine")
    expected = [
        order[k : k + BATCH]
        for e in range(EPOCHS)
        for order in [_epoch_order(N, BATCH, True, 7, e)]
        for k in range(0, N, BATCH)
    ]
    for b in names:
        batches = [batch for chunk in plans[b] for batch in chunk[0]]
        assert len(batches) == 200 and len(batches[4]) == 4
        for got, want in zip(batches, expected, strict=True):
            np.testing.assert_array_equal(got, want)
        lrs = np.concatenate([chunk[1] for chunk in plans[b]])
        np.testing.assert_array_equal(lrs, np.concatenate([c[1] for c in plans["numpy"]]))
        assert lrs[0] == 0.01 and lrs[-1] < 1e-5  # cosine, from lr down to ~0
        np.testing.assert_array_equal(np.concatenate([c[2] for c in plans[b]]), np.arange(1, 201))
    # JAX compiles the whole run as one scan when nothing happens between epochs
    assert len(plans["jax"]) == 1


def test_jax_runs_are_compiled_once_and_reused():
    """A second run with the same shapes reuses the compiled scan: no new trace."""
    require_backend("jax")
    from mlplab.backend import jax_loop as _backend

    _run("jax", "float32", OPTIMIZERS["adam"])
    runners = dict(_backend._JAX_RUNNERS)
    sizes = {k: f._cache_size() for k, f in runners.items()}
    _run("jax", "float32", OPTIMIZERS["adam"], seed=99)  # other data order, same shapes
    assert _backend._JAX_RUNNERS == runners
    assert {k: f._cache_size() for k, f in runners.items()} == sizes


def test_sample_weights_and_partial_batches_agree_across_backends():
    """JAX pads the short last batch with weight-0 rows; the losses must not change."""
    names = _all_backends()
    w = np.random.default_rng(1).uniform(0.2, 3.0, N)
    settings = dict(optimizer="adam", lr=0.01)
    curves = {b: _run(b, "float64", settings, sample_weight=w)[0] for b in names}
    for b in names[1:]:
        np.testing.assert_allclose(curves[b], curves["numpy"], rtol=1e-10, err_msg=b)
    unweighted = _run("numpy", "float64", settings)[0]
    assert not np.allclose(curves["numpy"], unweighted, rtol=1e-3)


FIT_OPTIONS = {
    "validation-early-stopping-nesterov-l2-warmup": dict(
        epochs=6,
        batch_size=16,
        validation_split=0.25,
        early_stopping=True,
        patience=2,
        optimizer=get_optimizer("sgd", momentum=0.5, nesterov=True),
        lr=0.1,
        l2=0.01,
        schedule=get_schedule("warmup", warmup_steps=4),
    ),
    "steps-mid-epoch": dict(steps=7, batch_size=10, train_metrics=True),
}


def test_fit_options_agree_across_backends():
    """Validation split, early stopping, a run ending mid-epoch, L2 and a schedule: float64."""
    names = _all_backends()
    X, y = _data()
    for label, options in FIT_OPTIONS.items():
        results = {}
        for b in names:
            net = MLP(3, [5], 3, seed=2, backend=b, dtype="float64")
            h = fit(net, X, y, seed=1, verbose=0, **options)
            results[b] = (h, net)
        ref_h, ref_net = results["numpy"]
        for b in names[1:]:
            h, net = results[b]
            assert h.epoch == ref_h.epoch and h.n_steps == ref_h.n_steps, (label, b)
            for key in ("train_loss", "val_loss", "val_metric", "train_metric"):
                np.testing.assert_allclose(
                    getattr(h, key), getattr(ref_h, key), rtol=1e-10, err_msg=f"{label} {b} {key}"
                )
            for pb, pr in zip(net.numpy_params(), ref_net.numpy_params(), strict=True):
                for a, r in zip(pb, pr, strict=True):
                    np.testing.assert_allclose(a, r, rtol=1e-10, atol=1e-13, err_msg=f"{label} {b}")


def test_same_seed_same_initial_weights_on_every_backend(dtype):
    names = _all_backends()
    nets = {b: MLP(3, [8, 6], 3, seed=21, backend=b, dtype=dtype) for b in names}
    for b in names:
        assert nets[b].backend.name == b and backend_of(nets[b].params[0][1]) == b
        for (bb, Wb), (br, Wr) in zip(
            nets[b].numpy_params(), nets["numpy"].numpy_params(), strict=True
        ):
            assert Wb.dtype == np.dtype(dtype)
            np.testing.assert_array_equal(Wb, Wr)
            np.testing.assert_array_equal(bb, br)


# --- moving arrays between frameworks ---------------------------------------


def test_available_backends_and_errors():
    assert available_backends()[0] == "numpy"
    assert set(available_backends()) <= set(BACKENDS)
    with pytest.raises(
        ConfigError, match=r"`backend` must be one of 'numpy', 'torch', 'jax'; got 'tensorflow'"
    ):
        get_backend("tensorflow")
    with pytest.raises(
        ConfigError, match=r"`dtype` must be one of 'float32', 'float64'; got 'float16'"
    ):
        get_backend("numpy", "float16")
    with pytest.raises(ConfigError, match=r"`backend` must be one of .* got 'cupy'"):
        MLP(2, [3], 1, backend="cupy")


def test_conversions_between_frameworks(backend):
    bk = get_backend(backend, "float64")
    values = np.arange(6.0).reshape(2, 3)
    arr = bk.asarray(values)
    assert backend_of(arr) == backend
    np.testing.assert_array_equal(to_numpy(arr), values)
    np.testing.assert_array_equal(to_numpy(bk.asarray([[1, 2]])), [[1.0, 2.0]])
    assert to_numpy(bk.asarray(values, dtype="int64")).dtype == np.int64
    back = from_numpy_like(values, arr)
    assert backend_of(back) == backend
    np.testing.assert_array_equal(to_numpy(back), values)
    for other in available_backends():
        moved = get_backend(other, "float32").asarray(arr)
        assert backend_of(moved) == other and to_numpy(moved).dtype == np.float32
        np.testing.assert_array_equal(to_numpy(moved), values)
    assert backend in bk.describe() and "float64" in bk.describe()


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_large_numpy_arrays_reach_jax_as_private_copies(dtype):
    """Over 1 MiB, the JAX backend copies NumPy inputs into an aligned buffer of its own that
    JAX then uses in place: the values of ``np.asarray(x, dtype)`` (casts, Fortran order,
    integers), and changing the caller's array afterwards changes nothing."""
    require_backend("jax")
    bk = get_backend("jax", dtype)
    rng = np.random.default_rng(0)
    inputs = [
        rng.standard_normal((700, 400)),  # float64
        rng.standard_normal((700, 400), dtype=np.float32)[:, ::-1],  # not contiguous
        np.asfortranarray(rng.standard_normal((700, 400), dtype=np.float32)),
        rng.integers(-5, 5, size=(700, 400)),
    ]
    for x in inputs:
        expected = np.asarray(x, dtype=dtype).copy()
        arr = bk.asarray(x)
        assert backend_of(arr) == "jax" and arr.dtype == np.dtype(dtype)
        x[...] = 0  # the caller's array, changed afterwards
        np.testing.assert_array_equal(to_numpy(arr), expected, strict=True)
        assert to_numpy(arr).ctypes.data % 64 == 0


def test_object_arrays_are_a_data_error():
    with pytest.raises(DataError, match="holds Python objects"):
        to_numpy(np.array([1, "a", None], dtype=object))


def test_thin_weight_gradients_take_the_transposed_product_and_agree():
    """A 2-input layer into 64 units on 256 rows: ``(bᵀ a)ᵀ`` on JAX and PyTorch (CPU).

    That spelling is only a speed choice (see ``batch_matmul_tn``); the sums must
    equal NumPy's ``a.T @ b`` and a whole float64 training run must match NumPy's.
    """
    import jax
    import torch

    from mlplab.backend.arrays import batch_matmul_tn

    names = _all_backends()
    rng = np.random.default_rng(3)
    delta, x = rng.normal(size=(256, 64)), rng.normal(size=(256, 2))
    expected = delta.T @ x  # (64, 2)
    for b in names:
        be = get_backend(b, "float64")
        got = batch_matmul_tn(be.asarray(delta), be.asarray(x))
        np.testing.assert_allclose(to_numpy(got), expected, rtol=1e-12, err_msg=b)
    # the fast spelling is what the compiled (JAX) and eager (PyTorch) paths run on a CPU
    hlo = jax.jit(batch_matmul_tn).lower(jax.numpy.ones((256, 64)), jax.numpy.ones((256, 2)))
    assert ("optimization_barrier" in hlo.as_text()) == (jax.default_backend() == "cpu")
    t = batch_matmul_tn(torch.ones(256, 64), torch.ones(256, 2))
    assert not t.is_contiguous()  # the transpose of a (2, 64) product

    X = rng.normal(size=(256, 2))
    y = (X[:, 0] * X[:, 1] > 0).astype(int)
    curves = {}
    for b in names:
        net = MLP(2, [64], 1, activation="tanh", seed=1, backend=b, dtype="float64")
        curves[b] = fit(net, X, y, optimizer="adam", lr=0.01, steps=50, verbose=0).train_loss
    for b in names[1:]:
        np.testing.assert_allclose(curves[b], curves["numpy"], rtol=1e-10, err_msg=b)


def test_one_variable_fits_compile_with_their_own_xla_options():
    """1-N-1 nets on the CPU compile without YNNPACK reductions (a speed choice only)."""
    require_backend("jax")
    import jax

    from mlplab.backend import jax_loop as _backend

    if jax.default_backend() != "cpu":
        pytest.skip("the XLA option is for CPU compilations only")

    def options(sizes, batch):
        net = MLP(sizes[0], sizes[1:-1], sizes[-1], seed=0, backend="jax")
        return _backend._xla_options(net.params, batch)

    assert options((1, 64, 1), 256) == (
        ("xla_cpu_experimental_ynn_fusion_type", "LIBRARY_FUSION_TYPE_DOT"),
    )
    assert options((1, 64, 1), 4096) == ()  # 2^18 activations a step: defaults
    assert options((2, 64, 1), 256) == ()
    assert options((1, 64, 4), 256) == ()

    # random points: on a symmetric grid some gradients are exactly 0 up to rounding,
    # and Adam turns that rounding noise into full-size steps (1e-5 apart in float64)
    x = np.random.default_rng(0).uniform(-2, 2, (256, 1))
    y = np.sin(3 * x)
    curves = {}
    for b in ("numpy", "jax"):
        net = MLP(1, [64], 1, activation="tanh", seed=0, backend=b, dtype="float64")
        curves[b] = fit(net, x, y, optimizer="adam", lr=0.01, steps=50, verbose=0).train_loss
    np.testing.assert_allclose(curves["jax"], curves["numpy"], rtol=1e-10)
    assert any(key[2] for key in _backend._JAX_RUNNERS if key[0] == "full")  # compiled with them


def _subnormal_probe_step(seen):
    """A step function that records, at each step, whether PyTorch flushes subnormals."""

    def step(params, opt_state, xb, yb, wb, lr, t):
        import torch

        seen.append(bool((torch.tensor([1e-39], dtype=torch.float32) * 1.0)[0] == 0))
        return params, opt_state, torch.zeros(())

    return step


def test_torch_loop_flushes_subnormals_and_restores_the_mode():
    """The PyTorch loop runs with flush-to-zero on, and leaves the mode as it found it."""
    require_backend("torch")
    import torch

    from mlplab.backend.loop import StepPlan, run_steps

    backend = get_backend("torch")
    plan = StepPlan(None, np.full(3, 0.1), np.arange(1, 4))
    data = (torch.zeros(2, 1), torch.zeros(2, 1), None)

    def flushing():
        return bool((torch.tensor([1e-39], dtype=torch.float32) * 1.0)[0] == 0)

    try:
        for before in (False, True):
            torch.set_flush_denormal(before)
            seen: list = []
            run_steps(backend, _subnormal_probe_step(seen), [], {}, data, plan)
            assert seen == [True, True, True]  # on during every step
            assert flushing() is before  # and back to what it was
    finally:
        torch.set_flush_denormal(False)


def test_numpy_loop_flushes_subnormal_optimizer_state():
    """NumPy has no flush mode: every FLUSH_EVERY steps the state's subnormals become 0."""
    from mlplab.backend import loop as _backend
    from mlplab.backend.loop import StepPlan, run_steps

    tiny = np.float32(1e-39)  # subnormal in float32
    state = {"v": [(np.full(3, tiny), np.array([[tiny, 1.0]], dtype=np.float32))]}

    def step(params, opt_state, xb, yb, wb, lr, t):
        return params, opt_state, np.float32(0.0)

    def run(n_steps):
        X = np.zeros((2, 1), dtype=np.float32)
        plan = StepPlan(None, np.full(n_steps, 0.1), np.arange(1, n_steps + 1))
        return run_steps(get_backend("numpy"), step, [], state, (X, X, None), plan)[1]

    assert run(_backend.FLUSH_EVERY - 1)["v"][0][0][0] == tiny  # not yet
    b, W = run(_backend.FLUSH_EVERY)["v"][0]
    assert not b.any() and W[0, 0] == 0 and W[0, 1] == 1.0  # normal numbers untouched
    assert b.dtype == np.float32 and W.dtype == np.float32
