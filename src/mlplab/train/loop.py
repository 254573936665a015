"""The training loop, ``fit``: minibatch gradient descent on an MLP, read top to bottom.

options → data → plan → for each chunk of steps: run the steps (forward, loss,
backward, penalty, update: :mod:`mlplab.train.step`), guard against divergence,
account the losses per epoch, then end the epoch (evaluate, callbacks, early
stopping). A chunk is one epoch, or every epoch at once when nothing has to
happen between epochs (then JAX compiles the whole run into one loop).
"""

from __future__ import annotations

import math
import sys
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager, nullcontext
from typing import TYPE_CHECKING, Any

import numpy as np

from ..backend.arrays import to_index, to_numpy
from ..backend.heap import steady_heap
from ..backend.loop import run_steps
from ..backend.sharding import mesh_for
from ..backend.threads import blas_threads, blas_threads_for
from ..errors import ConfigError
from ..nn.losses import get_loss, infer_loss
from ..nn.metrics import accuracy, r2_score
from ..nn.mlp import MLP, forward
from ..nn.optim import get_optimizer
from ..nn.schedules import get_schedule
from .data import RunData, prepare_data
from .distributed import is_lead
from .distributed import setup as distributed_setup
from .guard import DIVERGENCE_FACTOR, constant_loss, diverged, first_bad_step, warn_if_constant
from .options import FitOptions
from .plan import Cursor, RunPlan, plan_chunk, plan_run
from .progress import Progress
from .state import History, TrainState
from .step import make_step

if TYPE_CHECKING:
    from jax.sharding import Mesh

    from ..backend.arrays import Backend
    from ..backend.loop import StepPlan
    from ..nn.losses import Loss
    from ..nn.mlp import Array
    from ..nn.optim import Optimizer, OptState
    from .distributed import DataParallel
    from .guard import ChunkStart

#: What ``should_stop`` is: asked whether to stop now.
StopCheck = Callable[[], bool]


def fit(
    model: MLP,
    X: Array,
    y: Array,
    *,
    options: FitOptions | None = None,
    loss: object = None,
    optimizer: object = "adam",
    lr: float | None = None,
    schedule: object = None,
    epochs: int | None = None,
    steps: int | None = None,
    batch_size: int | None = None,
    shuffle: bool = True,
    seed: int = 0,
    validation_split: float = 0.0,
    validation_data: tuple[Array, Array] | None = None,
    early_stopping: bool = False,
    patience: int = 10,
    min_delta: float = 0.0,
    l2: float = 0.0,
    sample_weight: Array | None = None,
    callbacks: Sequence[Callable[..., Any]] = (),
    train_metrics: bool = False,
    verbose: int = 1,
    state: TrainState | None = None,
    should_stop: StopCheck | None = None,
    distributed: bool | None = None,
    devices: int | str | None = None,
) -> History:
    """Train ``model`` in place by minibatch gradient descent; return its :class:`History`.

    Args:
        model: the :class:`~mlplab.nn.mlp.MLP` to train (its ``params`` are replaced).
        X: `(n_samples, n_inputs)` inputs (NumPy, PyTorch or JAX array).
        y: `(n_samples,)` integer labels or `(n_samples, n_outputs)` targets.
        options: the settings as one :class:`FitOptions`, or give them one by one
            (``loss`` … ``verbose``; each is described in :class:`FitOptions`).
        validation_data: ``(X_val, y_val)``, instead of ``validation_split``.
        sample_weight: `(n_samples,)` non-negative weights of the training loss.
        state: a :class:`TrainState` from an earlier run (``history.state``) to
            continue it: an interrupted run resumed with the same settings
            (``epochs`` = the epochs still to go, counting a partly done one)
            ends with the same weights as an uninterrupted one.
        should_stop: asked after every step (NumPy, PyTorch) or compiled chunk
            (JAX); when it returns True training stops there, with
            ``history.interrupted`` set and ``history.state`` ready to resume.
        distributed: data parallel over ``torch.distributed`` ranks (``None``
            detects ``torchrun``; ``batch_size`` is the global batch), see
            :mod:`mlplab.train.distributed`: the same numbers as one process.
        devices: JAX: each batch over this many devices (or ``"all"``), see
            :mod:`mlplab.backend.sharding`: the same numbers as one device.

    Raises:
        TrainingDiverged: the loss or the weights became NaN or infinite, or the loss
            grew past 1000 times where it started (:data:`~mlplab.train.guard.DIVERGENCE_FACTOR`);
            ``model`` keeps the weights of the last epoch end before the loss went bad.
    """
    if not isinstance(model, MLP):
        raise ConfigError(
            f"`model` must be an mlplab MLP, e.g. MLP(2, [16], 1); got {type(model).__name__}."
        )
    # options: checked once, in one place
    opts = FitOptions(
        loss, optimizer, lr, schedule, epochs, steps, batch_size, shuffle, seed,
        validation_split, early_stopping, patience, min_delta, l2, callbacks,
        train_metrics, verbose,
    )  # fmt: skip
    opts = _one_way(options, opts)
    loss_fn = get_loss(opts.loss) if opts.loss is not None else infer_loss(y, model.n_outputs)
    # data: checked, on the model's backend, validation split off
    data = prepare_data(model, loss_fn, X, y, sample_weight, validation_data, opts)
    # ranks: one process, or this rank's share of every batch (torch.distributed)
    dp, opts, should_stop = _ranks(distributed, model, data, opts, should_stop)
    mesh = mesh_for(devices, model.backend)  # JAX: each batch over N devices
    if mesh is not None:  # several JAX processes (jax.distributed): the first alone prints
        opts = opts.quiet_unless(is_lead())
    training = Training(model, data, opts, loss_fn, state, should_stop, dp, mesh)  # the plan
    with blas_threads(*_threads(model, data, opts)), _heap(model, data, opts):
        return training.run()


