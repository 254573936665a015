"""Training on a table larger than memory: :func:`fit_stream`, read top to bottom.

options → ranks → for each epoch: this rank's row groups in a seeded order
(:meth:`~mlplab.data.stream.TableStream.my_pieces`) → record batches
standardised into a bounded shuffle buffer → when the buffer is full, its rows
in a seeded random order cut into minibatches → those steps run by the same
step runner as :func:`~mlplab.train.fit` (:func:`~mlplab.backend.loop.run_steps`,
one compiled ``lax.scan`` per buffer on JAX) → the epoch's loss.

Memory is the buffer (``shuffle_rows`` rows) plus one record batch, whatever
the file's size. The order is a bounded shuffle (row groups shuffled, rows
shuffled within the buffer), not the in-memory path's full permutation: the
same seed gives the same run, not the in-memory run's numbers.

With several ranks (``torchrun``), each rank reads only its row groups and
takes ``ceil(batch_size / ranks)`` rows a step; every rank runs the same number
of steps (a rank whose rows ran out contributes empty shares), and the one
bucketed ``all_reduce`` of :mod:`mlplab.train.distributed` averages them.
"""

from __future__ import annotations

import math

import numpy as np

from ..backend.loop import StepPlan, run_steps
from ..data.stream import TableStream, encode_target
from ..errors import ConfigError
from ..nn.losses import get_loss
from ..nn.metrics import accuracy, r2_score
from ..nn.mlp import MLP, forward
from ..nn.optim import get_optimizer
from ..nn.schedules import get_schedule, learning_rates
from .distributed import setup as distributed_setup
from .options import FitOptions
from .progress import Progress
from .state import History, TrainState
from .step import make_step


def fit_stream(model: MLP, stream: TableStream, prep, *, loss=None, optimizer="adam", lr=None,
               schedule=None, epochs: int = 1, batch_size: int = 32, seed: int = 0, l2=0.0,
               shuffle_rows: int = 65536, verbose: int = 1, should_stop=None,
               distributed=None) -> History:  # fmt: skip
    """Train ``model`` on ``stream`` (preprocessed by ``prep``); return its :class:`History`.

    The settings mean what they mean for :func:`~mlplab.train.fit`;
    ``shuffle_rows`` bounds the shuffle buffer (and the memory).
    """
    opts = FitOptions(loss=loss, optimizer=optimizer, lr=lr, schedule=schedule, epochs=epochs,
                      batch_size=batch_size, seed=seed, l2=l2, verbose=verbose)  # fmt: skip
    if batch_size is None or not (isinstance(shuffle_rows, int) and shuffle_rows >= batch_size):
        raise ConfigError(
            f"streaming needs a batch size (not full batch) and a shuffle buffer of at least "
            f"one batch; got batch_size={batch_size}, shuffle_rows={shuffle_rows}."
        )
    loss_fn = get_loss(loss or _default_loss(prep, model))
    opt = get_optimizer(opts.optimizer)
    dp = distributed_setup(distributed, model.backend)
    rank, world = (0, 1) if dp is None else (dp.rank, dp.world)
    if dp is not None:
        opts = opts.quiet_unless(rank == 0)
        should_stop = dp.agreed_stop(should_stop)
    run = _Run(model, stream, prep, loss_fn, opts, rank, world)
    reduce = None if dp is None else dp.reduce
    step_fn = make_step(tuple(model.activations), loss_fn, opt, float(opts.l2), reduce)
    state = TrainState(opt.init(model.params))
    history = History(loss=loss_fn.name, metric="r2" if prep.task == "regression" else "accuracy")
    progress = Progress(epochs, opts.verbose)
    lr0, sched = opts.lr_for(opt), get_schedule(opts.schedule)
    try:
        for epoch in range(epochs):
            pieces = stream.my_pieces(seed, epoch, rank, world)
            buffer = _Buffer(np.random.default_rng([seed, epoch, 2, rank]), shuffle_rows,
                             run.b_local, len(stream.features))  # fmt: skip
            loss_sum, rows, steps = 0.0, 0, 0
            for X, y in _then_end(stream.batches(pieces, rank, world)):
                if X is None:  # the end of the epoch: the buffer's last rows
                    Xb, yb, batches = buffer.drain()
                    batches = run.pad(batches, epoch, steps)
                else:
                    Xb, yb, batches = buffer.add(run.features(X), encode_target(y, prep))
                if not batches:
                    continue
                plan = StepPlan(batches, learning_rates(lr0, sched, state.step, len(batches),
                                run.total), np.arange(state.step + 1,
                                state.step + len(batches) + 1))  # fmt: skip
                tensors = (model.backend.asarray(Xb), run.targets(yb, loss_fn, model), None)
                model.params, state.opt_state, losses = run_steps(
                    model.backend, step_fn, model.params, state.opt_state, tensors, plan
                )
                sizes = np.array([len(b) for b in batches], dtype=np.float64)
                loss_sum += float(losses @ sizes)
                rows += int(sizes.sum())
                steps += len(batches)
                state.step += len(batches)
            epoch_loss = loss_sum / rows if dp is None else dp.mean(
                loss_sum / max(rows, 1), float(rows), "the epoch's loss"
            )  # fmt: skip
            state.epoch += 1
            history.epoch.append(epoch + 1)
            history.train_loss.append(float(epoch_loss))
            progress.update({"epoch": epoch + 1, "train_loss": float(epoch_loss)})
            if should_stop is not None and should_stop() and epoch + 1 < epochs:
                history.interrupted = True
                break
    finally:
        progress.close()
    history.n_steps, history.state = state.step, state
    model.history = history
    return history


