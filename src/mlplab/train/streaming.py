"""Training on a table larger than memory: :func:`fit_stream`, read top to bottom.

options → ranks → for each epoch: this rank's row groups in a seeded order
(:meth:`~mlplab.data.stream.TableStream.my_pieces`) → record batches of the
training rows, standardised into a bounded shuffle buffer → when the buffer is
full, its rows in a seeded random order cut into minibatches → those steps run
by the same step runner as :func:`~mlplab.train.fit`
(:func:`~mlplab.backend.loop.run_steps`, one compiled ``lax.scan`` per buffer
on JAX) → the epoch's loss → the validation rows' loss and metric (a second
pass over this rank's pieces, forward only) → early stopping, the epoch-end
hook (``mlplab train`` writes its checkpoint there).

Memory is the buffer (``shuffle_rows`` rows) plus one record batch, whatever
the file's size. The order is a bounded shuffle (row groups shuffled, rows
shuffled within the buffer), not the in-memory path's full permutation: the
same seed gives the same run, not the in-memory run's numbers. Everything an
epoch draws is seeded by ``(seed, epoch)``, so a run resumed at an epoch end
(``state=``) continues exactly as the uninterrupted run.

With several ranks (``torchrun``), each rank reads only its row groups and
takes ``ceil(batch_size / ranks)`` rows a step; every rank runs the same number
of steps (a rank whose rows ran out contributes empty shares), and the one
bucketed ``all_reduce`` of :mod:`mlplab.train.distributed` averages them.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from ..backend.loop import StepPlan, run_steps
from ..data.preprocessing import Preprocessor
from ..data.stream import Batch, Part, TableStream, encode_target
from ..errors import ConfigError
from ..nn.losses import get_loss
from ..nn.mlp import MLP, Array, forward
from ..nn.optim import get_optimizer
from ..nn.schedules import get_schedule, learning_rates
from .distributed import setup as distributed_setup
from .options import FitOptions
from .progress import Progress
from .state import History, TrainState
from .step import make_step

if TYPE_CHECKING:
    from .distributed import DataParallel

#: called at the end of every epoch with the history so far (``history.state`` is current)
EpochHook = Callable[[History], object]


def fit_stream(model: MLP, stream: TableStream, prep: Preprocessor, *, loss: Any = None,
               optimizer: Any = "adam", lr: float | None = None, schedule: Any = None,
               epochs: int = 1, batch_size: int = 32, seed: int = 0, l2: float = 0.0,
               shuffle_rows: int = 65536, early_stopping: bool = False, patience: int = 10,
               min_delta: float = 0.0, verbose: int = 1,
               should_stop: Callable[[], bool] | None = None, distributed: bool | None = None,
               state: TrainState | None = None,
               on_epoch_end: EpochHook | None = None) -> History:  # fmt: skip
    """Train ``model`` on ``stream`` (preprocessed by ``prep``); return its :class:`History`.

    The settings mean what they mean for :func:`~mlplab.train.fit`;
    ``shuffle_rows`` bounds the shuffle buffer (and the memory). The
    validation rows are the stream's (``TableStream(..., validation_split=)``);
    ``early_stopping`` needs them. ``state`` (a checkpoint's, taken at an epoch
    end) continues a run: ``epochs`` counts the epochs still to go, as for ``fit``.
    ``on_epoch_end(history)`` runs on every rank after each epoch.
    """
    opts = FitOptions(loss=loss, optimizer=optimizer, lr=lr, schedule=schedule, epochs=epochs,
                      batch_size=batch_size, seed=seed, l2=l2, early_stopping=early_stopping,
                      patience=patience, min_delta=min_delta, verbose=verbose)  # fmt: skip
    if batch_size is None or not (isinstance(shuffle_rows, int) and shuffle_rows >= batch_size):
        raise ConfigError(
            f"streaming needs a batch size (not full batch) and a shuffle buffer of at least "
            f"one batch; got batch_size={batch_size}, shuffle_rows={shuffle_rows}."
        )
    if early_stopping and stream.holdout is None:
        raise ConfigError(
            "`early_stopping=True` needs validation rows: open the stream with "
            "validation_split > 0 (mlplab train --validation-split 0.2)."
        )
    dp = distributed_setup(distributed, model.backend)
    if dp is not None:
        opts = opts.quiet_unless(dp.rank == 0)  # rank 0 alone prints
        should_stop = dp.agreed_stop(should_stop)
    run = _Streamed(model, stream, prep, opts, dp, state, shuffle_rows)
    try:
        run.epochs(should_stop, on_epoch_end)
    finally:
        run.progress.close()
    if run.best.params is not None and opts.early_stopping:
        model.params = run.best.params
    history = run.history
    history.best_epoch = run.best.epoch if stream.holdout is not None else None
    history.n_steps, history.state = run.state.step - run.start_step, run.state
    model.history = history
    return history


def _default_loss(prep: Preprocessor, model: MLP) -> str:
    if prep.task == "regression":
        return "mse"
    return "bce" if model.n_outputs == 1 else "softmax_cross_entropy"


class _Best:
    """The best validation loss so far, its epoch and its weights."""

    def __init__(self) -> None:
        self.loss: float = math.inf
        self.epoch: int | None = None
        self.params: Any = None


class _Streamed:
    """One call of :func:`fit_stream`: the plan of every epoch, the epoch loop."""

    def __init__(self, model: MLP, stream: TableStream, prep: Preprocessor, opts: FitOptions,
                 dp: DataParallel | None, state: TrainState | None,
                 shuffle_rows: int) -> None:  # fmt: skip
        self.model, self.stream, self.prep, self.opts, self.dp = model, stream, prep, opts, dp
        self.rank, self.world = (0, 1) if dp is None else (dp.rank, dp.world)
        self.loss_fn = get_loss(opts.loss or _default_loss(prep, model))
        opt = get_optimizer(opts.optimizer)
        reduce = None if dp is None else dp.reduce
        self.step_fn = make_step(tuple(model.activations), self.loss_fn, opt, float(opts.l2),
                                 reduce)  # fmt: skip
        self.state = _start_state(state, opt, model)
        self.start_step, self.start_epoch = self.state.step, self.state.epoch
        self.shuffle_rows = shuffle_rows
        self.b_local = math.ceil(int(opts.batch_size or 1) / self.world)
        epochs = range(self.start_epoch, self.start_epoch + int(opts.epochs or 1))
        if stream.holdout is not None and not sum(stream.part_rows("validation")):
            raise ConfigError(
                f"the validation split of {stream.path!r} holds no rows; raise "
                "--validation-split (or use a larger file)."
            )
        self.steps = {e: self._steps_of(e) for e in epochs}  # the most steps any rank runs
        self.total = self.start_step + sum(self.steps.values())
        self.lr0, self.schedule = opts.lr_for(opt), get_schedule(opts.schedule)
        metric = "r2" if prep.task == "regression" else "accuracy"
        self.history = History(loss=self.loss_fn.name, metric=metric, state=self.state)
        self.progress = Progress(int(opts.epochs or 1), opts.verbose)
        self.best = _Best()

    def _steps_of(self, epoch: int) -> int:
        """Steps of ``epoch``: those of the rank with the most training rows (row numbers only)."""
        rows = self.stream.part_rows("train")
        shares = []
        for r in range(self.world):
            pieces = self.stream.my_pieces(self.opts.seed, epoch, r, self.world)
            shares.append(range(len(rows))[r :: self.world] if pieces is None else pieces)  # CSV
        return max(math.ceil(sum(rows[g] for g in share) / self.b_local) for share in shares)

    def epochs(self, should_stop: Callable[[], bool] | None,
               on_epoch_end: EpochHook | None) -> None:  # fmt: skip
        """Every epoch: train, validate, record; stop early or when asked."""
        history, state, opts = self.history, self.state, self.opts
        for epoch in self.steps:
            loss = self.train_epoch(epoch)
            state.epoch += 1
            history.epoch.append(state.epoch)
            history.train_loss.append(loss)
            logs = {"epoch": float(state.epoch), "train_loss": loss}
            if self.stream.holdout is not None:
                self.validate(logs)
            self.progress.update(logs)
            history.n_steps, history.state = state.step - self.start_step, state
            if on_epoch_end is not None:
                on_epoch_end(history)
            since = self.start_epoch if self.best.epoch is None else self.best.epoch
            if opts.early_stopping and state.epoch - since >= opts.patience:
                history.stopped_early = True
                return
            last = epoch + 1 == self.start_epoch + len(self.steps)
            if should_stop is not None and should_stop() and not last:
                history.interrupted = True
                return

    def train_epoch(self, epoch: int) -> float:
        """One epoch over this rank's training rows; the (global) mean loss of its steps."""
        model, stream, seed = self.model, self.stream, self.opts.seed
        pieces = stream.my_pieces(seed, epoch, self.rank, self.world)
        rng = np.random.default_rng([seed, epoch, 2, self.rank])
        buffer = _Buffer(rng, self.shuffle_rows, self.b_local, self.prep.n_features)
        loss_sum, rows, steps = 0.0, 0, 0
        records = stream.batches(self.prep.categories, pieces, self.rank, self.world, "train")
        for X, y in _then_end(records):
            if X is None or y is None:  # the end of the epoch: the buffer's last rows
                Xb, yb, batches = buffer.drain()
                batches = self.pad(batches, epoch, steps)
            else:
                Xb, yb, batches = buffer.add(self.features(X), encode_target(y, self.prep))
            if not batches:
                continue
            state = self.state
            lrs = learning_rates(self.lr0, self.schedule, state.step, len(batches), self.total)
            plan = StepPlan(batches, lrs, np.arange(state.step + 1, state.step + len(batches) + 1))
            tensors = (model.backend.asarray(Xb), self.targets(yb), None)
            model.params, state.opt_state, losses = run_steps(
                model.backend, self.step_fn, model.params, state.opt_state, tensors, plan
            )
            sizes = np.array([len(b) for b in batches], dtype=np.float64)
            loss_sum += float(losses @ sizes)
            rows += int(sizes.sum())
            steps += len(batches)
            state.step += len(batches)
        if self.dp is None:
            return loss_sum / rows
        return self.dp.mean(loss_sum / max(rows, 1), float(rows), "the epoch's loss")

    def validate(self, logs: dict[str, float]) -> None:
        """The validation rows' loss and metric (each rank its pieces, summed over ranks)."""
        pieces = self.stream.my_pieces(self.opts.seed, 0, self.rank, self.world, shuffle=False)
        sums = _Sums(self.model, self.prep, self.loss_fn)
        sums.add_all(self.stream.batches(self.prep.categories, pieces, self.rank, self.world,
                                         "validation"))  # fmt: skip
        if self.dp is not None:
            sums.reduce(self.dp)
        if not sums.n:
            raise ConfigError(
                f"the validation split of {self.stream.path!r} holds no rows; raise "
                "--validation-split (or use a larger file)."
            )
        val_loss, metric = sums.loss / sums.n, sums.metric()
        history = self.history
        history.val_loss.append(val_loss)
        history.val_metric.append(metric)
        logs["val_loss"], logs[f"val_{history.metric}"] = val_loss, metric
        if val_loss < self.best.loss - self.opts.min_delta:
            self.best.loss, self.best.epoch = val_loss, self.state.epoch
            self.best.params = self.model.params

    def features(self, X: NDArray[np.float64]) -> NDArray[np.float64]:
        return _standardise(X, self.prep)

    def targets(self, y: NDArray[Any]) -> Array:
        model = self.model
        if len(y) == 0:  # an empty share (a rank whose rows ran out)
            return model.backend.asarray(np.zeros((0, model.n_outputs)))
        return self.loss_fn.prepare_targets(y, model.n_outputs, model.backend)

    def pad(self, batches: list[NDArray[np.int64]], epoch: int,
            done: int) -> list[NDArray[np.int64]]:  # fmt: skip
        """At the end of an epoch: empty shares until every rank has run the same steps."""
        if self.world > 1:
            empty = np.arange(0, dtype=np.int64)
            batches = batches + [empty] * (self.steps[epoch] - done - len(batches))
        return batches