def _one_way(options: FitOptions | None, given: FitOptions) -> FitOptions:
    """``options`` when given (then no setting may be given one by one), else ``given``."""
    if options is None:
        return given
    if given != FitOptions():
        raise ConfigError("give `options` or individual settings such as `lr=`, not both.")
    return options


def _ranks(
    distributed: bool | None,
    model: MLP,
    data: RunData,
    opts: FitOptions,
    should_stop: StopCheck | None,
) -> tuple[DataParallel | None, FitOptions, StopCheck | None]:
    """``(dp, opts, should_stop)``: this rank's view under torch.distributed (dp None: alone)."""
    dp = distributed_setup(distributed, model.backend)
    if dp is not None:
        dp.may_split = True  # every rank runs the same chunks of steps: the update may split
        dp.check_same(data.n, model.n_params)
        opts = opts.quiet_unless(dp.rank == 0)  # rank 0 alone prints
        should_stop = dp.agreed_stop(should_stop)
    return dp, opts, should_stop


def _heap(model: MLP, data: RunData, opts: FitOptions) -> AbstractContextManager[None]:
    """NumPy and PyTorch: each step's arrays reused from the C heap (``backend.heap``)."""
    if model.backend.name == "jax":  # XLA has an allocator of its own
        return nullcontext()
    batch = min(opts.batch_size or data.n, data.n)
    return steady_heap(model.sizes, batch, np.dtype(model.backend.dtype).itemsize)


def _threads(model: MLP, data: RunData, opts: FitOptions) -> tuple[int | None, bool]:
    """``(threads, torch_cpu)``: one thread for NumPy's BLAS, and for PyTorch on the CPU,
    when training small layers (``backend.threads``); ``None``: as they are."""
    torch_cpu = model.backend.name == "torch" and model.backend.torch_device.type == "cpu"
    if model.backend.name != "numpy" and not torch_cpu:  # XLA's threads, a GPU: as they are
        return None, False
    return blas_threads_for(model.sizes, min(opts.batch_size or data.n, data.n)), torch_cpu


