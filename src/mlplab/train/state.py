"""Where a run stands (:class:`TrainState`, to resume it), what it recorded (:class:`History`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..nn.optim import OptState


@dataclass
class TrainState:
    """Where a run stands: optimizer state, steps and epochs done (to continue a run)."""

    opt_state: OptState
    step: int = 0  # optimizer steps done in all
    epoch: int = 0  # epochs completed
    batch_in_epoch: int = 0  # batches of the next epoch already done (after an interrupt)
    # that partly done epoch's Σ (batch loss × batch size or weight) and Σ sizes, so the
    # epoch's train loss, reported when it ends, covers all of its batches
    epoch_loss_sum: float = 0.0
    epoch_loss_weight: float = 0.0


@dataclass
class History:
    """Per-epoch record of a :func:`~mlplab.train.fit` run."""

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

    def stopped_early_line(self) -> str | None:
        """``"stopped early at epoch 16; restored the weights of epoch 6 (best val_loss
        0.1245)"``, or ``None`` when early stopping did not end the run."""
        return stopped_early_line(self.as_dict())

    @property
    def history(self) -> dict[str, list[float]]:
        """Keras' ``History.history``: ``{"loss", "val_loss", "accuracy", "val_accuracy"}``.

        Per-epoch lists under Keras' names (``r2``/``val_r2`` for regression);
        keys whose lists are empty (no validation data, no train metrics) are left out.
        """
        keys = {
            "loss": self.train_loss,
            self.metric: self.train_metric,
            "val_loss": self.val_loss,
            f"val_{self.metric}": self.val_metric,
        }
        return {k: list(v) for k, v in keys.items() if v}

    def as_dict(self) -> dict[str, Any]:
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


def stopped_early_line(history: dict[str, Any]) -> str | None:
    """The early-stopping line of a :meth:`History.as_dict` (also a merged, resumed one)."""
    if not history.get("stopped_early"):
        return None
    best, epochs = history.get("best_epoch"), history.get("epoch") or []
    line = f"stopped early at epoch {epochs[-1] if epochs else '?'}"
    if best is not None:
        line += f"; restored the weights of epoch {best}"
        val = history.get("val_loss") or []
        if best in epochs and len(val) == len(epochs):
            line += f" (best val_loss {val[epochs.index(best)]:.4f})"
    return line


__all__ = ["History", "TrainState"]