def _start_state(state: TrainState | None, opt: Any, model: MLP) -> TrainState:
    """``state`` if it belongs to ``opt`` and was taken at an epoch end; else a fresh one."""
    from .loop import _start_state as checked

    state = checked(state, opt, model)
    if state.batch_in_epoch:
        raise ConfigError(
            f"a streamed run resumes at an epoch end; this state is {state.batch_in_epoch} "
            "batches into an epoch (it was not written by a streamed run)."
        )
    return state


def _standardise(X: NDArray[np.float64], prep: Preprocessor) -> NDArray[np.float64]:
    scaler = prep.scaler
    if scaler is None or scaler.mean is None or scaler.scale is None:
        raise ConfigError("the Preprocessor is not fitted: scan the stream first.")
    out: NDArray[np.float64] = (X - scaler.mean) / scaler.scale
    return out


def _then_end(batches: Iterable[Batch]) -> Iterator[Batch | tuple[None, None]]:
    """The record batches, then ``(None, None)``: the end of the epoch (drain the buffer)."""
    yield from batches
    yield None, None


class _Buffer:
    """A bounded shuffle buffer: rows in; rows out in a seeded random order, in minibatches."""

    def __init__(self, rng: np.random.Generator, capacity: int, batch: int, d: int) -> None:
        self.rng, self.capacity, self.batch, self.d = rng, capacity, batch, d
        self.X: list[NDArray[np.float64]] = []
        self.y: list[NDArray[Any]] = []
        self.n = 0

    def add(self, X: NDArray[np.float64], y: NDArray[Any]) -> _Emitted:
        """Keep the rows; once ``capacity`` are held, all full minibatches of them."""
        self.X.append(X)
        self.y.append(y)
        self.n += len(X)
        if self.n < self.capacity:
            return np.zeros((0, self.d)), np.zeros(0), []
        return self._emit(final=False)

    def drain(self) -> _Emitted:
        """Every row still held, the last minibatch possibly short."""
        if not self.n:
            return np.zeros((0, self.d)), np.zeros(0), []
        return self._emit(final=True)

    def _emit(self, final: bool) -> _Emitted:
        X, y = np.concatenate(self.X), np.concatenate(self.y)
        order = self.rng.permutation(len(X))
        b = self.batch
        k = math.ceil(len(X) / b) if final else len(X) // b
        batches = [order[i * b : (i + 1) * b] for i in range(k)]
        keep = order[k * b :]
        self.X, self.y, self.n = [X[keep]], [y[keep]], len(keep)
        return X, y, batches


