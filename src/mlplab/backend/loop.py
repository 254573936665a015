"""The training loop: how a plan of optimizer steps is iterated on each backend.

NumPy and PyTorch run a plain Python loop here; JAX runs the whole plan as one
compiled ``lax.scan`` (:mod:`mlplab.backend.jax_loop`).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

from .arrays import Backend, to_index
from .flat import flat_step_for
from .inplace import MIN_PARAMS, updater_for

if TYPE_CHECKING:
    from jax.sharding import Mesh

    from ..nn.activations import Activation
    from ..nn.losses import Loss
    from ..nn.mlp import Array, Params
    from ..nn.optim import Optimizer, OptState, Tree

    #: ``(X, Y, sample weights or None)``, on the backend.
    Data = tuple[Array, Array, Array | None]


class StepFn(Protocol):
    """One pure training step (:func:`mlplab.train.step.make_step`), see :func:`run_steps`.

    ``value_and_grads(params, xb, yb, wb) -> (loss, grads)`` and ``optimizer`` are
    its two halves, for the runners that apply the update in place.
    """

    optimizer: Optimizer
    value_and_grads: Callable[[Params, Array, Array, Array | None], tuple[Array, Tree]]
    reduce: Callable[..., Any] | None  # data parallel: the ranks' reduction, or None
    # what the runner's flat step (.flat) composes itself: every layer's σ, the loss, the L2
    activations: tuple[Activation, ...]
    loss: Loss
    l2: float

    def __call__(
        self,
        params: Params,
        opt_state: OptState,
        xb: Array,
        yb: Array,
        wb: Array | None,
        lr: float,
        t: int,
    ) -> tuple[Tree, OptState, Array]: ...


def run_steps(
    backend: Backend,
    step_fn: StepFn,
    params: Tree,
    opt_state: OptState,
    data: Data,
    plan: StepPlan,
    should_stop: Callable[[], bool] | None = None,
    mesh: Mesh | None = None,
) -> tuple[Tree, OptState, np.ndarray]:
    """Run the optimizer steps of ``plan``; return ``(params, opt_state, losses)``.

    ``step_fn(params, opt_state, xb, yb, wb, lr, t) -> (params, opt_state, loss)``
    is one pure training step. ``data = (X, Y, sample_weight or None)`` on the
    backend. ``plan`` is a :class:`StepPlan`: the batch indices, learning rate
    and step number of each step. ``losses`` is a float64 NumPy array, one per step.

    NumPy and PyTorch run a Python loop. JAX runs all steps of the plan as one
    ``lax.scan`` inside one ``jax.jit``, compiled once per step function and
    shape: the loop never returns to Python between steps.

    ``should_stop()`` (e.g. "Ctrl-C was pressed") is asked after every step on
    NumPy and PyTorch; when it says yes the run ends there and ``losses`` is
    shorter than the plan. JAX finishes the compiled plan first.

    ``mesh`` (JAX only, :mod:`mlplab.backend.sharding`): split every batch over
    the mesh's devices, parameters replicated.
    """
    if backend.name == "jax":
        from .jax_loop import run_steps_jax

        return run_steps_jax(backend, step_fn, params, opt_state, data, plan, mesh)
    X, Y, SW = data
    index = functools.partial(to_index, backend) if backend.name == "torch" else None
    flush_state = FLUSH_SUBNORMALS and backend.name == "numpy"
    # the update applied in place, bitwise the same (see .inplace); None: the pure step
    fast = updater_for(backend.name, step_fn, params) if FAST_PATHS else None
    # data parallel (train/distributed.py): each rank updates its share of the layers
    split = getattr(getattr(step_fn, "reduce", None), "__self__", None)
    if fast is not None and split is not None and hasattr(split, "split_update"):
        fast = split.split_update(fast, params)
    # NumPy: the forward and backward passes from one function, bitwise the same (.flat)
    flat = flat_step_for(step_fn, params, X) if FAST_PATHS and backend.name == "numpy" else None
    halves = _halves(step_fn, flat, fast)  # None: the pure step as it is
    losses: list[Array] = []
    lrs, ts = plan.lrs.tolist(), plan.t.tolist()  # Python floats / ints, once
    # Overflow on the way to a NaN is reported by fit's divergence guard, not as warnings.
    with _flush_to_zero(backend), np.errstate(over="ignore", invalid="ignore"):
        for k in range(plan.n_steps):
            if plan.batches is None:  # full batch, no gather needed
                xb, yb, wb = X, Y, SW
            else:
                idx = plan.batches[k] if index is None else index(plan.batches[k])
                xb, yb, wb = X[idx], Y[idx], (None if SW is None else SW[idx])
            if halves is None:
                params, opt_state, loss = step_fn(params, opt_state, xb, yb, wb, lrs[k], ts[k])
            else:
                loss, grads = halves[0](params, xb, yb, wb)
                params, opt_state = halves[1](params, grads, opt_state, lrs[k], ts[k])
                # not held while the next step computes its own (B: 7.4 MiB less peak memory)
                del grads, xb, yb, wb
            losses.append(loss)
            if flush_state and k % FLUSH_EVERY == FLUSH_EVERY - 1:
                params, opt_state = _flush_step(fast, params, opt_state)
            if should_stop is not None and should_stop():
                break
    finish = getattr(fast, "finish", None)
    if finish is not None:  # a split update: every layer's state from its owner
        opt_state = finish(opt_state)
    return params, opt_state, _as_float64(backend, losses)


def _halves(
    step_fn: StepFn, flat: Callable[..., Any] | None, fast: Any
) -> tuple[Callable[..., Any], Callable[..., Any]] | None:
    """``(value_and_grads, update)`` of a step with a fast path (.flat, .inplace), else None."""
    if flat is None and fast is None:
        return None
    update = fast.update if fast is not None else step_fn.optimizer.update
    return flat or step_fn.value_and_grads, update


def _as_float64(backend: Backend, losses: list[Array]) -> np.ndarray:
    """The steps' losses (0-d arrays on the backend) as one float64 NumPy array."""
    if not losses:
        return np.zeros(0)
    if backend.name == "torch":
        import torch

        values: np.ndarray = torch.stack(losses).double().cpu().numpy()
        return values
    return np.asarray([float(v) for v in losses], dtype=np.float64)


