"""mlplab's exceptions and the checks that raise them.

Every user error is an :class:`MLPLabError` with one message style: what was
wrong, the value that was given, and what to do, e.g.
"`lr` must be > 0; got -1. Pass a positive learning rate such as lr=0.01."
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from numbers import Integral, Real
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .train.state import History


class MLPLabError(Exception):
    """Base class of every error mlplab raises on purpose."""


class ConfigError(MLPLabError, ValueError):
    """A hyperparameter or argument is out of range or of the wrong kind."""


class DataError(MLPLabError, ValueError):
    """Input data has the wrong shape, dtype, labels or values."""


class ModelFileError(MLPLabError, ValueError):
    """A model or checkpoint file is missing, foreign, truncated or corrupted."""


class MLPLabWarning(UserWarning):
    """Something mlplab did on the user's behalf that they should know of (the CLI prints
    it as one line ``mlplab: warning: …``): an identifier-like feature column, categories
    unseen at training time encoded as all zeros, a pandas index column skipped."""


class TrainingDiverged(MLPLabError, FloatingPointError):
    """The training loss became NaN or infinite; the model keeps its last good weights."""

    # set by `fit` (train/guard.py) before it raises: why (a loss that grew past the
    # divergence limit; None for NaN / inf) and the run's history up to the last good epoch
    reason: str | None
    history: History

    def __init__(self, message: str, *, step: int, last_finite_loss: float | None):
        super().__init__(message)
        self.step = step
        self.last_finite_loss = last_finite_loss


def _fmt(value: object) -> str:
    return repr(value) if isinstance(value, str) else str(value)


def check_number(
    name: str,
    value: Any,
    *,
    gt: float | None = None,
    ge: float | None = None,
    lt: float | None = None,
    le: float | None = None,
    integer: bool = False,
    hint: str = "",
) -> None:
    """Raise :class:`ConfigError` unless ``value`` is a finite number in range.

    The message names the parameter, the bound, the value and (with ``hint``)
    what to do: "`batch_size` must be >= 1; got 0."
    """
    kind = "an integer" if integer else "a number"
    is_num = isinstance(value, Integral if integer else Real) and not isinstance(value, bool)
    if not is_num or not math.isfinite(value):
        raise ConfigError(f"`{name}` must be {kind}; got {_fmt(value)}.{_sp(hint)}")
    checks: tuple[tuple[str, float | None, Callable[[Any, float], bool]], ...] = (
        (">", gt, lambda v, b: v > b),
        (">=", ge, lambda v, b: v >= b),
        ("<", lt, lambda v, b: v < b),
        ("<=", le, lambda v, b: v <= b),
    )
    for op, bound, ok in checks:
        if bound is not None and not ok(value, bound):
            raise ConfigError(f"`{name}` must be {op} {bound}; got {_fmt(value)}.{_sp(hint)}")


def check_choice(name: str, value: object, choices: Iterable[object]) -> None:
    """Raise :class:`ConfigError` unless ``value`` is one of ``choices``, listing them."""
    choices = list(choices)
    if value not in choices:
        known = ", ".join(repr(c) for c in choices)
        raise ConfigError(
            f"`{name}` must be one of {known}; got {_fmt(value)}.{_near(value, choices)}"
        )


def _near(value: object, choices: list[object]) -> str:
    """`` Did you mean 'relu'?`` for a mistyped name, else ``""``."""
    import difflib

    names = [c for c in choices if isinstance(c, str)]
    if not isinstance(value, str) or not names:
        return ""
    close = difflib.get_close_matches(value.lower(), names, n=1, cutoff=0.6)
    return f" Did you mean {close[0]!r}?" if close else ""


def _sp(hint: str) -> str:
    return f" {hint}" if hint else ""
