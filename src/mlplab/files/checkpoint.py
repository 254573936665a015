"""Checkpoints: a model file plus the optimizer state, the run's progress and its config.

Same safetensors + JSON layout as a model file (:mod:`mlplab.files.model`, the
format described in ``docs/model-format.md``), with the optimizer state as
tensors ``opt.{name}.{i}.b`` / ``opt.{name}.{i}.W`` and every
:class:`~mlplab.train.state.TrainState` field in the header. Rebuilt bitwise by
:func:`load_checkpoint`; validated like a model file.
"""

from __future__ import annotations

import dataclasses
import math
import os
from typing import Any

from ..backend.arrays import to_numpy
from ..errors import ConfigError, ModelFileError
from ..nn.mlp import MLP, Array
from ..train.state import TrainState
from .atomic import atomic_write_bytes
from .model import (
    CHECKPOINT_FORMAT,
    OPT_NAME,
    architecture,
    check_json_dict,
    contiguous,
    is_int,
    layer_params,
    layer_tensors,
    model_from_tensors,
    read_file,
    serialize,
)


def save_checkpoint(
    path: str | os.PathLike[str],
    model: MLP,
    state: TrainState,
    *,
    config: dict[str, Any],
    extra: dict[str, Any] | None = None,
) -> None:
    """Save a training checkpoint: weights, optimizer state, progress and config.

    Args:
        path: the file to write.
        model: the model being trained.
        state: its :class:`~mlplab.train.state.TrainState` (``history.state``). The
            optimizer state must be a dict ``name -> [(b, W)]`` shaped like the
            parameters (SGD with momentum, Adam, AdamW) or an empty dict (SGD);
            every other field (``step``, ``epoch``, …) must be JSON-able.
        config: the training configuration (JSON-able dict).
        extra: anything else to keep (JSON-able dict), e.g. preprocessing.

    Rebuilt exactly (bitwise, in the model's dtype) by :func:`load_checkpoint`.
    """
    if not isinstance(state, TrainState):
        raise ConfigError(f"`state` must be a TrainState; got {type(state).__name__}.")
    header = architecture(model, CHECKPOINT_FORMAT)
    tensors = layer_tensors(model)
    opt_state = state.opt_state
    if not isinstance(opt_state, dict):
        raise ConfigError(
            "checkpoints hold optimizer states that are dicts of [(b, W)] lists; "
            f"got {type(opt_state).__name__}."
        )
    for name, layers in opt_state.items():
        if not isinstance(name, str) or not OPT_NAME.match(name):
            raise ConfigError(
                f"optimizer state name {name!r} must be an identifier (letters, digits, _)."
            )
        if not isinstance(layers, list | tuple) or len(layers) != model.depth:
            raise ConfigError(
                f"optimizer state {name!r} must list one (b, W) pair per layer "
                f"({model.depth}); got {type(layers).__name__}."
            )
        for i, pair in enumerate(layers):
            b, W = (to_numpy(a) for a in pair)
            if (b.shape, W.shape) != model.shapes[i]:
                raise ConfigError(
                    f"optimizer state {name!r} layer {i} has shapes {b.shape}, {W.shape}; "
                    f"expected the parameter shapes {model.shapes[i]}."
                )
            tensors[f"opt.{name}.{i}.b"] = contiguous(b, model.backend.dtype, f"opt.{name}.{i}.b")
            tensors[f"opt.{name}.{i}.W"] = contiguous(W, model.backend.dtype, f"opt.{name}.{i}.W")
    fields = {f.name: getattr(state, f.name) for f in dataclasses.fields(state)}
    fields.pop("opt_state")
    header["optimizer_state"] = list(opt_state)
    header["train_state"] = check_json_dict("state", fields)
    header["config"] = check_json_dict("config", config)
    header["extra"] = check_json_dict("extra", extra)
    atomic_write_bytes(path, serialize(tensors, header))


def load_checkpoint(
    path: str | os.PathLike[str],
    *,
    backend: str = "numpy",
    dtype: str | None = None,
    device: Any = None,
) -> tuple[MLP, TrainState, dict[str, Any], dict[str, Any]]:
    """Load a checkpoint saved by :func:`save_checkpoint`.

    Returns:
        ``(model, state, config, extra)``: the :class:`~mlplab.nn.mlp.MLP`, its
        :class:`~mlplab.train.state.TrainState` (optimizer state as backend arrays,
        exactly as saved), the training config and the ``extra`` dict.
        Pass ``state`` to :func:`~mlplab.train.fit` to continue the run.

    Raises:
        ModelFileError: as :func:`load_model`; also for a model file (which
            has no optimizer state).
    """
    name, meta, tensors = read_file(path, (CHECKPOINT_FORMAT,))
    params = layer_params(meta, tensors)
    model = model_from_tensors(name, params, meta, backend, dtype, device)
    opt_state = {
        opt: [
            (
                model.backend.asarray(tensors[f"opt.{opt}.{i}.b"]),
                model.backend.asarray(tensors[f"opt.{opt}.{i}.W"]),
            )
            for i in range(len(params))
        ]
        for opt in meta["optimizer_state"]
    }
    state = _train_state(name, opt_state, meta["train_state"])
    return model, state, meta["config"], meta["extra"]


def _train_state(
    name: str, opt_state: dict[str, list[tuple[Array, Array]]], fields: dict[str, Any]
) -> TrainState:
    values: dict[str, Any] = {"opt_state": opt_state}
    known = {f.name: f for f in dataclasses.fields(TrainState) if f.name != "opt_state"}
    unknown = sorted(set(fields) - set(known))
    if unknown:
        raise ModelFileError(
            f"{name}: the training state has fields {unknown} this mlplab does not know; "
            "the checkpoint was written by a newer mlplab. Upgrade mlplab to resume it."
        )
    for key, field in known.items():
        if key not in fields:
            if (
                field.default is dataclasses.MISSING
                and field.default_factory is dataclasses.MISSING
            ):
                raise ModelFileError(f"{name}: the training state lacks the field {key!r}.")
            continue
        value = fields[key]
        if isinstance(field.default, float):  # the partly done epoch's loss sums
            ok = isinstance(value, int | float) and not isinstance(value, bool)
            try:  # a 400-digit integer is valid JSON, and too large for a float
                ok = ok and math.isfinite(float(value))
            except OverflowError:
                ok = False
            if not ok or (key.endswith("weight") and value < 0):
                shown = repr(value) if len(repr(value)) <= 40 else repr(value)[:37] + "..."
                raise ModelFileError(
                    f"{name}: training state field {key!r} must be a finite number"
                    f"{' >= 0' if key.endswith('weight') else ''}; got {shown}."
                )
            value = float(value)
        elif isinstance(field.default, int) or field.type in ("int", int):
            if not is_int(value) or value < 0:
                raise ModelFileError(
                    f"{name}: training state field {key!r} must be an integer >= 0; got {value!r}."
                )
        values[key] = value
    return TrainState(**values)


__all__ = ["load_checkpoint", "save_checkpoint"]
