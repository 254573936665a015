"""The JAX loop: a plan of steps as one ``jax.jit``-compiled ``lax.scan``.

Compiled once per step function and shape; the loop never returns to Python
between steps.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np

from .arrays import Backend

if TYPE_CHECKING:
    from jax.sharding import Mesh

    from ..nn.mlp import Array, Params
    from ..nn.optim import OptState, Tree
    from .loop import Data, StepFn, StepPlan

    #: XLA compiler options of one compiled run: ``((name, value), …)``.
    XlaOptions = tuple[tuple[str, str], ...]
    #: ``(params, opt_state, losses)`` of a run of steps.
    Ran = tuple[Tree, OptState, np.ndarray]


def run_steps_jax(
    backend: Backend,
    step_fn: StepFn,
    params: Tree,
    opt_state: OptState,
    data: Data,
    plan: StepPlan,
    mesh: Mesh | None = None,
) -> Ran:
    import jax

    X, Y, SW = data
    # The per-step inputs go to the compiled run as NumPy arrays: jit moves them to
    # the device itself, ~30 µs less each than `jnp.asarray` (fit's fixed cost shows
    # on the lecture's 15 ms XOR run). t in the float dtype: Adam's β**t with an int32
    # t would promote to float64 once jax_enable_x64 is on, breaking float32 runs.
    lrs = plan.lrs.astype(backend.dtype)
    ts = plan.t.astype(backend.dtype)
    # Full float32 matmuls: on GPUs JAX defaults to TF32 (~1e-3 relative), which made
    # float32 loss curves drift ~2% from NumPy's and PyTorch's over 200 steps (seen on
    # an H200). The setting is part of jit's cache key, so it is compiled in.
    with jax.default_matmul_precision("highest"):
        if mesh is not None:  # data parallel over a mesh of devices (backend/sharding.py)
            return _run_sharded(backend, step_fn, params, opt_state, data, plan, mesh)
        if plan.batches is None:
            run = _jax_full_batch_runner(step_fn, _xla_options(params, X.shape[0]))
            params, opt_state, losses = run(params, opt_state, X, Y, SW, lrs, ts)
        else:
            idx, mask = plan.padded()
            ragged = bool(mask.min() == 0)
            weights = None
            if ragged or SW is not None:
                weights = mask.astype(backend.dtype)
            run = _jax_minibatch_runner(step_fn, _xla_options(params, idx.shape[1]))
            params, opt_state, losses = run(params, opt_state, X, Y, SW, idx, weights, lrs, ts)
    return params, opt_state, np.asarray(losses, dtype=np.float64)


def _run_sharded(
    backend: Backend,
    step_fn: StepFn,
    params: Tree,
    opt_state: OptState,
    data: Data,
    plan: StepPlan,
    mesh: Mesh,
) -> Ran:
    """The plan's steps with every batch split over ``mesh`` (padded rows weigh 0).

    Elementwise optimizers (SGD, Adam, AdamW) also split their update over the
    devices (:mod:`.zero`); others run XLA's partitioning of the whole step, the
    update replicated on every device.
    """
    from ..nn.optim import SGD, Adam, AdamW
    from . import sharding
    from .loop import StepPlan

    X, Y, SW = data
    batches = plan.batches or [np.arange(X.shape[0])] * plan.n_steps
    idx, mask = StepPlan(batches, plan.lrs, plan.t).padded(multiple=mesh.devices.size)
    like = params[0][1]
    params, opt_state, X, Y, SW = sharding.replicated((params, opt_state, X, Y, SW), mesh)
    lrs, ts = plan.lrs.astype(backend.dtype), plan.t.astype(backend.dtype)
    weights = mask.astype(backend.dtype)
    if type(step_fn.optimizer) in (SGD, Adam, AdamW):
        run = _zero_runner(step_fn, params, opt_state, mesh, idx.shape[1])
    else:
        run = _jax_minibatch_runner(step_fn, (), mesh)
    params, opt_state, losses = run(params, opt_state, X, Y, SW, idx, weights, lrs, ts)
    params, opt_state = sharding.home((params, opt_state), like)
    return params, opt_state, np.asarray(losses, dtype=np.float64)


def _zero_runner(
    step_fn: StepFn, params: Tree, opt_state: OptState, mesh: Mesh, batch: int
) -> Callable[..., Any]:
    """The compiled :func:`.zero.sharded_runner` for this shape of run (cached)."""
    import jax

    from . import zero

    specs = zero.state_specs(opt_state, mesh)
    unroll = _scan_unroll(params, batch // mesh.devices.size)
    key = ("zero", step_fn, mesh, jax.tree_util.tree_structure(specs), str(specs), unroll)
    if key not in _JAX_RUNNERS:
        _JAX_RUNNERS[key] = zero.sharded_runner(step_fn, mesh, opt_state, unroll)
    return _JAX_RUNNERS[key]


_JAX_RUNNERS: dict[tuple[Any, ...], Callable[..., Any]] = {}


def _scan_unroll(params: Params, batch: int) -> int:
    """How many steps one iteration of the compiled loop runs (``lax.scan(unroll=…)``).

    A tiny step (the lecture's XOR: ~100 flops) costs less than the loop's own
    bookkeeping: 8 steps per iteration ran it ~15% faster than 1. Up to ~64k
    weights × rows, 2 steps were 1-10% faster than 1 (1-64-1 on 256 points,
    2-16-1 on 200, minibatches of 32) and 4 or 8 slower (XLA fuses worse);
    beyond that unrolling gains nothing. Decided at trace time, from shapes.
    """
    work = sum(W.size for _, W in params) * batch
    return 8 if work <= 128 else 2 if work <= 65536 else 1


def _xla_options(params: Params, batch: int) -> XlaOptions:
    """XLA compiler options for one compiled run, as ``((name, value), …)``; usually none.

    A function of one variable (1 input, 1 output: the lecture's fits of sin(3x)
    and sums of steps) with up to 2^17 hidden activations a step trained 2-25%
    faster on the CPU with XLA's YNNPACK reductions off (the sums over the batch
    stay XLA's own loops); measured for 1-N-1 nets, N = 2-512, on 64-2048 points.
    Other shapes were as often slower (up to 1.7x), so they keep XLA's defaults.
    """
    d_in, d_out = params[0][1].shape[1], params[-1][1].shape[0]
    width = max(W.shape[0] for _, W in params)
    on_cpu = all(d.platform == "cpu" for d in params[0][1].devices())
    if d_in == d_out == 1 and batch * width <= 2**17 and on_cpu:
        return (("xla_cpu_experimental_ynn_fusion_type", "LIBRARY_FUSION_TYPE_DOT"),)
    return ()


def _jax_full_batch_runner(step_fn: StepFn, options: XlaOptions = ()) -> Callable[..., Any]:
    key = ("full", step_fn, options)
    if key not in _JAX_RUNNERS:
        import jax
        from jax import lax

        @functools.partial(jax.jit, compiler_options=dict(options) or None)
        def run(
            params: Tree,
            opt_state: OptState,
            X: Array,
            Y: Array,
            SW: Array | None,
            lrs: Array,
            ts: Array,
        ) -> tuple[Tree, OptState, Array]:
            def body(
                carry: tuple[Tree, OptState], step: tuple[Array, Array]
            ) -> tuple[tuple[Tree, OptState], Array]:
                lr, t = step
                params, opt_state, loss = step_fn(*carry, X, Y, SW, lr, t)
                return (params, opt_state), loss

            unroll = _scan_unroll(params, X.shape[0])
            (params, opt_state), losses = lax.scan(
                body, (params, opt_state), (lrs, ts), unroll=unroll
            )
            return params, opt_state, losses

        _JAX_RUNNERS[key] = run
    return _JAX_RUNNERS[key]


def _jax_minibatch_runner(
    step_fn: StepFn, options: XlaOptions = (), mesh: Mesh | None = None
) -> Callable[..., Any]:
    key = ("minibatch", step_fn, options, mesh)
    if key not in _JAX_RUNNERS:
        import jax
        from jax import lax

        @functools.partial(jax.jit, compiler_options=dict(options) or None)
        def run(
            params: Tree,
            opt_state: OptState,
            X: Array,
            Y: Array,
            SW: Array | None,
            idx: Array,
            weights: Array | None,
            lrs: Array,
            ts: Array,
        ) -> tuple[Tree, OptState, Array]:
            def body(
                carry: tuple[Tree, OptState], step: tuple[Array, Array | None, Array, Array]
            ) -> tuple[tuple[Tree, OptState], Array]:
                i, w, lr, t = step  # i: (B,) indices of this step's batch
                wb = w
                if SW is not None:
                    wb = SW[i] if w is None else SW[i] * w
                xb, yb = X[i], Y[i]
                if mesh is not None:  # each device takes its rows of the batch
                    from .sharding import split_rows

                    xb, yb, wb = (split_rows(a, mesh) for a in (xb, yb, wb))
                params, opt_state, loss = step_fn(*carry, xb, yb, wb, lr, t)
                return (params, opt_state), loss

            unroll = _scan_unroll(params, idx.shape[1])
            (params, opt_state), losses = lax.scan(
                body, (params, opt_state), (idx, weights, lrs, ts), unroll=unroll
            )
            return params, opt_state, losses

        _JAX_RUNNERS[key] = run
    return _JAX_RUNNERS[key]
