"""Training: gradient descent on an :class:`~mlplab.mlp.MLP`, with the usual conveniences.

One step, visible phases (the lecture's "backpropagation assigns fault,
gradient descent updates θ"):

1. forward: ``ŷ = f(x_batch, θ)``, keeping every layer's ``(x, z, a)``;
2. loss: ``L(ŷ, y)`` and ``∂L/∂ŷ``;
3. backward: every layer's delta and gradient (:func:`~mlplab.mlp.backward`);
4. L2 penalty, if any;
5. update: ``θ ← optimizer(θ, ∇θ L, lr_t)``.

:func:`fit` wraps that step in epochs of seeded minibatches, with a validation
set, early stopping, callbacks, a progress bar and a divergence guard.
"""

from __future__ import annotations

import functools
import math
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from ._backend import StepPlan, all_finite, run_steps, to_numpy
from .errors import ConfigError, DataError, TrainingDiverged, check_number
from .losses import get_loss, infer_loss
from .metrics import accuracy, r2_score
from .mlp import MLP, backward, forward, forward_cache
from .optim import get_optimizer, tree_map
from .schedules import get_schedule, learning_rates

DEFAULT_LR = {"sgd": 0.1, "adam": 1e-3, "adamw": 1e-3}


@functools.lru_cache(maxsize=64)
def make_step(activations: tuple, loss, optimizer, l2: float) -> Callable:
    """The pure training step for one architecture / loss / optimizer / L2 setting.

    ``step(params, opt_state, xb, yb, wb, lr, t) -> (params, opt_state, loss)``.
    Cached, so a compiled JAX loop built on it is reused across :func:`fit` calls.
    """

    def step(params, opt_state, xb, yb, wb, lr, t):
        out, caches = forward_cache(params, activations, xb)  # 1. forward
        value, grad_out = loss.value_and_grad(out, yb, wb)  # 2. loss, ∂L/∂ŷ
        grads = backward(params, activations, caches, grad_out).grads  # 3. backward
        if l2:  # 4. L2 penalty (l2 / 2) Σ‖W‖², gradient l2 · W
            value = value + 0.5 * l2 * sum((W * W).sum() for _, W in params)
            grads = [(gb, gW + l2 * W) for (gb, gW), (_, W) in zip(grads, params, strict=True)]
        params, opt_state = optimizer.update(params, grads, opt_state, lr, t)  # 5. update
        return params, opt_state, value

    return step


@dataclass
class TrainState:
    """Where a run stands: optimizer state, steps and epochs done (to continue a run)."""

    opt_state: object
    step: int = 0  # optimizer steps done in all
    epoch: int = 0  # epochs completed
    batch_in_epoch: int = 0  # batches of the next epoch already done (after an interrupt)
    # that partly done epoch's Σ (batch loss × batch size or weight) and Σ sizes, so the
    # epoch's train loss, reported when it ends, covers all of its batches
    epoch_loss_sum: float = 0.0
    epoch_loss_weight: float = 0.0


@dataclass
class History:
    """Per-epoch record of a :func:`fit` run."""

    loss: str
    metric: str  # "accuracy" or "r2"
    epoch: list[int] = field(default_factory=list)
    train_loss: list[float] = field(default_factory=list)
    val_loss: list[float] = field(default_factory=list)
    val_metric: list[float] = field(default_factory=list)
    train_metric: list[float] = field(default_factory=list)
    best_epoch: int | None = None
    stopped_early: bool = False
    interrupted: bool = False
    n_steps: int = 0
    state: TrainState | None = field(default=None, repr=False)

    def as_dict(self) -> dict:
        """JSON-able summary."""
        return {
            "loss": self.loss,
            "metric": self.metric,
            "epoch": self.epoch,
            "train_loss": self.train_loss,
            "val_loss": self.val_loss,
            f"val_{self.metric}": self.val_metric,
            f"train_{self.metric}": self.train_metric,
            "best_epoch": self.best_epoch,
            "stopped_early": self.stopped_early,
            "interrupted": self.interrupted,
            "n_steps": self.n_steps,
        }


