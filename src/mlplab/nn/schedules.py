"""Learning-rate schedules: the learning rate of every step, computed up front.

A schedule maps the step index ``t = 0, 1, …`` to a multiplier of the base
learning rate. :func:`learning_rates` evaluates it for a whole run on the host
(float64 NumPy), so every backend uses exactly the same numbers, and a compiled
JAX loop simply scans over them.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol, TypeGuard

import numpy as np

from ..errors import ConfigError, check_number


class Schedule(Protocol):
    """A learning-rate schedule: the multiplier of the base rate at each step ``t``."""

    def factor(self, t: np.ndarray, total: int) -> np.ndarray: ...


@dataclass(frozen=True)
class Constant:
    """``lr_t = lr``."""

    def factor(self, t: np.ndarray, total: int) -> np.ndarray:
        return np.ones_like(t, dtype=np.float64)


@dataclass(frozen=True)
class Step:
    """``lr_t = lr · gamma^⌊t / step_size⌋``: multiply by ``gamma`` every ``step_size`` steps."""

    step_size: int = 1000
    gamma: float = 0.1

    def __post_init__(self) -> None:
        check_number("step_size", self.step_size, ge=1, integer=True)
        check_number("gamma", self.gamma, gt=0, le=1)

    def factor(self, t: np.ndarray, total: int) -> np.ndarray:
        return self.gamma ** np.floor(t / self.step_size)


@dataclass(frozen=True)
class Cosine:
    """``lr_t = lr · (m + (1 − m) · ½(1 + cos(π t / T)))``.

    T is the run's total number of steps, m is ``min_factor``.
    """

    min_factor: float = 0.0

    def __post_init__(self) -> None:
        check_number("min_factor", self.min_factor, ge=0, le=1)

    def factor(self, t: np.ndarray, total: int) -> np.ndarray:
        progress = np.minimum(t / max(total, 1), 1.0)
        return self.min_factor + (1 - self.min_factor) * 0.5 * (1 + np.cos(math.pi * progress))


@dataclass(frozen=True)
class Warmup:
    """Linear warm-up over ``warmup_steps`` from ``lr / warmup_steps`` to ``lr``, then ``after``."""

    warmup_steps: int = 100
    after: Schedule | str = Constant()

    def __post_init__(self) -> None:
        check_number("warmup_steps", self.warmup_steps, ge=1, integer=True)
        object.__setattr__(self, "after", get_schedule(self.after))  # a name or a schedule

    def factor(self, t: np.ndarray, total: int) -> np.ndarray:
        ramp = np.minimum((t + 1) / self.warmup_steps, 1.0)
        rest = get_schedule(self.after).factor(
            np.maximum(t - self.warmup_steps, 0), total - self.warmup_steps
        )
        return np.where(t < self.warmup_steps, ramp, rest)


SCHEDULES: dict[str, Callable[..., Schedule]] = {
    "constant": Constant,
    "step": Step,
    "cosine": Cosine,
    "warmup": Warmup,
}


def _is_schedule(spec: object) -> TypeGuard[Schedule]:
    return hasattr(spec, "factor")


def get_schedule(spec: object = None, **settings: Any) -> Schedule:
    """A schedule from its name (``constant``, ``step``, ``cosine``, ``warmup``) or itself."""
    if spec is None:
        return Constant()
    if not isinstance(spec, str):
        if not _is_schedule(spec):
            raise ConfigError(f"`schedule` must be a name or a schedule object; got {spec!r}.")
        return spec
    if spec not in SCHEDULES:
        known = ", ".join(SCHEDULES)
        raise ConfigError(f"unknown schedule {spec!r}; known schedules: {known}.")
    try:
        return SCHEDULES[spec](**settings)
    except TypeError as err:
        raise ConfigError(f"bad settings for schedule {spec!r}: {err}.") from None


def learning_rates(lr: float, schedule: object, start: int, n_steps: int, total: int) -> np.ndarray:
    """`(n_steps,)` float64: the learning rate of steps ``start … start + n_steps − 1``."""
    t = np.arange(start, start + n_steps, dtype=np.float64)
    return lr * np.asarray(get_schedule(schedule).factor(t, total), dtype=np.float64)
