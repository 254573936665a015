"""The settings of one training run: :class:`FitOptions`, frozen and checked when built.

:func:`~mlplab.train.fit` takes them as keywords; ``mlplab train`` (through
:class:`~mlplab.config.TrainConfig`) and the scikit-learn estimators build one
with :meth:`FitOptions.from_config` / their own parameters, so every way in
checks and defaults the same settings in one place.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, fields, replace
from typing import Any

from ..errors import ConfigError, check_number

#: The learning rate used when none is given, by optimizer name.
DEFAULT_LR = {"sgd": 0.1, "adam": 1e-3, "adamw": 1e-3}


@dataclass(frozen=True)
class FitOptions:
    """How to train. Each field is also a keyword of :func:`~mlplab.train.fit`.

    Attributes:
        loss: ``"mse"``, ``"bce"``, ``"softmax_cross_entropy"`` or a loss object;
            ``None`` picks it from ``y`` (integer labels: ``bce`` with one output,
            softmax cross-entropy with several; real targets: ``mse``).
        optimizer: ``"sgd"``, ``"adam"``, ``"adamw"`` or an optimizer object.
        lr: base learning rate; ``None``: 0.1 for SGD, 1e-3 for Adam/AdamW.
        schedule: ``"constant"``, ``"step"``, ``"cosine"``, ``"warmup"`` or a schedule object.
        epochs / steps: how long to train (default 100 epochs); ``steps`` counts
            optimizer steps and ends mid-epoch if needed.
        batch_size: minibatch size; ``None`` is full-batch gradient descent.
        shuffle: reshuffle every epoch (seeded by ``seed`` and the epoch number).
        seed: seeds the minibatch order and the validation split.
        validation_split: fraction of the data held out (seeded) for validation.
        early_stopping: stop when the validation loss has not improved by
            ``min_delta`` for ``patience`` epochs, and restore the best weights.
        l2: L2 penalty ``(l2 / 2) Σ ‖W‖²`` (weights, not biases).
        callbacks: functions ``cb(epoch, logs, model)`` or Keras-style objects with
            ``on_epoch_end(epoch, logs)`` (``logs`` under Keras' names ``loss``,
            ``accuracy``, ``val_loss``…; their ``model`` attribute is set to the model
            being trained) called after each epoch (numbered from 1); one returning
            ``True`` stops training.
        train_metrics: also compute accuracy / R² on the training set each epoch.
        verbose: 0 silent; 1 a progress bar on a terminal; 2 one line per epoch.
    """

    loss: object = None
    optimizer: object = "adam"
    lr: float | None = None
    schedule: object = None
    epochs: int | None = None
    steps: int | None = None
    batch_size: int | None = None
    shuffle: bool = True
    seed: int = 0
    validation_split: float = 0.0
    early_stopping: bool = False
    patience: int = 10
    min_delta: float = 0.0
    l2: float = 0.0
    callbacks: Sequence[Callable[..., Any]] = ()
    train_metrics: bool = False
    verbose: int = 1

    def __post_init__(self) -> None:
        if self.lr is not None:
            check_number("lr", self.lr, gt=0, hint="Pass a positive learning rate such as lr=0.01.")
        if self.epochs is not None and self.steps is not None:
            raise ConfigError("give `epochs` or `steps`, not both.")
        if self.epochs is not None:
            check_number("epochs", self.epochs, ge=1, integer=True)
        if self.steps is not None:
            check_number("steps", self.steps, ge=1, integer=True)
        if self.batch_size is not None:
            check_number("batch_size", self.batch_size, ge=1, integer=True)
        check_number("validation_split", self.validation_split, ge=0, lt=1)
        check_number("patience", self.patience, ge=1, integer=True)
        check_number("min_delta", self.min_delta, ge=0)
        check_number("l2", self.l2, ge=0)
        check_number("seed", self.seed, ge=0, integer=True)
        verbose = int(self.verbose) if isinstance(self.verbose, bool) else self.verbose
        check_number("verbose", verbose, ge=0, integer=True)
        object.__setattr__(self, "verbose", verbose)
        callbacks = tuple(_as_function(cb) for cb in self.callbacks or ())
        object.__setattr__(self, "callbacks", callbacks)

    def lr_for(self, optimizer: object) -> float:
        """The learning rate: the one given, else the optimizer's default."""
        if self.lr is not None:
            return self.lr
        return DEFAULT_LR.get(getattr(optimizer, "name", ""), 1e-3)

    def quiet_unless(self, lead: bool) -> FitOptions:
        """These options, silenced (``verbose=0``) on a rank that is not the lead one."""
        return self if lead else replace(self, verbose=0)

    @classmethod
    def names(cls) -> tuple[str, ...]:
        """The field names (the keywords :func:`~mlplab.train.fit` accepts for them)."""
        return tuple(f.name for f in fields(cls))


__all__ = ["DEFAULT_LR", "FitOptions"]


def _keras_logs(logs: dict[str, Any]) -> dict[str, Any]:
    """mlplab's epoch logs under Keras' names: ``loss``, ``accuracy``, ``val_loss``, …"""
    return {k.removeprefix("train_"): v for k, v in logs.items() if k != "epoch"}


def _as_function(cb: object) -> Callable[..., Any]:
    """A callback as a function ``cb(epoch, logs, model)``: a Keras-style object's
    ``on_epoch_end(epoch, logs)`` is wrapped (with ``cb.model`` set first)."""
    hook = getattr(cb, "on_epoch_end", None)
    if callable(hook):

        def call(epoch: int, logs: dict[str, Any], model: object) -> Any:
            try:
                setattr(cb, "model", model)  # noqa: B010 (any callback object)
            except AttributeError:  # a read-only attribute: the callback keeps its own
                pass
            return hook(epoch, _keras_logs(logs))

        return call
    if callable(cb):
        return cb
    raise ConfigError(
        f"`callbacks` must be functions cb(epoch, logs, model) or objects with "
        f"on_epoch_end(epoch, logs); got {type(cb).__name__}."
    )