def fit(
    model: MLP,
    X,
    y,
    *,
    loss=None,
    optimizer="adam",
    lr: float | None = None,
    schedule=None,
    epochs: int | None = None,
    steps: int | None = None,
    batch_size: int | None = None,
    shuffle: bool = True,
    seed: int = 0,
    validation_split: float = 0.0,
    validation_data: tuple | None = None,
    early_stopping: bool = False,
    patience: int = 10,
    min_delta: float = 0.0,
    l2: float = 0.0,
    sample_weight=None,
    callbacks: Sequence[Callable] = (),
    train_metrics: bool = False,
    verbose: int = 1,
    state: TrainState | None = None,
    should_stop: Callable[[], bool] | None = None,
) -> History:
    """Train ``model`` in place by minibatch gradient descent; return its :class:`History`.

    Args:
        model: the :class:`~mlplab.mlp.MLP` to train (its ``params`` are replaced).
        X: `(n_samples, n_inputs)` inputs (NumPy, PyTorch or JAX array).
        y: `(n_samples,)` integer labels or `(n_samples, n_outputs)` targets.
        loss: ``"mse"``, ``"bce"``, ``"softmax_cross_entropy"``; default from ``y``
            (integer labels: ``bce`` with one output, softmax cross-entropy with
            several; real targets: ``mse``).
        optimizer: ``"sgd"``, ``"adam"``, ``"adamw"`` or an optimizer object.
        lr: base learning rate (default 0.1 for SGD, 1e-3 for Adam/AdamW).
        schedule: ``"constant"``, ``"step"``, ``"cosine"``, ``"warmup"`` or a schedule object.
        epochs / steps: how long to train (default 100 epochs); ``steps`` counts
            optimizer steps and ends mid-epoch if needed.
        batch_size: minibatch size; ``None`` is full-batch gradient descent.
        shuffle: reshuffle every epoch (seeded by ``seed`` and the epoch number).
        validation_split: fraction of the data held out (seeded) for validation.
        validation_data: ``(X_val, y_val)``, instead of a split.
        early_stopping: stop when the validation loss has not improved by
            ``min_delta`` for ``patience`` epochs, and restore the best weights.
        l2: L2 penalty ``(l2 / 2) Σ ‖W‖²`` (weights, not biases).
        sample_weight: `(n_samples,)` non-negative weights of the training loss.
        callbacks: functions ``cb(epoch, logs, model)`` called after each epoch;
            one returning ``True`` stops training.
        train_metrics: also compute accuracy / R² on the training set each epoch.
        verbose: 0 silent; 1 a progress bar on a terminal; 2 one line per epoch.
        state: a :class:`TrainState` from an earlier run (``history.state``) to
            continue it: optimizer moments, step count, epoch and position in
            the epoch carry on, so an interrupted run resumed with the same
            settings (``epochs`` = the epochs still to go, counting a partly
            done one) ends with the same weights as an uninterrupted one.
        should_stop: asked after every step (NumPy, PyTorch) or compiled chunk
            (JAX); when it returns True training stops there, with
            ``history.interrupted`` set and ``history.state`` ready to resume.

    Raises:
        TrainingDiverged: the loss became NaN or infinite; ``model`` keeps the
            weights of the last epoch whose losses were all finite.
    """
    loss_fn = get_loss(loss) if loss is not None else infer_loss(y, model.n_outputs)
    opt = get_optimizer(optimizer)
    if lr is None:
        lr = DEFAULT_LR.get(getattr(opt, "name", ""), 1e-3)
    _check_fit_args(lr, epochs, steps, batch_size, validation_split, patience, min_delta, l2)
    check_number("seed", seed, ge=0, integer=True)
    verbose = int(verbose) if isinstance(verbose, bool) else verbose
    check_number("verbose", verbose, ge=0, integer=True)
    callbacks = tuple(callbacks or ())
    if not all(callable(cb) for cb in callbacks):
        raise ConfigError("`callbacks` must be functions cb(epoch, logs, model).")
    sched = get_schedule(schedule)
    backend = model.backend

    Xb = model.check_input(X)
    Yb = loss_fn.prepare_targets(y, model.n_outputs, backend)
    n = Xb.shape[0]
    if Yb.shape[0] != n:
        raise DataError(f"X has {n} rows but y has {Yb.shape[0]}; they must be equal.")
    _check_finite(Xb, "X")
    SW = None
    if sample_weight is not None:
        sw = to_numpy(sample_weight).astype(np.float64).ravel()
        if sw.shape[0] != n or np.any(sw < 0) or not np.all(np.isfinite(sw)) or sw.sum() <= 0:
            raise DataError(
                f"`sample_weight` must hold {n} finite, non-negative weights with a positive sum."
            )
        SW = backend.asarray(sw)

    # validation data: given, or a seeded split of (X, y)
    Xv = Yv = None
    if validation_data is not None:
        if not isinstance(validation_data, list | tuple) or len(validation_data) != 2:
            raise ConfigError("`validation_data` must be a pair (X_val, y_val).")
        Xv = model.check_input(validation_data[0])
        _check_finite(Xv, "validation X")
        Yv = loss_fn.prepare_targets(validation_data[1], model.n_outputs, backend)
        if Xv.shape[0] != Yv.shape[0]:
            raise DataError(
                f"validation X has {Xv.shape[0]} rows but y has {Yv.shape[0]}; they must be equal."
            )
    elif validation_split:
        n_val = int(round(n * validation_split))
        if n_val < 1 or n - n_val < 1:
            raise ConfigError(
                f"`validation_split`={validation_split} leaves {n_val} validation and "
                f"{n - n_val} training samples out of {n}; both must be >= 1."
            )
        perm = _to_index(backend, np.random.default_rng([seed, 2**31 - 1]).permutation(n))
        val_idx, train_idx = perm[:n_val], perm[n_val:]
        Xv, Yv = Xb[val_idx], Yb[val_idx]
        Xb, Yb = Xb[train_idx], Yb[train_idx]
        SW = None if SW is None else SW[train_idx]
        n = n - n_val
    if early_stopping and Xv is None:
        raise ConfigError(
            "`early_stopping=True` needs validation data: pass validation_split > 0 "
            "or validation_data=(X_val, y_val)."
        )

    B = n if batch_size is None else min(int(batch_size), n)
    steps_per_epoch = math.ceil(n / B)
    fresh = opt.init(model.params)
    if state is not None and (
        not isinstance(state, TrainState)
        or not isinstance(state.opt_state, dict)
        or set(state.opt_state) != set(fresh)
    ):
        raise ConfigError(
            f"`state` does not belong to optimizer {getattr(opt, 'name', opt)!r} (it holds "
            f"{sorted(getattr(state, 'opt_state', {}) or {})}); continue a run with the "
            "optimizer it was started with."
        )
    state = state or TrainState(fresh)
    start_step, start_epoch = state.step, state.epoch
    skip = state.batch_in_epoch if state.batch_in_epoch < steps_per_epoch else 0
    if steps is not None:
        total_steps = steps
        total_epochs = math.ceil((steps + skip) / steps_per_epoch)
    else:
        total_epochs = 100 if epochs is None else epochs
        total_steps = total_epochs * steps_per_epoch - skip

    step_fn = make_step(tuple(model.activations), loss_fn, opt, float(l2))
    metric = "r2" if loss_fn.task == "regression" else "accuracy"
    history = History(loss=loss_fn.name, metric=metric, state=state)

    # The compiled (JAX) loop can run many epochs at once when nothing has to
    # happen between epochs; otherwise it returns to Python after each.
    progress = _Progress(total_epochs, verbose)
    per_epoch_work = (
        Xv is not None or callbacks or train_metrics or verbose >= 2 or progress.bar or should_stop
    )
    chunk = 1 if per_epoch_work else total_epochs

    params, opt_state = model.params, state.opt_state
    best = (math.inf, None, None)  # (val loss, epoch, params)
    last_finite = None
    done_steps, epoch = 0, 0  # steps and (relative) epochs started in this call
    in_epoch = skip  # batches of the current epoch already done
    # the done batches' share of that epoch's loss (picked up by the first chunk only)
    carried = (state.epoch_loss_sum, state.epoch_loss_weight) if skip else (0.0, 0.0)
    stopped = []  # should_stop() said yes after a step (NumPy, PyTorch): ask once per step

    def _ask():
        if should_stop():
            stopped.append(True)
            return True
        return False

    ask = _ask if should_stop is not None else None
    # a batch's share of its epoch's loss: its size, or its total sample weight
    sw_np = None if SW is None else to_numpy(SW).astype(np.float64)
    try:
        while epoch < total_epochs and done_steps < total_steps:
            # 0. plan: the batches of the next `chunk` epochs, seeded per epoch
            batches, sizes, ends_epoch = [], [], []
            if steps_per_epoch == 1:  # full batch: one step per epoch, no order to draw
                k = min(chunk, total_epochs - epoch, total_steps - done_steps)
                batches, sizes, ends_epoch = [None] * k, [n] * k, [True] * k
            else:
                for e in range(epoch, min(epoch + chunk, total_epochs)):
                    order = _epoch_order(n, B, shuffle, seed, start_epoch + e)
                    first_batch = in_epoch if e == epoch else 0
                    for j in range(first_batch, steps_per_epoch):
                        if done_steps + len(sizes) >= total_steps:
                            break
                        k = j * B
                        batches.append(None if order is None else order[k : k + B])
                        sizes.append(
                            min(B, n - k) if sw_np is None else float(sw_np[order[k : k + B]].sum())
                        )
                        ends_epoch.append(j == steps_per_epoch - 1)
            first = start_step + done_steps
            plan = StepPlan(
                None if all(b is None for b in batches) else batches,
                learning_rates(lr, sched, first, len(sizes), start_step + total_steps),
                np.arange(first + 1, first + len(sizes) + 1),
            )
            # 1-5. the steps themselves (forward, loss, backward, penalty, update)
            run_loss, run_n = carried  # the current epoch's loss so far
            carried = (0.0, 0.0)
            good = (params, opt_state, start_epoch + epoch, in_epoch, run_loss, run_n)
            params, opt_state, losses = run_steps(
                backend, step_fn, params, opt_state, (Xb, Yb, SW), plan, ask
            )
            bad = np.flatnonzero(~np.isfinite(losses))
            weights_bad = not bad.size and losses.size and not all_finite(params)
            if weights_bad:  # the last update overflowed: no later loss will show it
                bad = np.array([losses.size - 1])
            if bad.size:
                # Keep the weights of the last epoch whose losses were all finite: the
                # chunk may span many epochs, so re-run its good prefix (deterministic).
                first_bad = int(bad[0])
                done = int(np.sum(ends_epoch[:first_bad]))  # whole epochs before the bad step
                k = max((i + 1 for i in range(first_bad) if ends_epoch[i]), default=0)
                good_params, good_state = good[0], good[1]
                if k:
                    prefix = StepPlan(
                        None if plan.batches is None else plan.batches[:k],
                        plan.lrs[:k],
                        plan.t[:k],
                    )
                    data = (Xb, Yb, SW)
                    good_params, good_state, _ = run_steps(
                        backend, step_fn, good_params, good_state, data, prefix
                    )
                model.params = good_params
                history.state = TrainState(
                    good_state, first + k, good[2] + done, *(good[3:] if k == 0 else (0,))
                )
                ok = losses[: first_bad + 1 if weights_bad else first_bad]
                last_finite = float(ok[-1]) if ok.size else last_finite
                step_no = first + first_bad + 1
                what = (
                    "the weights became NaN or infinite"
                    if weights_bad
                    else (f"the loss became {losses[first_bad]}")
                )
                err = TrainingDiverged(
                    f"training diverged: {what} at step {step_no} "
                    f"(epoch {good[2] + done + 1}); last finite loss: {last_finite}. "
                    f"The model keeps its weights from before that epoch. Try a smaller "
                    f"learning rate, e.g. lr={lr / 10:g} (was {lr:g}).",
                    step=step_no,
                    last_finite_loss=last_finite,
                )
                err.history = history
                raise err
            if losses.size:
                last_finite = float(losses[-1])
            model.params = params
            # per-epoch train loss: mean of its step losses, weighted by batch size
            # (by batch weight with sample weights: then it is Σ wᵢ lᵢ / Σ wᵢ)
            finished = []
            if steps_per_epoch == 1:  # every step is an epoch (same arithmetic, vectorized)
                finished = ((losses * float(n)) / float(n)).tolist()
                epoch += losses.size
            else:
                for i in range(losses.size):
                    run_loss += losses[i] * sizes[i]
                    run_n += sizes[i]
                    in_epoch += 1
                    if ends_epoch[i]:
                        finished.append(run_loss / run_n)
                        run_loss, run_n, in_epoch = 0.0, 0.0, 0
                        epoch += 1
            done_steps += losses.size
            history.n_steps = done_steps
            history.state = TrainState(
                opt_state,
                start_step + done_steps,
                start_epoch + epoch,
                in_epoch,
                *((float(run_loss), float(run_n)) if in_epoch else ()),
            )
            interrupted = losses.size < len(sizes) or bool(stopped)
            if should_stop is not None and backend.name == "jax" and losses.size:
                interrupted = bool(should_stop())  # asked once per compiled chunk
            history.epoch.extend(
                range(start_epoch + epoch - len(finished) + 1, start_epoch + epoch + 1)
            )
            history.train_loss.extend(float(value) for value in finished)
            if interrupted and not finished:
                history.interrupted = True
                break
            partial = bool(run_n and done_steps >= total_steps)  # `steps` ended mid-epoch
            if partial:
                history.epoch.append(start_epoch + epoch + 1)
                history.train_loss.append(float(run_loss / run_n))
            elif not finished:
                break
            label = history.epoch[-1]  # the epoch just recorded (a partial one counts)

            logs = {"epoch": label, "train_loss": history.train_loss[-1]}
            if train_metrics:
                history.train_metric.append(_metric(model, Xb, Yb, loss_fn))
                logs[f"train_{metric}"] = history.train_metric[-1]
            if Xv is not None:
                out_v = forward(params, model.activations, Xv)
                val_loss = float(loss_fn.value_and_grad(out_v, Yv)[0])
                history.val_loss.append(val_loss)
                history.val_metric.append(_metric(model, Xv, Yv, loss_fn))
                logs["val_loss"] = val_loss
                logs[f"val_{metric}"] = history.val_metric[-1]
                if val_loss < best[0] - min_delta:
                    best = (val_loss, label, params)
            progress.update(logs)
            stop = any(cb(label, dict(logs), model) is True for cb in callbacks)
            since = start_epoch if best[1] is None else best[1]  # None: no finite val loss yet
            if early_stopping and label - since >= patience:
                history.stopped_early = True
                stop = True
            if interrupted:
                history.interrupted = True
            if stop or interrupted:
                break
    finally:
        progress.close()
    if Xv is not None:
        history.best_epoch = best[1]
        if early_stopping and best[2] is not None:
            model.params = best[2]
    model.history = history
    return history


