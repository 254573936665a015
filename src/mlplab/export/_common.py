"""What the three exports share: checks, the JSON header, reading it back."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np

from ..errors import ConfigError, DataError, ModelFileError
from ..files.model import FORMAT_VERSION  # exports carry mlplab's own header version
from ..nn.mlp import MLP

if TYPE_CHECKING:
    from .recipe import Recipe

TORCH_FORMAT = "mlplab-torch-sequential"
EQUINOX_FORMAT = "mlplab-equinox-mlp"
ONNX_FORMAT = "mlplab-onnx"
METADATA_KEY = "mlplab_architecture"


def check_model(model: object) -> MLP:
    """``model`` if it is an :class:`MLP` with finite weights, else a clear error."""
    if not isinstance(model, MLP):
        raise ConfigError(f"`model` must be an mlplab MLP; got {type(model).__name__}.")
    for i, (b, W) in enumerate(model.numpy_params()):
        if not (np.all(np.isfinite(W)) and np.all(np.isfinite(b))):
            raise DataError(f"cannot export: layer {i} holds NaN or infinite weights.")
    return model


def architecture(
    model: MLP, fmt: str, metadata: dict[str, Any] | None, recipe: Recipe | None = None
) -> dict[str, Any]:
    """mlplab's own architecture header, with the export's format name and metadata.

    With a :class:`~mlplab.export.recipe.Recipe` the header also holds its
    ``"preprocessing"`` (inputs, categories, label map), so a loader rebuilds
    the whole raw-rows → outputs pipeline.
    """
    from ..files.model import architecture, check_json_dict

    header = {**architecture(model, fmt), "extra": check_json_dict("metadata", metadata)}
    if recipe is not None:
        header["preprocessing"] = recipe.to_dict()
    return header


def read_header(
    path: str | os.PathLike[str], fmt: str, read: Callable[[str], Any]
) -> dict[str, Any]:
    """The export's JSON header, checked for its format and version."""
    name = os.fspath(path)
    if not os.path.isfile(name):
        raise ModelFileError(f"{name!r} does not exist or is not a file.")
    try:
        raw = read(name) or {}
        header = json.loads(raw[METADATA_KEY])
    except Exception:  # any parse failure of a foreign or damaged file
        raise ModelFileError(
            f"{name!r} is not a file written by mlplab's {fmt} export (no readable "
            f"{METADATA_KEY!r} header)."
        ) from None
    found = header.get("format") if isinstance(header, dict) else None
    if found != fmt:
        raise ModelFileError(f"{name!r} is not an {fmt} file (format {found!r}).")
    if header.get("format_version") != FORMAT_VERSION:
        raise ModelFileError(
            f"{name!r} has format version {header.get('format_version')!r}; this mlplab reads "
            f"version {FORMAT_VERSION}."
        )
    return dict(header)


def skeleton(header: dict[str, Any]) -> MLP:
    """A zero-weight MLP with the header's architecture (to be filled by loaded weights)."""
    try:
        sizes = [int(s) for s in header["sizes"]]
        params = [
            (np.zeros(o), np.zeros((o, i))) for i, o in zip(sizes[:-1], sizes[1:], strict=True)
        ]
        return MLP.from_params(params, header["activations"], dtype=header["dtype"])
    except (KeyError, TypeError, ValueError) as err:
        raise ModelFileError(f"the file's architecture header is invalid: {err}") from None


def header_recipe(header: dict[str, Any]) -> Recipe | None:
    """The header's :class:`Recipe`, or ``None`` for a network-only export."""
    from .recipe import Recipe

    spec = header.get("preprocessing")
    return None if spec is None else Recipe.from_dict(spec)