#: rows held, their targets, and the minibatches (row indices) ready to run
_Emitted = tuple[NDArray[np.float64], NDArray[Any], list[NDArray[np.int64]]]


class _Sums:
    """Per-row sums of one pass (loss, hits, errors), for validation and evaluation."""

    KEYS = ("n", "loss", "hit", "se_z", "z", "zz", "se", "ae", "y", "yy")

    def __init__(self, model: MLP, prep: Preprocessor, loss_fn: Any) -> None:
        from ..backend.arrays import get_backend

        self.model, self.prep, self.loss_fn = model, prep, loss_fn
        self.host = get_backend("numpy", "float64")
        self.values = dict.fromkeys(self.KEYS, 0.0)

    @property
    def n(self) -> float:
        return self.values["n"]

    @property
    def loss(self) -> float:
        return self.values["loss"]

    def add_all(self, batches: Iterable[Batch]) -> None:
        for X, y in batches:
            if len(X):
                self.add(X, y)

    def add(self, X: NDArray[np.float64], y_raw: NDArray[Any]) -> None:
        from ..backend.arrays import to_numpy

        model, prep, s = self.model, self.prep, self.values
        inputs = model.backend.asarray(_standardise(X, prep))
        out = to_numpy(forward(model.params, model.activations, inputs)).astype(np.float64)
        target = encode_target(y_raw, prep)
        k = float(len(X))
        prepared = self.loss_fn.prepare_targets(target, model.n_outputs, self.host)
        s["n"] += k
        s["loss"] += float(self.loss_fn.value_and_grad(out, prepared)[0]) * k
        if prep.task == "regression":
            z = np.asarray(target, dtype=np.float64)[:, 0]
            y = y_raw.astype(np.float64)
            err = prep.inverse_transform_target(out)[:, 0] - y
            s["se_z"] += float((out[:, 0] - z) @ (out[:, 0] - z))
            s["z"], s["zz"] = s["z"] + float(z.sum()), s["zz"] + float(z @ z)
            s["se"], s["ae"] = s["se"] + float(err @ err), s["ae"] + float(np.abs(err).sum())
            s["y"], s["yy"] = s["y"] + float(y.sum()), s["yy"] + float(y @ y)
        else:
            guess = out[:, 0] > 0 if model.n_outputs == 1 else out.argmax(1)
            s["hit"] += float(np.sum(guess == target))

    def reduce(self, dp: DataParallel) -> None:
        """Sum every rank's sums (one ``all_reduce``)."""
        import torch

        buf = torch.tensor([self.values[k] for k in self.KEYS], dtype=torch.float64,
                           device=dp.device)  # fmt: skip
        dp.all_reduce(buf, "the validation pass")
        self.values = dict(zip(self.KEYS, buf.tolist(), strict=True))

    def metric(self) -> float:
        """Accuracy, or R² (of the standardised target: the same as of the raw one)."""
        s = self.values
        if self.prep.task != "regression":
            return s["hit"] / s["n"]
        return _r2(s["se_z"], s["zz"] - s["z"] ** 2 / s["n"])

    def report(self) -> dict[str, float]:
        """What ``mlplab train`` reports: MSE, MAE, R² (raw units), or loss and accuracy."""
        s, n = self.values, self.values["n"]
        if self.prep.task == "regression":
            return {"n": n, "mse": s["se"] / n, "mae": s["ae"] / n,
                    "r2": _r2(s["se"], s["yy"] - s["y"] ** 2 / n)}  # fmt: skip
        return {"n": n, "loss": s["loss"] / n, "accuracy": s["hit"] / n}


def _r2(se: float, total: float) -> float:
    """1 − SS_res / SS_tot; a constant target: 1 if predicted exactly, else 0 (as r2_score)."""
    if total > 0:
        return 1 - se / total
    return 1.0 if se == 0 else 0.0


def evaluate_stream(model: MLP, stream: TableStream, prep: Preprocessor, loss: str,
                    part: Part = "all") -> dict[str, float]:  # fmt: skip
    """Metrics over the rows of ``part`` in one pass (what ``mlplab train`` reports)."""
    sums = _Sums(model, prep, get_loss(loss))
    sums.add_all(stream.batches(prep.categories, part=part))
    if not sums.n:
        raise ConfigError(f"{stream.path!r} has no {part} rows to evaluate.")
    report = sums.report()
    report["n"] = int(report["n"])
    return report


__all__ = ["evaluate_stream", "fit_stream"]