def _check_fit_args(lr, epochs, steps, batch_size, validation_split, patience, min_delta, l2):
    check_number("lr", lr, gt=0, hint="Pass a positive learning rate such as lr=0.01.")
    if epochs is not None and steps is not None:
        raise ConfigError("give `epochs` or `steps`, not both.")
    if epochs is not None:
        check_number("epochs", epochs, ge=1, integer=True)
    if steps is not None:
        check_number("steps", steps, ge=1, integer=True)
    if batch_size is not None:
        check_number("batch_size", batch_size, ge=1, integer=True)
    check_number("validation_split", validation_split, ge=0, lt=1)
    check_number("patience", patience, ge=1, integer=True)
    check_number("min_delta", min_delta, ge=0)
    check_number("l2", l2, ge=0)


def _check_finite(X, name):
    arr = to_numpy(X)
    if not np.all(np.isfinite(arr)):
        rows = np.flatnonzero(~np.all(np.isfinite(arr), axis=1))[:5].tolist()
        raise DataError(
            f"{name} contains NaN or infinite values (rows {rows}); remove or fill them first."
        )


def _epoch_order(n: int, B: int, shuffle: bool, seed: int, epoch: int):
    """The sample order of one epoch, ``None`` for full-batch (order does not matter).

    Seeded by ``(seed, epoch)``: the same on every backend, and a resumed run
    continues with the order the uninterrupted run would have used.
    """
    if B >= n:
        return None
    if not shuffle:
        return np.arange(n)
    return np.random.default_rng([seed, epoch]).permutation(n)


