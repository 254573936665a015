"""The data of one run, checked and on the model's backend: training rows, weights, validation."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from ..backend.arrays import to_index, to_numpy
from ..errors import ConfigError, DataError

if TYPE_CHECKING:
    from ..backend.arrays import Backend
    from ..nn.losses import Loss
    from ..nn.mlp import MLP, Array
    from .options import FitOptions


@dataclass
class RunData:
    """Training inputs ``X`` `(n, d_in)`, targets ``Y`` `(n, d_out)`, weights ``SW`` `(n,)` or
    None, and validation ``Xv``, ``Yv`` (or None), all on the model's backend."""

    X: Array
    Y: Array
    SW: Array | None
    Xv: Array | None
    Yv: Array | None

    @property
    def n(self) -> int:
        return int(self.X.shape[0])

    @property
    def weights_np(self) -> np.ndarray | None:
        """The sample weights as a float64 NumPy array (None without weights)."""
        return None if self.SW is None else to_numpy(self.SW).astype(np.float64)


def prepare_data(
    model: MLP,
    loss_fn: Loss,
    X: Array,
    y: Array,
    sample_weight: Array | None,
    validation_data: Sequence[Array] | None,
    opts: FitOptions,
) -> RunData:
    """Check ``X``, ``y``, the weights and the validation data; split off validation if asked."""
    backend = model.backend
    Xb = model.check_input(X)
    Yb = loss_fn.prepare_targets(y, model.n_outputs, backend)
    n = Xb.shape[0]
    if Yb.shape[0] != n:
        raise DataError(f"X has {n} rows but y has {Yb.shape[0]}; they must be equal.")
    check_finite(Xb, "X")
    SW = None if sample_weight is None else backend.asarray(_check_weights(sample_weight, n))
    data = RunData(Xb, Yb, SW, None, None)
    if validation_data is not None:
        data.Xv, data.Yv = _validation_pair(model, loss_fn, validation_data)
    elif opts.validation_split:
        _split_off_validation(data, opts.validation_split, opts.seed, backend)
    if opts.early_stopping and data.Xv is None:
        raise ConfigError(
            "`early_stopping=True` needs validation data: pass validation_split > 0 "
            "or validation_data=(X_val, y_val)."
        )
    return data


def _check_weights(sample_weight: Array, n: int) -> np.ndarray:
    sw = to_numpy(sample_weight).astype(np.float64).ravel()
    if sw.shape[0] != n or np.any(sw < 0) or not np.all(np.isfinite(sw)) or sw.sum() <= 0:
        raise DataError(
            f"`sample_weight` must hold {n} finite, non-negative weights with a positive sum."
        )
    return sw


def _validation_pair(
    model: MLP, loss_fn: Loss, validation_data: Sequence[Array]
) -> tuple[Array, Array]:
    if not isinstance(validation_data, list | tuple) or len(validation_data) != 2:
        raise ConfigError("`validation_data` must be a pair (X_val, y_val).")
    Xv = model.check_input(validation_data[0])
    check_finite(Xv, "validation X")
    Yv = loss_fn.prepare_targets(validation_data[1], model.n_outputs, model.backend)
    if Xv.shape[0] != Yv.shape[0]:
        raise DataError(
            f"validation X has {Xv.shape[0]} rows but y has {Yv.shape[0]}; they must be equal."
        )
    return Xv, Yv


def _split_off_validation(data: RunData, fraction: float, seed: int, backend: Backend) -> None:
    """Move a seeded ``fraction`` of the rows from training to validation."""
    n = data.n
    n_val = int(round(n * fraction))
    if n_val < 1 or n - n_val < 1:
        raise ConfigError(
            f"`validation_split`={fraction} leaves {n_val} validation and "
            f"{n - n_val} training samples out of {n}; both must be >= 1."
        )
    perm = to_index(backend, np.random.default_rng([seed, 2**31 - 1]).permutation(n))
    val_idx, train_idx = perm[:n_val], perm[n_val:]
    data.Xv, data.Yv = data.X[val_idx], data.Y[val_idx]
    data.X, data.Y = data.X[train_idx], data.Y[train_idx]
    data.SW = None if data.SW is None else data.SW[train_idx]


def check_finite(X: Array, name: str) -> None:
    arr = to_numpy(X)
    # min and max are NaN or ±inf when any entry is: two passes and no copy (np.isfinite
    # of the whole array held a boolean array of its size, 12 MiB more peak memory on the
    # 16384 x 784 benchmark); the row-by-row check only runs to name the bad rows
    if arr.size == 0 or (np.isfinite(arr.min()) and np.isfinite(arr.max())):
        return
    if not np.all(np.isfinite(arr)):
        rows = np.flatnonzero(~np.all(np.isfinite(arr), axis=1))[:5].tolist()
        raise DataError(
            f"{name} contains NaN or infinite values (rows {rows}); remove or fill them first."
        )
