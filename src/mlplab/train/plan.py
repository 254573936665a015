"""The plan of a run: how many steps and epochs, and which rows each step sees.

The minibatch order is seeded by ``(seed, epoch)``: the same on every backend,
and a resumed run continues with the order the uninterrupted run would have used.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from ..backend.loop import StepPlan
from ..nn.schedules import learning_rates

if TYPE_CHECKING:
    from .options import FitOptions
    from .state import TrainState


@dataclass
class RunPlan:
    """How long a run is and how its epochs are cut into batches."""

    n: int  # training rows
    B: int  # batch size
    steps_per_epoch: int
    total_epochs: int  # epochs started in this call (a partly done first one counts)
    total_steps: int  # optimizer steps in this call
    skip: int  # batches of the first epoch done before (a resumed run)
    start_step: int  # optimizer steps done before this call
    start_epoch: int  # epochs completed before this call


@dataclass
class Cursor:
    """Where the run is: epochs and steps done in this call, and the current epoch's loss so far."""

    epoch: int = 0  # epochs completed in this call
    done_steps: int = 0
    in_epoch: int = 0  # batches of the current epoch done
    run_loss: float = 0.0  # Σ batch loss × batch size (or weight) of the current epoch
    run_n: float = 0.0  # Σ batch sizes (or weights) of the current epoch


def plan_run(n: int, opts: FitOptions, state: TrainState) -> RunPlan:
    """The run's length from ``epochs`` / ``steps`` and where ``state`` left off."""
    B = n if opts.batch_size is None else min(int(opts.batch_size), n)
    per_epoch = math.ceil(n / B)
    skip = state.batch_in_epoch if state.batch_in_epoch < per_epoch else 0
    if opts.steps is not None:
        total_steps = opts.steps
        total_epochs = math.ceil((opts.steps + skip) / per_epoch)
    else:
        total_epochs = 100 if opts.epochs is None else opts.epochs
        total_steps = total_epochs * per_epoch - skip
    return RunPlan(n, B, per_epoch, total_epochs, total_steps, skip, state.step, state.epoch)


def epoch_order(n: int, B: int, shuffle: bool, seed: int, epoch: int) -> np.ndarray | None:
    """The sample order of one epoch, ``None`` for full-batch (order does not matter)."""
    if B >= n:
        return None
    if not shuffle:
        return np.arange(n)
    return np.random.default_rng([seed, epoch]).permutation(n)


def plan_chunk(
    run: RunPlan,
    at: Cursor,
    chunk: int,
    opts: FitOptions,
    lr: float,
    schedule: object,
    weights: np.ndarray | None,
) -> tuple[StepPlan, list[float], list[bool]]:
    """The next ``chunk`` epochs' steps: ``(StepPlan, sizes, ends_epoch)``.

    ``sizes[k]`` is step k's share of its epoch's loss (its batch size, or its
    total sample weight); ``ends_epoch[k]`` says whether step k ends an epoch.
    """
    sizes: list[float] = []
    ends_epoch: list[bool] = []
    batches: list[np.ndarray] = []  # stays empty for full batch: every step sees every row
    left = run.total_steps - at.done_steps
    if run.steps_per_epoch == 1:  # full batch: one step per epoch, no order to draw
        k = min(chunk, run.total_epochs - at.epoch, left)
        sizes, ends_epoch = [run.n] * k, [True] * k
    else:
        for e in range(at.epoch, min(at.epoch + chunk, run.total_epochs)):
            order = epoch_order(run.n, run.B, opts.shuffle, opts.seed, run.start_epoch + e)
            assert order is not None  # several steps an epoch: B < n, so there is an order
            first_batch = at.in_epoch if e == at.epoch else 0
            for j in range(first_batch, run.steps_per_epoch):
                if len(sizes) >= left:
                    break
                rows = order[j * run.B : (j + 1) * run.B]
                batches.append(rows)
                sizes.append(len(rows) if weights is None else float(weights[rows].sum()))
                ends_epoch.append(j == run.steps_per_epoch - 1)
    first = run.start_step + at.done_steps
    plan = StepPlan(
        batches or None,
        learning_rates(lr, schedule, first, len(sizes), run.start_step + run.total_steps),
        np.arange(first + 1, first + len(sizes) + 1),
    )
    return plan, sizes, ends_epoch
