"""The training configuration: one frozen dataclass, validated on construction.

``mlplab train``'s flags map one-to-one onto :class:`TrainConfig`'s fields
(``--batch-size`` -> ``batch_size``); the config is saved in the model file and
in checkpoints (``to_dict``) and read back (``from_dict``, which rejects keys it
does not know, so a typo never passes silently).

Examples:
    >>> cfg = TrainConfig(data="xor", hidden=(8,), lr=0.1, epochs=500)
    >>> TrainConfig.from_dict(cfg.to_dict()) == cfg
    True
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, fields
from typing import TYPE_CHECKING, Any

from .backend.arrays import BACKENDS, DTYPES
from .errors import ConfigError, check_choice, check_number
from .nn.activations import ACTIVATIONS
from .nn.losses import LOSSES
from .nn.mlp import check_hidden
from .nn.optim import OPTIMIZERS
from .nn.schedules import SCHEDULES

if TYPE_CHECKING:
    from .train.options import FitOptions

ACTIVATION_NAMES = tuple(ACTIVATIONS)
LOSS_NAMES = tuple(LOSSES)
OPTIMIZER_NAMES = tuple(OPTIMIZERS)
SCHEDULE_NAMES = tuple(SCHEDULES)
BACKEND_NAMES = BACKENDS
DTYPE_NAMES = DTYPES
TASK_NAMES = ("classification", "binary", "multiclass", "regression")
IMPUTE_NAMES = ("mean",)


@dataclass(frozen=True)
class TrainConfig:
    """Everything that defines one training run of ``mlplab train``.

    Data:
        data: a built-in data set name (``xor``, ``moons``, ``digits``, …) or a CSV path.
        target: the CSV's target column (required for a CSV, unused for built-ins).
        task: ``"classification"`` (or ``"binary"`` / ``"multiclass"``) or ``"regression"``;
            ``None`` infers it from the target.
        one_hot: one-hot encode text (categorical) feature columns instead of rejecting them.
        delimiter: the CSV's field separator; ``None`` detects ``,`` ``;`` or tab.
        drop_missing: drop CSV rows with missing / NaN / inf values.
        impute: fill missing feature values with the column ``"mean"`` instead.
        features: the CSV's feature columns (``None``: every column but the target).
        drop: CSV columns to leave out (an ``id``, free text, a leak of the target).
        n_samples, noise: size and noise of a generated data set (moons, circles, …).
        test_split: fraction held out as a test set, stratified for classification and
            seeded. ``None`` (the default): 20 % when the data has at least
            :data:`AUTO_TEST_MIN_ROWS` rows, none for smaller sets; a data set with its
            own test set (MNIST-1D) uses that. ``0``: no test set (train metrics only).

    Model and training (see :func:`mlplab.fit`):
        hidden: hidden layer widths, e.g. ``(64, 64)``; ``()`` for a linear model.
        activation: σ of the hidden layers.
        loss: ``None`` picks it from the task (bce, softmax_cross_entropy or mse).
        optimizer, lr (``None``: 0.1 for SGD, 1e-3 for Adam), momentum (SGD),
        schedule, epochs, batch_size (``None``: full batch), l2.
        validation_split, early_stopping, patience: validation and early stopping.
        seed: seeds the weights, the splits and the minibatch order.
        backend, dtype: where and in which precision to train.
    """

    data: str = "xor"
    target: str | None = None
    task: str | None = None
    one_hot: bool = False
    delimiter: str | None = None
    drop_missing: bool = False
    impute: str | None = None
    features: tuple[str, ...] | None = None
    drop: tuple[str, ...] = ()
    n_samples: int | None = None
    noise: float | None = None
    test_split: float | None = None
    hidden: tuple[int, ...] = (64, 64)
    activation: str = "tanh"
    loss: str | None = None
    optimizer: str = "adam"
    lr: float | None = None
    momentum: float = 0.0
    schedule: str = "constant"
    epochs: int = 100
    batch_size: int | None = 32
    l2: float = 0.0
    validation_split: float = 0.0
    early_stopping: bool = False
    patience: int = 10
    seed: int = 0
    backend: str = "numpy"
    dtype: str = "float32"

    def __post_init__(self) -> None:
        object.__setattr__(self, "hidden", tuple(check_hidden(self.hidden)))
        for name in ("features", "drop"):
            names = getattr(self, name)
            if names is None:
                continue
            if isinstance(names, str) or not all(isinstance(c, str) and c for c in names):
                raise ConfigError(f"`{name}` must be a list of column names; got {names!r}.")
            object.__setattr__(self, name, tuple(names))
        if not isinstance(self.data, str) or not self.data:
            raise ConfigError(
                f"`data` must be a data set name or a CSV path; got {self.data!r}. "
                "Run `mlplab train --help` for the built-in names."
            )
        check_choice("activation", self.activation, ACTIVATION_NAMES)
        if self.loss is not None:
            check_choice("loss", self.loss, LOSS_NAMES)
        check_choice("optimizer", self.optimizer, OPTIMIZER_NAMES)
        check_choice("schedule", self.schedule, SCHEDULE_NAMES)
        check_choice("backend", self.backend, BACKEND_NAMES)
        check_choice("dtype", self.dtype, DTYPE_NAMES)
        if self.task is not None:
            check_choice("task", self.task, TASK_NAMES)
        if self.impute is not None:
            check_choice("impute", self.impute, IMPUTE_NAMES)
        if self.impute is not None and self.drop_missing:
            raise ConfigError("give `drop_missing` or `impute`, not both.")
        if self.lr is not None:
            check_number("lr", self.lr, gt=0, hint="Pass a positive learning rate such as 0.01.")
        check_number("momentum", self.momentum, ge=0, lt=1)
        check_number("epochs", self.epochs, ge=1, integer=True)
        if self.batch_size is not None:
            check_number("batch_size", self.batch_size, ge=1, integer=True)
        check_number("l2", self.l2, ge=0)
        check_number("validation_split", self.validation_split, ge=0, lt=1)
        if self.test_split is not None:
            check_number("test_split", self.test_split, ge=0, lt=1)
        if self.validation_split + (self.test_split or 0.0) >= 1:
            raise ConfigError(
                f"`validation_split` + `test_split` must be < 1; got {self.validation_split} + "
                f"{self.test_split}. Leave some data for training."
            )
        check_number("patience", self.patience, ge=1, integer=True)
        check_number("seed", self.seed, ge=0, le=2**32 - 1, integer=True)
        if self.n_samples is not None:
            check_number("n_samples", self.n_samples, ge=1, integer=True)
        if self.noise is not None:
            check_number("noise", self.noise, ge=0)
        if self.early_stopping and self.validation_split == 0:
            raise ConfigError(
                "`early_stopping` needs validation data: give `validation_split` > 0, e.g. 0.2."
            )
        if self.momentum and self.optimizer != "sgd":
            raise ConfigError(
                f"`momentum` applies to optimizer='sgd'; got optimizer={self.optimizer!r}."
            )

    def fit_options(
        self, *, loss: str | None = None, epochs: int | None = None, verbose: int = 1
    ) -> FitOptions:
        """The :class:`~mlplab.train.FitOptions` of this run (the one mapping onto ``fit``).

        ``loss`` overrides the config's (the pipeline picks it from the task);
        ``epochs`` overrides it too (a resumed run trains the epochs still to go).
        Validation is given to ``fit`` as data (the pipeline splits it, together
        with the test split), so ``validation_split`` is not passed on.
        """
        from .nn.optim import get_optimizer
        from .train import FitOptions

        momentum = {"momentum": self.momentum} if self.optimizer == "sgd" else {}
        return FitOptions(
            loss=loss if loss is not None else self.loss,
            optimizer=get_optimizer(self.optimizer, **momentum),
            lr=self.lr,
            schedule=self.schedule,
            epochs=self.epochs if epochs is None else epochs,
            batch_size=self.batch_size,
            seed=self.seed,
            early_stopping=self.early_stopping,
            patience=self.patience,
            l2=self.l2,
            verbose=verbose,
        )

    def to_dict(self) -> dict[str, Any]:
        """The config as a JSON-able dict (``hidden`` as a list)."""
        out = dataclasses.asdict(self)
        out["hidden"] = list(self.hidden)
        out["drop"] = list(self.drop)
        out["features"] = None if self.features is None else list(self.features)
        return out

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> TrainConfig:
        """A config from :meth:`to_dict`'s output; unknown keys are an error."""
        if not isinstance(values, dict):
            raise ConfigError(f"a training config must be a dict; got {type(values).__name__}.")
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise ConfigError(
                f"unknown training config keys: {', '.join(unknown)}. "
                f"Known keys: {', '.join(sorted(known))}."
            )
        return cls(**values)

    def replace(self, **changes: Any) -> TrainConfig:
        """A copy with some fields changed (validated again)."""
        return self.from_dict({**self.to_dict(), **changes})


#: The test split held out when ``test_split`` is left at ``None`` …
AUTO_TEST_SPLIT = 0.2
#: … from data sets of at least this many rows (a 4-row XOR keeps all its rows).
AUTO_TEST_MIN_ROWS = 50

__all__ = ["AUTO_TEST_MIN_ROWS", "AUTO_TEST_SPLIT", "TrainConfig"]