# Float32 subnormals (0 < |x| < 1.2e-38) make x86 arithmetic ~5-16x slower. XLA
# flushes them to zero; NumPy and PyTorch keep them, and Adam's moments of a unit
# whose gradient became 0 (a dead ReLU) decay through that range for thousands of
# steps; with an L2 penalty, so do the weights into a dead unit (C2: 2,054 of layer
# 2's 10,000 weights, and its forward product 313 µs a step instead of 16). So the
# NumPy and PyTorch loops flush them, as XLA does: PyTorch switches the CPU's
# flush-to-zero mode on for the loop (then back to the mode it found); NumPy has no
# such switch, so every FLUSH_EVERY steps the subnormal entries of the parameters and
# of the optimizer state are set to 0 (at most a 1e-38 change). The parameters of a
# net of fewer than inplace.MIN_PARAMS weights (where the pure update runs) are left as
# they are: a few hundred subnormals cost less than the flush (0.9 µs a step of the
# lecture's 2-8-1 XOR net's 31). FLUSH_SUBNORMALS = False turns both off.
FLUSH_SUBNORMALS = True


FLUSH_EVERY = 16

# NumPy and PyTorch apply SGD / Adam / AdamW updates in place (.inplace, bitwise equal to
# the pure step); False runs the pure step everywhere.
FAST_PATHS = True


@contextmanager
def _flush_to_zero(backend: Backend) -> Iterator[None]:
    """PyTorch: flush subnormals to zero on the CPU while the loop runs, then as it was."""
    if not (FLUSH_SUBNORMALS and backend.name == "torch"):
        yield
        return
    import torch

    # PyTorch has no getter for the mode: a subnormal times 1 is 0 exactly when it is on
    was_on = bool((torch.tensor([1e-39], dtype=torch.float32) * 1.0)[0] == 0)
    torch.set_flush_denormal(True)
    try:
        yield
    finally:
        torch.set_flush_denormal(was_on)


def _flush_step(fast: Any, params: Tree, opt_state: OptState) -> tuple[Tree, OptState]:
    """NumPy, every FLUSH_EVERY steps: ``(params, opt_state)`` with subnormals set to 0,
    by the in-place updater when there is one; a tiny net's parameters left as they are."""
    flushed: tuple[Tree, OptState]
    if fast is not None:
        flushed = fast.flush_subnormals(params, opt_state)
    elif sum(W.shape[0] * W.shape[1] for _, W in params) >= MIN_PARAMS:
        flushed = _flush_subnormals((params, opt_state))
    else:
        flushed = params, _flush_subnormals(opt_state)
    return flushed


def _flush_subnormals(tree: Any) -> Any:
    """``tree`` (dicts, lists, tuples of NumPy arrays) with subnormal entries set to 0."""
    if isinstance(tree, dict):
        return {key: _flush_subnormals(value) for key, value in tree.items()}
    if isinstance(tree, list | tuple):
        values = [_flush_subnormals(value) for value in tree]
        return type(tree)(*values) if hasattr(tree, "_fields") else type(tree)(values)
    if isinstance(tree, np.ndarray) and tree.dtype.kind == "f":
        return np.where(np.abs(tree) < np.finfo(tree.dtype).tiny, tree.dtype.type(0), tree)
    return tree


class StepPlan:
    """What each step of a run uses: batch indices, learning rate, step number.

    ``batches`` is ``None`` (every step sees the whole data set) or a list of
    index arrays, one per step (the last batch of an epoch may be shorter).
    """

    def __init__(self, batches: Sequence[np.ndarray] | None, lrs: np.ndarray, t: np.ndarray):
        self.batches = batches
        self.lrs = lrs
        self.t = t

    @property
    def n_steps(self) -> int:
        return len(self.lrs)

    def padded(self, multiple: int = 1) -> tuple[np.ndarray, np.ndarray]:
        """`(n_steps, B)` indices and `(n_steps, B)` 0/1 mask, short batches padded.

        A compiled scan needs every step to have the same shape; padded rows
        get weight 0, so the weighted mean loss equals the short batch's mean.
        ``B`` is the largest batch rounded up to a ``multiple`` (of the devices
        a sharded batch is split over).
        """
        assert self.batches is not None  # full batch: nothing to pad
        size = -(-max(len(b) for b in self.batches) // multiple) * multiple
        idx = np.zeros((self.n_steps, size), dtype=np.int32)
        mask = np.zeros((self.n_steps, size), dtype=np.float64)
        for k, b in enumerate(self.batches):
            idx[k, : len(b)] = b
            mask[k, : len(b)] = 1.0
        return idx, mask
