"""The divergence guard: a NaN or infinite loss (or weights) ends the run, keeping good weights.

The model keeps the weights of the last epoch whose losses were all finite. A
compiled chunk may span many epochs, so its good prefix is re-run from the
chunk's start (the steps are deterministic).
"""

from __future__ import annotations

import numpy as np

from ..backend.arrays import all_finite
from ..backend.loop import StepPlan, run_steps
from ..errors import TrainingDiverged
from .state import TrainState


def first_bad_step(losses: np.ndarray, params) -> tuple[int | None, bool]:
    """``(index of the first non-finite step or None, whether only the weights went bad)``."""
    bad = np.flatnonzero(~np.isfinite(losses))
    if bad.size:
        return int(bad[0]), False
    if losses.size and not all_finite(params):  # the last update overflowed: no loss shows it
        return losses.size - 1, True
    return None, False


def diverged(
    model,
    step_fn,
    data,
    plan: StepPlan,
    ends_epoch,
    start,
    first_bad,
    weights_bad,
    losses,
    last_finite,
    lr,
    history,
):
    """Restore the last good epoch's weights and state into ``model`` / ``history``; raise.

    ``start`` is ``(params, opt_state, epoch, in_epoch, run_loss, run_n)`` at the
    chunk's start.
    """
    done = int(np.sum(ends_epoch[:first_bad]))  # whole epochs before the bad step
    k = max((i + 1 for i in range(first_bad) if ends_epoch[i]), default=0)
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
    what = (
        "the weights became NaN or infinite"
        if weights_bad
        else f"the loss became {losses[first_bad]}"
    )
    err = TrainingDiverged(
        f"training diverged: {what} at step {step_no} "
        f"(epoch {start[2] + done + 1}); last finite loss: {last_finite}. "
        f"The model keeps its weights from before that epoch. Try a smaller "
        f"learning rate, e.g. lr={lr / 10:g} (was {lr:g}).",
        step=step_no,
        last_finite_loss=last_finite,
    )
    err.history = history
    raise err