class Training:
    """One call of :func:`fit`: its plan, and the loop over chunks of steps."""

    limit: float | None  # the divergence limit, from the first step's loss
    last_finite: float | None
    prev: tuple[StepPlan, list[bool], ChunkStart, np.ndarray] | None

    def __init__(self, model: MLP, data: RunData, opts: FitOptions, loss_fn: Loss,
                 state: TrainState | None, should_stop: StopCheck | None,
                 dp: DataParallel | None = None, mesh: Mesh | None = None) -> None:  # fmt: skip
        opt = get_optimizer(opts.optimizer)
        _check_hashable("loss", loss_fn)
        _check_hashable("optimizer", opt)
        self.model, self.data, self.opts, self.loss_fn, self.dp = model, data, opts, loss_fn, dp
        self.mesh = mesh
        self.lr, self.schedule = opts.lr_for(opt), get_schedule(opts.schedule)
        state = _start_state(state, opt, model)
        self.plan = plan_run(data.n, opts, state)
        reduce = None if dp is None else dp.reduce
        self.step_fn = make_step(tuple(model.activations), loss_fn, opt, float(opts.l2), reduce)
        metric = "r2" if loss_fn.task == "regression" else "accuracy"
        self.history = History(loss=loss_fn.name, metric=metric, state=state)
        self.progress = Progress(self.plan.total_epochs, opts.verbose)
        per_epoch_work = (
            data.Xv is not None or opts.callbacks or opts.train_metrics or opts.verbose >= 2
            or self.progress.bar or should_stop
            or getattr(mesh, "is_multi_process", False)  # the same programs in every process
        )  # fmt: skip
        # one epoch a chunk, or the whole run at once (JAX compiles it into one loop)
        self.chunk = 1 if per_epoch_work else self.plan.total_epochs
        self.at = Cursor(in_epoch=self.plan.skip)
        if self.plan.skip:  # the done batches' share of the resumed epoch's loss
            self.at.run_loss, self.at.run_n = state.epoch_loss_sum, state.epoch_loss_weight
        self.best = _Best()
        self.asked = _StopAsker(should_stop)
        self.opt_state, self.last_finite = state.opt_state, None
        Y = to_numpy(data.Y)
        if is_lead():  # one warning per run, not one per rank
            warn_if_constant(Y, loss_fn.task)
        # the divergence limit: DIVERGENCE_FACTOR x max(first step loss, best constant's loss)
        self.limit, self.floor = None, constant_loss(loss_fn.name, Y, model.n_outputs)
        self.prev = None  # the last chunk (plan, ends_epoch, start, losses): the guard may need it

    def run(self) -> History:
        """Run chunks until the plan is done or something stops it; return the history."""
        run, at = self.plan, self.at
        try:
            while at.epoch < run.total_epochs and at.done_steps < run.total_steps:
                if self.chunk_of_steps():
                    break
        finally:
            self.progress.close()
        if self.data.Xv is not None:
            self.history.best_epoch = self.best.epoch
            if self.opts.early_stopping and self.best.params is not None:
                self.model.params = self.best.params
        self.model.history = self.history
        line = self.history.stopped_early_line()
        if line and self.opts.verbose:
            print(line, file=sys.stderr, flush=True)  # the bar stopped short: say why
        return self.history

    def chunk_of_steps(self) -> bool:
        """One chunk: steps, guard, per-epoch losses, end of epoch. True to stop."""
        model, data, run, at, history = self.model, self.data, self.plan, self.at, self.history
        # the steps: forward, loss, backward, penalty, update
        plan, sizes, ends_epoch = plan_chunk(
            run, at, self.chunk, self.opts, self.lr, self.schedule, data.weights_np
        )
        start = (model.params, self.opt_state, run.start_epoch + at.epoch, at.in_epoch,
                 at.run_loss, at.run_n)  # fmt: skip
        tensors = (data.X, data.Y, data.SW)
        mine = plan if self.dp is None else self.dp.share(plan, data.n)
        params, self.opt_state, losses = run_steps(
            model.backend, self.step_fn, model.params, self.opt_state, tensors, mine,
            self.asked.ask, mesh=self.mesh,
        )  # fmt: skip
        # guard: a NaN / infinite loss or weight ends the run with good weights
        if self.limit is None and losses.size:
            self.limit = DIVERGENCE_FACTOR * max(float(losses[0]), self.floor)
        bad, weights_bad = first_bad_step(losses, params, self.limit or np.inf)
        if bad is not None:
            where = (plan, ends_epoch, start, bad, weights_bad, losses)
            if bad == 0 and not weights_bad and self.prev is not None:  # the weights it began
                where = (*self.prev[:3], self.prev[3].size, False, self.prev[3])  # with: last chunk
            diverged(model, self.step_fn, tensors, *where, self.last_finite, self.lr, history,
                     self.limit or np.inf, float(losses[bad]))  # fmt: skip
        self.prev = (plan, ends_epoch, start, losses)
        self.last_finite = float(losses[-1]) if losses.size else self.last_finite
        model.params = params
        # losses: per epoch, and where the run stands
        finished = _account(at, losses, sizes, ends_epoch, run, history, self.opt_state)
        interrupted = self.asked.interrupted(model.backend, losses, sizes)
        history.interrupted = interrupted
        if interrupted and not finished:
            return True
        if run.total_steps <= at.done_steps and at.run_n:  # `steps` ended mid-epoch
            history.epoch.append(run.start_epoch + at.epoch + 1)
            history.train_loss.append(float(at.run_loss / at.run_n))
        elif not finished:
            return True
        # end of epoch: evaluate, callbacks, early stopping
        stop = _end_of_epoch(model, data, self.loss_fn, self.opts, history, self.best,
                             self.progress, run, self.dp)  # fmt: skip
        return stop or interrupted


