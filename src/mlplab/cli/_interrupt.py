"""Ctrl-C and SIGTERM during ``mlplab train``: stop cleanly, and never lose a finished run.

While training, the first SIGINT (Ctrl-C) or SIGTERM (what schedulers send)
asks ``fit`` to stop after the current step; the command then saves a
checkpoint. Once training has finished, the first signal only says that the
results are being saved: the model, metrics and figures are written in full
before the command exits. In both phases a second signal aborts at once (every
file is written atomically, so an abort leaves the old file or the new one).
"""

from __future__ import annotations

import signal
import sys
import threading
from collections.abc import Callable
from types import FrameType
from typing import Any, Literal

_NAMES: dict[int, str] = {signal.SIGINT: "Ctrl-C", signal.SIGTERM: "SIGTERM"}
#: What ``signal.signal`` takes and returns: a function, SIG_DFL / SIG_IGN, or None.
_Handler = Callable[[int, FrameType | None], Any] | int | None


class StopSignals:
    """``with StopSignals("step") as stop:`` ``fit(..., should_stop=stop.requested)``."""

    def __init__(self, unit: str = "step") -> None:
        self.unit = unit
        self.count = 0
        self.signum: int | None = None
        self.saving = False
        self._old: dict[int, _Handler] = {}

    def __enter__(self) -> StopSignals:
        if threading.current_thread() is threading.main_thread():
            for signum in _NAMES:
                self._old[signum] = signal.signal(signum, self._handle)
        return self

    def __exit__(self, *exc: object) -> Literal[False]:
        for signum, old in self._old.items():
            signal.signal(signum, old)
        return False

    def requested(self) -> bool:
        """Whether a signal asked training to stop (``fit``'s ``should_stop``)."""
        return self.count > 0 and not self.saving

    def start_saving(self) -> None:
        """Training is over: from now on a first signal lets the saving finish."""
        self.saving = True

    @property
    def exit_status(self) -> int:
        """128 + the signal's number: 130 for Ctrl-C, 143 for SIGTERM."""
        return 128 + int(self.signum or signal.SIGINT)

    @property
    def name(self) -> str:
        return "a signal" if self.signum is None else _NAMES.get(self.signum, "a signal")

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        self.count += 1
        if self.count > 1:  # a second signal aborts at once
            raise KeyboardInterrupt
        self.signum = signum
        if self.saving:
            text = (
                f"{self.name}: training has finished; saving the results first "
                "(press Ctrl-C again to abort the save)"
            )
        else:
            text = (
                f"{self.name}: stopping after the current {self.unit} and saving a checkpoint "
                "(press Ctrl-C again to abort)"
            )
        print(f"\nmlplab: {text}", file=sys.stderr, flush=True)
