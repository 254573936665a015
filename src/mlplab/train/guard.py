"""The divergence guard: a NaN, infinite or exploding loss (or weights) ends the run.

A loss that stays finite but grows past :data:`DIVERGENCE_FACTOR` times its
reference (the larger of the run's first step loss and the loss of the best
constant prediction: ln 2 for BCE, ln k for k-class cross-entropy, the targets'
variance for MSE) counts as divergence too: a model a thousand times worse than
predicting a constant has not learnt anything, and no converging run comes near
it (docs/reliability.md, "Divergence", has the measurements).

The model keeps the weights of the last epoch whose losses were all finite. A
compiled chunk may span many epochs, so its good prefix is re-run from the
chunk's start (the steps are deterministic).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, NoReturn

import numpy as np

from ..backend.arrays import all_finite
from ..backend.loop import StepPlan, run_steps
from ..errors import TrainingDiverged
from .state import TrainState

if TYPE_CHECKING:
    from ..backend.loop import Data, StepFn
    from ..nn.mlp import MLP, Params
    from ..nn.optim import OptState, Tree
    from .state import History

    #: A chunk's start: ``(params, opt_state, epoch, in_epoch, run_loss, run_n)``.
    ChunkStart = tuple[Tree, OptState, int, int, float, float]

#: A step loss above this many times its reference is divergence, as a NaN is.
DIVERGENCE_FACTOR = 1000.0


def constant_loss(loss_name: str, Y: np.ndarray, n_outputs: int) -> float:
    """The loss of the best constant prediction: the floor of the divergence reference."""
    if loss_name == "mse":
        y = np.asarray(Y, dtype=np.float64).reshape(len(Y), -1)
        with np.errstate(over="ignore", invalid="ignore"):
            var = float(np.mean(np.var(y, axis=0))) if len(y) else 0.0
        return var if np.isfinite(var) else 0.0
    return float(np.log(max(2, n_outputs)))


def warn_if_constant(Y: np.ndarray, task: str) -> None:
    """Warn when every training target is the same: the model can only learn that constant."""
    import warnings

    if len(Y) > 1 and np.all(Y == Y[:1]):
        what = "class" if task != "regression" else "value"
        warnings.warn(
            f"every training target is the same {what}: the model can only learn to predict "
            "it. Check the target column (or the labels passed as `y`).",
            UserWarning,
            stacklevel=3,
        )


def first_bad_step(
    losses: np.ndarray, params: Params, limit: float = np.inf
) -> tuple[int | None, bool]:
    """``(index of the first non-finite step or None, whether only the weights went bad)``.

    A loss above ``limit`` counts as non-finite (see :data:`DIVERGENCE_FACTOR`).
    """
    bad = np.flatnonzero(~np.isfinite(losses) | (losses > limit))
    if bad.size:
        return int(bad[0]), False
    if losses.size and not all_finite(params):  # the last update overflowed: no loss shows it
        return losses.size - 1, True
    return None, False


def diverged(
    model: MLP,
    step_fn: StepFn,
    data: Data,
    plan: StepPlan,
    ends_epoch: Sequence[bool],
    start: ChunkStart,
    first_bad: int,
    weights_bad: bool,
    losses: np.ndarray,
    last_finite: float | None,
    lr: float,
    history: History,
    limit: float = np.inf,
    bad_value: float | None = None,
) -> NoReturn:
    """Restore the last good epoch's weights and state into ``model`` / ``history``; raise.

    ``start`` is ``(params, opt_state, epoch, in_epoch, run_loss, run_n)`` at the
    chunk's start. A step's loss is computed with the weights *entering* it, so a
    bad loss at step ``b`` condemns the weights left by step ``b - 1``: the weights
    kept are those of the last epoch end before that. ``first_bad`` may be one past
    the chunk (``losses.size``): the bad loss came first in the next chunk.
    """
    cut = first_bad if weights_bad else first_bad - 1  # epoch ends at step < cut are good
    k = max((i + 1 for i in range(cut) if ends_epoch[i]), default=0)
    done = int(np.sum(ends_epoch[:k]))  # whole epochs kept
    params, opt_state = start[0], start[1]
    if k:
        prefix = StepPlan(
            None if plan.batches is None else plan.batches[:k], plan.lrs[:k], plan.t[:k]
        )
        params, opt_state, _ = run_steps(model.backend, step_fn, params, opt_state, data, prefix)
    model.params = params
    first = int(plan.t[0]) - 1
    history.state = TrainState(
        opt_state, first + k, start[2] + done, *(start[3:] if k == 0 else (0,))
    )
    ok = losses[: first_bad + 1 if weights_bad else first_bad]
    last_finite = float(ok[-1]) if ok.size else last_finite
    step_no = first + first_bad + 1
    value = float(losses[first_bad]) if bad_value is None else float(bad_value)
    if weights_bad:
        what, reason = "the weights became NaN or infinite", None
    elif np.isfinite(value):
        reason = (
            f"the loss grew to {value:.4g}, more than {DIVERGENCE_FACTOR:g} times where it "
            f"started ({limit / DIVERGENCE_FACTOR:.4g})"
        )
        what = reason
    else:
        what, reason = f"the loss became {value}", None
    epoch = start[2] + int(np.sum(ends_epoch[:first_bad])) + 1
    err = TrainingDiverged(
        f"training diverged: {what} at step {step_no} (epoch {epoch}); last finite loss: "
        f"{last_finite}. The model keeps its weights from before the loss went bad (end of "
        f"epoch {start[2] + done}). Try a smaller learning rate, e.g. lr={lr / 10:g} "
        f"(was {lr:g}).",
        step=step_no,
        last_finite_loss=last_finite,
    )
    err.reason = reason
    err.history = history
    raise err