def _check_hashable(what: str, obj: object) -> None:
    """A clear error for a custom loss or optimizer that is not hashable: the training
    step is cached per (loss, optimizer), which raised a bare "unhashable type"."""
    try:
        hash(obj)
    except TypeError:
        raise ConfigError(
            f"a custom {what} must be hashable (fit caches its training step per {what}); "
            f"{type(obj).__name__} is not: declare it with @dataclass(frozen=True) or give it "
            "a __hash__."
        ) from None


def _start_state(state: TrainState | None, opt: Optimizer, model: MLP) -> TrainState:
    """``state`` if it belongs to ``opt``; a fresh one (zero moments, step 0) if None."""
    fresh = opt.init(model.params)
    if state is None:
        return TrainState(fresh)
    if (
        not isinstance(state, TrainState)
        or not isinstance(state.opt_state, dict)
        or set(state.opt_state) != set(fresh)
    ):
        raise ConfigError(
            f"`state` does not belong to optimizer {getattr(opt, 'name', opt)!r} (it holds "
            f"{sorted(getattr(state, 'opt_state', {}) or {})}); continue a run with the "
            "optimizer it was started with."
        )
    return state


class _StopAsker:
    """Asks ``should_stop`` after each step (NumPy, PyTorch) or compiled chunk (JAX)."""

    def __init__(self, should_stop: StopCheck | None) -> None:
        self.should_stop = should_stop
        self.said_yes = False
        self.ask = None if should_stop is None else self._ask

    def _ask(self) -> bool:
        assert self.should_stop is not None  # `ask` is None without one
        self.said_yes = self.said_yes or bool(self.should_stop())
        return self.said_yes

    def interrupted(self, backend: Backend, losses: np.ndarray, sizes: Sequence[float]) -> bool:
        if self.should_stop is not None and backend.name == "jax" and losses.size:
            return bool(self.should_stop())  # asked once per compiled chunk
        return losses.size < len(sizes) or self.said_yes


