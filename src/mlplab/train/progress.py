"""Progress of a run: a rich bar on a terminal (verbose=1), a line per epoch (2), or nothing."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from rich.progress import Progress as Bar


class Progress:
    """Shows the per-epoch logs of a run as it goes."""

    def __init__(self, total: int, verbose: int) -> None:
        self.verbose = verbose
        self.bar: Bar | None = None
        if verbose == 1 and sys.stderr.isatty():
            from rich.console import Console
            from rich.progress import BarColumn, MofNCompleteColumn, TextColumn
            from rich.progress import Progress as Bar

            self.bar = Bar(
                TextColumn("epoch"),
                MofNCompleteColumn(),
                BarColumn(),
                TextColumn("{task.fields[info]}"),
                transient=False,
                console=Console(stderr=True),  # the terminal we checked, not a piped stdout
            )
            self.task = self.bar.add_task("train", total=total, info="")
            self.bar.start()

    def update(self, logs: dict[str, float]) -> None:
        info = "  ".join(f"{k} {v:.4g}" for k, v in logs.items() if k != "epoch")
        if self.bar is not None:
            self.bar.update(self.task, completed=logs["epoch"], info=info)
        elif self.verbose >= 2:
            print(f"epoch {logs['epoch']}: {info}", file=sys.stderr)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.stop()