def _to_index(backend, idx):
    if backend.name == "torch":
        import torch

        return torch.as_tensor(idx, device=backend.torch_device)
    if backend.name == "jax":
        import jax.numpy as jnp

        return jnp.asarray(idx)
    return idx


def _metric(model: MLP, X, Y, loss_fn) -> float:
    out = to_numpy(forward(model.params, model.activations, X))
    target = to_numpy(Y)
    if loss_fn.task == "regression":
        return r2_score(target, out)
    if loss_fn.task == "binary":
        return accuracy(target[:, 0] > 0.5, out[:, 0] > 0)
    return accuracy(np.argmax(target, axis=1), np.argmax(out, axis=1))


class _Progress:
    """A rich progress bar on a terminal (verbose=1), lines per epoch (verbose=2), or nothing."""

    def __init__(self, total: int, verbose: int):
        self.verbose = verbose
        self.bar = None
        if verbose == 1 and sys.stderr.isatty():
            from rich.console import Console
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

            self.bar = Progress(
                TextColumn("epoch"),
                MofNCompleteColumn(),
                BarColumn(),
                TextColumn("{task.fields[info]}"),
                transient=False,
                console=Console(stderr=True),  # the terminal we checked, not a piped stdout
            )
            self.task = self.bar.add_task("train", total=total, info="")
            self.bar.start()

    def update(self, logs: dict):
        info = "  ".join(f"{k} {v:.4g}" for k, v in logs.items() if k != "epoch")
        if self.bar is not None:
            self.bar.update(self.task, completed=logs["epoch"], info=info)
        elif self.verbose >= 2:
            print(f"epoch {logs['epoch']}: {info}", file=sys.stderr)

    def close(self):
        if self.bar is not None:
            self.bar.stop()


__all__ = ["History", "TrainState", "fit", "make_step", "tree_map"]