def _default_loss(prep, model) -> str:
    if prep.task == "regression":
        return "mse"
    return "bce" if model.n_outputs == 1 else "softmax_cross_entropy"


def _then_end(batches):
    """The record batches, then ``(None, None)``: the end of the epoch (drain the buffer)."""
    yield from batches
    yield None, None


class _Run:
    """What every epoch of a streamed run shares: batch share, steps per epoch, transforms."""

    def __init__(self, model, stream, prep, loss_fn, opts, rank, world):
        self.prep, self.world = prep, world
        self.b_local = math.ceil(opts.batch_size / world)
        rows = stream.piece_rows()
        if rows is None:  # a CSV: count its blocks' rows once (nothing kept)
            rows = [len(X) for X, _ in stream.batches()]
        self.steps = []  # per epoch: the most steps any rank runs
        for epoch in range(opts.epochs):
            for_rank = [
                range(len(rows))[r::world]
                if stream.my_pieces(opts.seed, epoch) is None
                else stream.my_pieces(opts.seed, epoch, r, world)
                for r in range(world)
            ]
            self.steps.append(max(math.ceil(sum(rows[g] for g in p) / self.b_local)
                                  for p in for_rank))  # fmt: skip
        self.total = sum(self.steps)

    def features(self, X):
        return (X - self.prep.scaler.mean) / self.prep.scaler.scale

    def targets(self, y, loss_fn, model):
        if len(y) == 0:  # an empty share (a rank whose rows ran out)
            return model.backend.asarray(np.zeros((0, model.n_outputs)))
        return loss_fn.prepare_targets(y, model.n_outputs, model.backend)

    def pad(self, batches, epoch: int, done: int) -> list:
        """At the end of an epoch: empty shares until every rank has run the same steps."""
        if self.world > 1:
            batches = batches + [np.arange(0)] * (self.steps[epoch] - done - len(batches))
        return batches


class _Buffer:
    """A bounded shuffle buffer: rows in; rows out in a seeded random order, in minibatches."""

    def __init__(self, rng, capacity: int, batch: int, d: int):
        self.rng, self.capacity, self.batch, self.d = rng, capacity, batch, d
        self.X, self.y, self.n = [], [], 0

    def add(self, X, y):
        """Keep the rows; once ``capacity`` are held, all full minibatches of them."""
        self.X.append(X)
        self.y.append(y)
        self.n += len(X)
        if self.n < self.capacity:
            return None, None, []
        return self._emit(final=False)

    def drain(self):
        """Every row still held, the last minibatch possibly short."""
        if not self.n:
            return np.zeros((0, self.d)), np.zeros(0), []
        return self._emit(final=True)

    def _emit(self, final: bool):
        X, y = np.concatenate(self.X), np.concatenate(self.y)
        order = self.rng.permutation(len(X))
        b = self.batch
        k = math.ceil(len(X) / b) if final else len(X) // b
        batches = [order[i * b : (i + 1) * b] for i in range(k)]
        keep = order[k * b :]
        self.X, self.y, self.n = [X[keep]], [y[keep]], len(keep)
        return X, y, batches


def evaluate_stream(model: MLP, stream: TableStream, prep, loss: str) -> dict:
    """Metrics over the whole file in one pass (as ``mlplab train`` reports for the train split)."""
    from ..backend.arrays import get_backend, to_numpy

    loss_fn, sums, n = get_loss(loss), {}, 0
    host = get_backend("numpy", "float64")
    for X, y_raw in stream.batches():
        out = to_numpy(forward(model.params, model.activations, model.backend.asarray(
            (X - prep.scaler.mean) / prep.scaler.scale))).astype(np.float64)  # fmt: skip
        k = len(X)
        n += k
        if prep.task == "regression":
            pred = prep.inverse_transform_target(out)[:, 0]
            err = pred - y_raw.astype(np.float64)
            _add(sums, se=float(err @ err), ae=float(np.abs(err).sum()),
                 y=float(y_raw.sum()), yy=float(y_raw.astype(np.float64) @ y_raw))  # fmt: skip
        else:
            idx = encode_target(y_raw, prep)
            target = loss_fn.prepare_targets(idx, model.n_outputs, host)
            hit = accuracy(idx, out[:, 0] > 0 if model.n_outputs == 1 else out.argmax(1)) * k
            _add(sums, loss=float(loss_fn.value_and_grad(out, target)[0]) * k, hit=hit)
    if prep.task == "regression":
        total = sums["yy"] - sums["y"] ** 2 / n
        r2 = 1 - sums["se"] / total if total > 0 else r2_score([0.0], [0.0])
        return {"n": n, "mse": sums["se"] / n, "mae": sums["ae"] / n, "r2": r2}
    return {"n": n, "loss": sums["loss"] / n, "accuracy": sums["hit"] / n}


def _add(sums: dict, **values) -> None:
    for key, value in values.items():
        sums[key] = sums.get(key, 0.0) + value


__all__ = ["evaluate_stream", "fit_stream"]