def _account(
    at: Cursor,
    losses: np.ndarray,
    sizes: Sequence[float],
    ends_epoch: Sequence[bool],
    run: RunPlan,
    history: History,
    opt_state: OptState,
) -> list[float]:
    """Add a chunk's step losses to ``at``; record and return the losses of the epochs it ended.

    An epoch's train loss is the mean of its step losses weighted by batch size
    (by batch weight with sample weights: then it is Σ wᵢ lᵢ / Σ wᵢ).
    """
    finished: list[float] = []
    if run.steps_per_epoch == 1:  # every step is an epoch (same arithmetic, vectorized)
        finished = ((losses * float(run.n)) / float(run.n)).tolist()
        at.epoch += losses.size
    else:
        for i in range(losses.size):
            at.run_loss += losses[i] * sizes[i]
            at.run_n += sizes[i]
            at.in_epoch += 1
            if ends_epoch[i]:
                finished.append(at.run_loss / at.run_n)
                at.run_loss, at.run_n, at.in_epoch = 0.0, 0.0, 0
                at.epoch += 1
    at.done_steps += losses.size
    history.n_steps = at.done_steps
    carried = (float(at.run_loss), float(at.run_n)) if at.in_epoch else ()
    history.state = TrainState(
        opt_state, run.start_step + at.done_steps, run.start_epoch + at.epoch, at.in_epoch, *carried
    )
    last = run.start_epoch + at.epoch
    history.epoch.extend(range(last - len(finished) + 1, last + 1))
    history.train_loss.extend(float(value) for value in finished)
    return finished


class _Best:
    """The best validation loss so far, its epoch and its weights."""

    loss: float
    epoch: int | None
    params: list[tuple[Array, Array]] | None

    def __init__(self) -> None:
        self.loss, self.epoch, self.params = math.inf, None, None


def _end_of_epoch(
    model: MLP,
    data: RunData,
    loss_fn: Loss,
    opts: FitOptions,
    history: History,
    best: _Best,
    progress: Progress,
    run: RunPlan,
    dp: DataParallel | None,
) -> bool:
    """Evaluate the epoch just recorded, show it, call the callbacks; True to stop."""
    label = history.epoch[-1]
    metric = history.metric
    logs = {"epoch": label, "train_loss": history.train_loss[-1]}
    if opts.train_metrics:
        history.train_metric.append(_metric(model, data.X, data.Y, loss_fn))
        logs[f"train_{metric}"] = history.train_metric[-1]
    if data.Xv is not None:
        val_loss = _val_loss(model, data, loss_fn, dp)
        history.val_loss.append(val_loss)
        history.val_metric.append(_metric(model, data.Xv, data.Yv, loss_fn))
        logs["val_loss"] = val_loss
        logs[f"val_{metric}"] = history.val_metric[-1]
        if val_loss < best.loss - opts.min_delta:
            best.loss, best.epoch, best.params = val_loss, label, model.params
    progress.update(logs)
    stop = any(cb(label, dict(logs), model) is True for cb in opts.callbacks)
    since = run.start_epoch if best.epoch is None else best.epoch  # None: no finite val loss yet
    if opts.early_stopping and label - since >= opts.patience:
        history.stopped_early = True
        stop = True
    return stop


def _val_loss(model: MLP, data: RunData, loss_fn: Loss, dp: DataParallel | None) -> float:
    """The validation loss; with several ranks, each evaluates its share and they reduce."""
    assert data.Xv is not None and data.Yv is not None  # asked only with validation data
    if dp is None:
        out_v = forward(model.params, model.activations, data.Xv)
        return float(loss_fn.value_and_grad(out_v, data.Yv)[0])
    rows = to_index(model.backend, dp.rows(np.arange(data.Xv.shape[0])))
    value = 0.0
    if len(rows):
        out_v = forward(model.params, model.activations, data.Xv[rows])
        value = float(loss_fn.value_and_grad(out_v, data.Yv[rows])[0])
    return dp.mean(value, float(len(rows)), "the validation loss")


def _metric(model: MLP, X: Array, Y: Array, loss_fn: Loss) -> float:
    out = to_numpy(forward(model.params, model.activations, X))
    target = to_numpy(Y)
    if loss_fn.task == "regression":
        return r2_score(target, out)
    if loss_fn.task == "binary":
        return accuracy(target[:, 0] > 0.5, out[:, 0] > 0)
    return accuracy(np.argmax(target, axis=1), np.argmax(out, axis=1))


__all__ = ["fit"]
