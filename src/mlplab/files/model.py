"""Model files and checkpoints: safetensors + JSON metadata, written atomically.

A model file is a `.safetensors` file: an 8-byte little-endian header length
``n``, ``n`` bytes of JSON header, then the raw tensor bytes. It holds the
tensors ``layers.{i}.b`` `(d_out,)` and ``layers.{i}.W`` `(d_out, d_in)` and one
metadata entry ``"mlplab"``: a JSON document with the architecture
(``sizes``, ``activations``), the ``dtype`` and the caller's ``extra`` dict
(task, classes, preprocessing, training config, metrics). A checkpoint adds the
optimizer state (``opt.{name}.{i}.b`` / ``opt.{name}.{i}.W``), every
:class:`~mlplab.train.state.TrainState` field and the training config. The format is
described in ``docs/model-format.md``.

Loading never executes code: only the header JSON is parsed (with the
standard ``json`` module) and the tensor bytes are read by ``safetensors``;
there is no pickle and no ``eval``. Everything is validated against the schema
(format and version, shapes implied by the architecture, known activations,
finite numbers) and every failure is a :class:`~mlplab.errors.ModelFileError`
with a clear message.

Writes are atomic: the bytes go to a temporary file in the same folder, are
flushed and ``fsync``-ed, and the temporary file is renamed over the target
(``os.replace``), after which the folder itself is ``fsync``-ed. A crash or
``kill -9`` at any moment leaves either the old file or the new one.
"""

from __future__ import annotations

import json
import math
import os
import re
import stat
import struct
from pathlib import Path
from types import TracebackType
from typing import IO, Any, Literal, NoReturn, TypeGuard

import numpy as np

from ..backend.arrays import DTYPES
from ..errors import ConfigError, DataError, ModelFileError
from ..nn.activations import get_activation
from ..nn.mlp import MLP
from .atomic import as_path, atomic_write_bytes, os_reason

MODEL_FORMAT = "mlplab-model"
CHECKPOINT_FORMAT = "mlplab-checkpoint"
FORMAT_VERSION = 1
METADATA_KEY = "mlplab"
#: Largest safetensors header accepted (the ``safetensors`` library's own limit).
MAX_HEADER_BYTES = 100_000_000
_ST_DTYPES = {"float32": "F32", "float64": "F64"}
OPT_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")  # optimizer state names


# --- atomic writes -----------------------------------------------------------


# --- saving ------------------------------------------------------------------


def save_model(
    path: str | os.PathLike[str], model: MLP, *, metadata: dict[str, Any] | None = None
) -> None:
    """Save ``model`` to ``path`` as safetensors with JSON metadata, atomically.

    Args:
        path: the file to write, by convention ``*.safetensors``.
        model: the :class:`~mlplab.nn.mlp.MLP`; its weights are stored in its dtype.
        metadata: any JSON-able dict (str keys; finite numbers; NumPy scalars and
            arrays are converted to numbers and lists) stored under ``"extra"``
            and returned by :func:`load_model`: task, classes, preprocessing, …

    Raises:
        ConfigError: ``metadata`` is not a JSON-able dict.
        DataError: a weight is NaN or infinite.
        FileWriteError: the file cannot be written.
    """
    header = architecture(model, MODEL_FORMAT)
    header["extra"] = check_json_dict("metadata", metadata)
    atomic_write_bytes(path, serialize(layer_tensors(model), header))


def architecture(model: MLP, fmt: str) -> dict[str, Any]:
    from .._version import __version__

    if not isinstance(model, MLP):
        raise ConfigError(f"`model` must be an mlplab MLP; got {type(model).__name__}.")
    return {
        "format": fmt,
        "format_version": FORMAT_VERSION,
        "mlplab_version": __version__,
        "sizes": [int(s) for s in model.sizes],
        "activations": [a.spec() for a in model.activations],
        "dtype": model.backend.dtype,
    }


def layer_tensors(model: MLP) -> dict[str, np.ndarray]:
    tensors = {}
    for i, (b, W) in enumerate(model.numpy_params()):
        tensors[f"layers.{i}.b"] = contiguous(b, model.backend.dtype, f"layers.{i}.b")
        tensors[f"layers.{i}.W"] = contiguous(W, model.backend.dtype, f"layers.{i}.W")
    return tensors


def contiguous(arr: np.ndarray, dtype: str, name: str) -> np.ndarray:
    arr = np.ascontiguousarray(arr, dtype=dtype)
    if not np.all(np.isfinite(arr)):
        raise DataError(
            f"cannot save: tensor {name!r} holds NaN or infinite values; "
            "a model file stores finite numbers only."
        )
    return arr


def serialize(tensors: dict[str, np.ndarray], header: dict[str, Any]) -> bytes:
    from safetensors.numpy import save

    text = json.dumps(header, allow_nan=False, separators=(",", ":"))
    return save(tensors, metadata={METADATA_KEY: text})


def check_json_dict(name: str, value: object) -> dict[str, Any]:
    """``value`` as a plain JSON dict (NumPy numbers and arrays converted), or ConfigError."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise ConfigError(f"`{name}` must be a dict; got {type(value).__name__}.")

    def plain(x: object, where: str) -> Any:  # the JSON value of x
        if isinstance(x, np.ndarray | np.generic):
            x = x.tolist()
        if isinstance(x, dict):
            out: dict[str, Any] = {}
            for k, v in x.items():
                if not isinstance(k, str):
                    raise ConfigError(
                        f"`{name}` must have string keys to be saved as JSON; "
                        f"got key {k!r} at {where}."
                    )
                out[k] = plain(v, f"{where}[{k!r}]")
            return out
        if isinstance(x, list | tuple):
            return [plain(v, f"{where}[{i}]") for i, v in enumerate(x)]
        if isinstance(x, float) and not math.isfinite(x):
            raise ConfigError(
                f"`{name}` holds the non-finite number {x} at {where}; "
                "JSON metadata holds finite numbers only."
            )
        if x is None or isinstance(x, bool | int | float | str):
            return x
        raise ConfigError(
            f"`{name}` holds a {type(x).__name__} at {where}, which JSON cannot store; "
            "use str, int, float, bool, None, lists and dicts."
        )

    out: dict[str, Any] = plain(value, name)  # a dict, as `value` is
    return out


# --- loading -----------------------------------------------------------------


def load_model(
    path: str | os.PathLike[str],
    *,
    backend: str = "numpy",
    dtype: str | None = None,
    device: Any = None,
) -> tuple[MLP, dict[str, Any]]:
    """Load a model saved by :func:`save_model` (or the model of a checkpoint).

    Args:
        path: the `.safetensors` file.
        backend: ``"numpy"``, ``"torch"`` or ``"jax"``.
        dtype: ``"float32"`` / ``"float64"``; ``None`` keeps the file's dtype
            (then the weights are bit-for-bit those saved).
        device: framework device, as for :class:`~mlplab.nn.mlp.MLP`.

    Returns:
        ``(model, extra)``: the :class:`~mlplab.nn.mlp.MLP` and the ``metadata``
        dict given to :func:`save_model`.

    Raises:
        ModelFileError: missing, empty, truncated, corrupted, foreign or
            too-new file; the message says which.
    """
    name, meta, tensors = read_file(path, (MODEL_FORMAT, CHECKPOINT_FORMAT))
    params = layer_params(meta, tensors)
    model = model_from_tensors(name, params, meta, backend, dtype, device)
    return model, meta["extra"]


def model_from_tensors(
    name: str,
    params: list[tuple[np.ndarray, np.ndarray]],
    meta: dict[str, Any],
    backend: str,
    dtype: str | None,
    device: Any,
) -> MLP:
    activations = []
    for i, spec in enumerate(meta["activations"]):
        try:
            activations.append(get_activation(spec))
        except ConfigError as err:
            raise ModelFileError(f"{name}: layer {i} has a bad activation: {err}") from None
    return MLP.from_params(
        params, activations, backend=backend, dtype=dtype or meta["dtype"], device=device
    )


def load_metadata(
    path: str | os.PathLike[str], *, checkpoint: bool | None = None
) -> dict[str, Any]:
    """The validated mlplab header of a model file or checkpoint, without reading its tensors.

    Only the file's header is read (never more than its declared length, at most
    :data:`MAX_HEADER_BYTES`); it is validated as :func:`load_model` validates it,
    including the tensor entries and the file's size against them. Use it to
    look at a file (``meta["format"]``, ``meta["sizes"]``, ``meta["extra"]``)
    before deciding to load it.

    Args:
        checkpoint: ``True`` accepts checkpoints only, ``False`` model files only,
            ``None`` either.
    """
    formats = {
        None: (MODEL_FORMAT, CHECKPOINT_FORMAT),
        True: (CHECKPOINT_FORMAT,),
        False: (MODEL_FORMAT,),
    }[checkpoint]
    target = as_path(path, ModelFileError)
    name = repr(str(target))
    with _open(target, name) as (f, size):
        return _read_meta(f, size, name, formats)[1]


def read_file(
    path: str | os.PathLike[str], formats: tuple[str, ...]
) -> tuple[str, dict[str, Any], dict[str, np.ndarray]]:
    """Read and validate a file: ``(display name, metadata, tensors)``, or ModelFileError.

    The header, the metadata and the declared tensor sizes are checked against
    the file's size before a single tensor byte is read.
    """
    target = as_path(path, ModelFileError)
    name = repr(str(target))
    with _open(target, name) as (f, size):
        head, meta, expected = _read_meta(f, size, name, formats)
        _check_memory(size, name)
        try:
            data = head + f.read()
        except OSError as err:
            raise ModelFileError(f"cannot read model file {name}: {os_reason(err)}.") from None
    if len(data) != size:
        raise ModelFileError(f"{name} changed while it was being read; try again.")
    try:
        from safetensors.numpy import load

        tensors = {k: np.array(v) for k, v in load(data).items()}  # writable copies
    except Exception as err:  # SafetensorError and anything else the parser raises
        raise ModelFileError(
            f"{name} is corrupted: safetensors could not read it ({err})."
        ) from None
    for key, arr in tensors.items():
        if arr.dtype != np.dtype(meta["dtype"]) or arr.shape != expected[key]:
            raise ModelFileError(f"{name} is corrupted: tensor {key!r} does not match its header.")
        if not np.all(np.isfinite(arr)):
            raise ModelFileError(
                f"{name} is corrupted: tensor {key!r} holds NaN or infinite values."
            )
    return name, meta, tensors


def _read_meta(
    f: IO[bytes], size: int, name: str, formats: tuple[str, ...]
) -> tuple[bytes, dict[str, Any], dict[str, tuple[int, ...]]]:
    """``(header bytes read, metadata, expected tensor shapes)``, all checked against ``size``."""
    head = f.read(8)
    if len(head) < 8:
        _refuse_foreign(name, head)
        raise ModelFileError(
            f"{name} is truncated or not a safetensors file: it has only {len(head)} "
            "bytes (a safetensors file starts with an 8-byte header length)."
        )
    n = struct.unpack("<Q", head)[0]
    rest = size - 8
    if n > MAX_HEADER_BYTES:
        _refuse_foreign(name, head)
        raise ModelFileError(
            f"{name} is corrupted or not a safetensors file: its header claims {n} bytes, "
            f"more than the {MAX_HEADER_BYTES}-byte limit."
        )
    if n > rest:
        _refuse_foreign(name, head)
        raise ModelFileError(
            f"{name} is truncated or not a safetensors file: its header claims {n} bytes "
            f"but only {rest} follow."
        )
    raw = f.read(n)
    if len(raw) != n:
        raise ModelFileError(f"{name} changed while it was being read; try again.")
    header = _parse_header(head, raw, rest - n, name)
    meta = _parse_metadata(header, name, formats)
    expected = _expected_tensors(meta)
    _check_tensor_entries(header, expected, meta["dtype"], name)
    _check_data_size(header, meta["dtype"], rest - n, name)
    return head + raw, meta, expected


class _open:
    """``with _open(path, name) as (f, size)``: open a model file for reading, or ModelFileError."""

    def __init__(self, target: Path, name: str) -> None:
        self.target, self.name = target, name

    def __enter__(self) -> tuple[IO[bytes], int]:
        name = self.name
        try:
            self.f = open(self.target, "rb")  # noqa: SIM115 - closed in __exit__
            info = os.fstat(self.f.fileno())
        except FileNotFoundError:
            raise ModelFileError(f"model file {name} does not exist.") from None
        except IsADirectoryError:
            raise ModelFileError(
                f"model file {name} is a directory; give the .safetensors file."
            ) from None
        except OSError as err:
            raise ModelFileError(f"cannot read model file {name}: {os_reason(err)}.") from None
        if stat.S_ISDIR(info.st_mode):
            self.f.close()
            raise ModelFileError(f"model file {name} is a directory; give the .safetensors file.")
        if not stat.S_ISREG(info.st_mode):
            self.f.close()
            raise ModelFileError(f"model file {name} is not a regular file; give the file itself.")
        if info.st_size == 0:
            self.f.close()
            raise ModelFileError(f"model file {name} is empty (0 bytes).")
        return self.f, info.st_size

    def __exit__(
        self,
        kind: type[BaseException] | None,
        err: BaseException | None,
        tb: TracebackType | None,
    ) -> Literal[False]:
        self.f.close()
        if isinstance(err, OSError) and not isinstance(err, ModelFileError):
            raise ModelFileError(f"cannot read model file {self.name}: {os_reason(err)}.") from None
        return False


def _check_data_size(header: dict[str, Any], dtype: str, have: int, name: str) -> None:
    """The tensors' declared bytes fill the data section exactly: no gap, overlap or tail."""
    item = np.dtype(dtype).itemsize
    spans: list[tuple[int, int]] = []
    for key, entry in header.items():
        if key == "__metadata__":
            continue
        start, end = entry["data_offsets"]
        need = math.prod(entry["shape"]) * item
        if start < 0 or end - start != need:
            raise ModelFileError(
                f"{name} is corrupted: tensor {key!r} declares {end - start} bytes at "
                f"offsets {start}..{end}, but its shape {entry['shape']} needs {need}."
            )
        spans.append((start, end))
    pos = 0
    for start, end in sorted(spans):
        if start != pos:
            raise ModelFileError(
                f"{name} is corrupted: its tensors leave a gap or overlap at byte {pos}."
            )
        pos = end
    if pos != have:
        raise ModelFileError(
            f"{name} is corrupted: its tensors take {pos} bytes but the file holds {have} "
            f"after the header ({have - pos} unexplained bytes); it was not read further."
        )


def _check_memory(size: int, name: str) -> None:
    from ..backend.memory import available_memory, format_bytes

    free = available_memory()
    if 3 * size > free:
        raise ModelFileError(
            f"{name} is {format_bytes(size)}; loading it needs about {format_bytes(3 * size)} "
            f"of memory but only {format_bytes(free)} is available. It was not read."
        )


def _refuse_foreign(name: str, head: bytes) -> None:
    """Raise a ModelFileError naming a well-known foreign file type, if ``head`` shows one.

    Only called once the bytes are known not to be a safetensors header: a valid
    header length can start with the same bytes as a pickle (``0x80 0x02`` = 640).
    """
    kind = _sniff(head)
    if kind:
        raise ModelFileError(
            f"{name} is not a safetensors file: it looks like {kind}. "
            "mlplab only loads .safetensors files written by mlplab (never pickle)."
        )


def _sniff(head: bytes) -> str | None:
    """A guess at a well-known foreign file type from its first bytes."""
    if head[:1] == b"\x80" and head[1:2] in (b"\x02", b"\x03", b"\x04", b"\x05"):
        return "a Python pickle (e.g. torch.save with the legacy format or joblib)"
    if head.startswith(b"PK\x03\x04"):
        return "a zip archive (e.g. a torch.save checkpoint, which holds a pickle)"
    if head.startswith(b"\x93NUMPY"):
        return "a NumPy .npy file"
    if head.startswith(b"\x89HDF"):
        return "an HDF5 file (e.g. Keras .h5)"
    if head.startswith(b"\x1f\x8b"):
        return "a gzip archive"
    return None


def _parse_header(head: bytes, raw: bytes, have: int, name: str) -> dict[str, Any]:
    """The safetensors header JSON ``raw``; ``have`` bytes of tensor data follow it."""
    if not raw.startswith(b"{"):
        _refuse_foreign(name, head)
        raise ModelFileError(f"{name} is not a safetensors file: its header is not a JSON object.")
    header = _loads(raw, f"{name} is corrupted: its safetensors header is not valid JSON")
    if not isinstance(header, dict):
        raise ModelFileError(f"{name} is corrupted: its safetensors header is not a JSON object.")
    # The tensor bytes must end where the header says: a shorter file was cut off.
    ends: list[int] = []
    for key, entry in header.items():
        if key == "__metadata__":
            continue
        offsets = entry.get("data_offsets") if isinstance(entry, dict) else None
        if (
            not isinstance(offsets, list)
            or len(offsets) != 2
            or not all(is_int(o) for o in offsets)
        ):
            raise ModelFileError(f"{name} is corrupted: tensor {key!r} has no valid data_offsets.")
        ends.append(offsets[1])
    need = max(ends, default=0)
    if need > have:
        raise ModelFileError(
            f"{name} is truncated: its header describes {need} bytes of tensor data "
            f"but the file holds {have}."
        )
    return header


def _loads(raw: bytes | str, message: str) -> Any:
    """``json.loads`` that refuses non-finite numbers and duplicate keys; else ModelFileError."""

    def no_constant(token: str) -> NoReturn:
        raise ValueError(f"non-finite number {token}")

    def finite_float(token: str) -> float:
        value = float(token)
        if not math.isfinite(value):  # 1e400 overflows to inf
            raise ValueError(f"non-finite number {token[:20]}")
        return value

    def no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for k, v in pairs:
            if k in out:
                raise ValueError(f"duplicate key {k!r}")
            out[k] = v
        return out

    try:
        text = raw.decode("utf-8") if isinstance(raw, bytes) else raw
        return json.loads(
            text,
            parse_constant=no_constant,
            parse_float=finite_float,
            object_pairs_hook=no_duplicates,
        )
    except Exception as err:  # UnicodeDecodeError, JSONDecodeError, RecursionError, ValueError
        raise ModelFileError(f"{message} ({type(err).__name__}: {_short(err)}).") from None


def _short(err: Exception, limit: int = 120) -> str:
    text = str(err)
    return text if len(text) <= limit else text[:limit] + "…"


def _parse_metadata(header: dict[str, Any], name: str, formats: tuple[str, ...]) -> dict[str, Any]:
    tensor_names = sorted(k for k in header if k != "__metadata__")
    extra = header.get("__metadata__")
    if extra is not None and (
        not isinstance(extra, dict) or not all(isinstance(v, str) for v in extra.values())
    ):
        raise ModelFileError(f"{name} is corrupted: its __metadata__ is not a str -> str map.")
    if not extra or METADATA_KEY not in extra:
        listed = ", ".join(tensor_names[:5]) + (", …" if len(tensor_names) > 5 else "")
        raise ModelFileError(
            f"{name} is a safetensors file but not an mlplab model: it has no "
            f"{METADATA_KEY!r} metadata (tensors: {listed or 'none'}). "
            "Load it with the library that wrote it, or save an mlplab model with save_model."
        )
    meta = _loads(
        extra[METADATA_KEY], f"{name} is corrupted: its mlplab metadata is not valid JSON"
    )
    if not isinstance(meta, dict):
        raise ModelFileError(f"{name} is corrupted: its mlplab metadata is not a JSON object.")
    return _check_schema(meta, name, formats)


def _check_schema(meta: dict[str, Any], name: str, formats: tuple[str, ...]) -> dict[str, Any]:
    def bad(what: str) -> ModelFileError:
        return ModelFileError(f"{name} has invalid mlplab metadata: {what}.")

    fmt = meta.get("format")
    if fmt not in (MODEL_FORMAT, CHECKPOINT_FORMAT):
        raise bad(f"`format` must be {MODEL_FORMAT!r} or {CHECKPOINT_FORMAT!r}; got {fmt!r}")
    if fmt not in formats:
        raise ModelFileError(
            f"{name} is an mlplab model file, not a checkpoint: it has no optimizer state. "
            "Load it with load_model, or train from it without resuming."
        )
    version = meta.get("format_version")
    if not is_int(version) or version < 1:
        raise bad(f"`format_version` must be an integer >= 1; got {version!r}")
    if version > FORMAT_VERSION:
        raise ModelFileError(
            f"{name} was written by a newer mlplab (file format version {version}; this mlplab "
            f"reads version {FORMAT_VERSION}). Upgrade mlplab: pip install --upgrade mlplab."
        )
    if not isinstance(meta.get("mlplab_version", ""), str):
        raise bad(f"`mlplab_version` must be a string; got {meta['mlplab_version']!r}")
    sizes = meta.get("sizes")
    if (
        not isinstance(sizes, list)
        or len(sizes) < 2
        or not all(is_int(s) and s >= 1 for s in sizes)
    ):
        raise bad(f"`sizes` must list at least 2 integers >= 1; got {_short_repr(sizes)}")
    acts = meta.get("activations")
    if not isinstance(acts, list) or len(acts) != len(sizes) - 1:
        raise bad(f"`activations` must list {len(sizes) - 1} activations; got {_short_repr(acts)}")
    for i, spec in enumerate(acts):
        if not isinstance(spec, dict) or not isinstance(spec.get("name"), str):
            raise bad(f"activation {i} must be a dict with a 'name'; got {_short_repr(spec)}")
    if meta.get("dtype") not in DTYPES:
        raise bad(
            f"`dtype` must be one of {', '.join(DTYPES)}; got {_short_repr(meta.get('dtype'))}"
        )
    keys = ["extra"]
    if fmt == CHECKPOINT_FORMAT:
        keys += ["config", "train_state"]
        names = meta.get("optimizer_state")
        if (
            not isinstance(names, list)
            or not all(isinstance(n, str) and OPT_NAME.match(n) for n in names)
            or len(set(names)) != len(names)
        ):
            raise bad(f"`optimizer_state` must list distinct names; got {_short_repr(names)}")
    for key in keys:
        if not isinstance(meta.get(key, {}), dict):
            raise bad(f"`{key}` must be a JSON object; got {_short_repr(meta[key])}")
        meta.setdefault(key, {})
    return meta


def _short_repr(x: object) -> str:
    text = repr(x)
    return text if len(text) <= 80 else text[:80] + "…"


def _expected_tensors(meta: dict[str, Any]) -> dict[str, tuple[int, ...]]:
    """Every tensor the architecture implies, with its shape."""
    sizes = meta["sizes"]
    shapes: dict[str, tuple[int, ...]] = {}
    for i, (d_in, d_out) in enumerate(zip(sizes[:-1], sizes[1:], strict=True)):
        shapes[f"layers.{i}.b"] = (d_out,)
        shapes[f"layers.{i}.W"] = (d_out, d_in)
    for opt in meta.get("optimizer_state", []) if meta["format"] == CHECKPOINT_FORMAT else []:
        for i in range(len(sizes) - 1):
            shapes[f"opt.{opt}.{i}.b"] = shapes[f"layers.{i}.b"]
            shapes[f"opt.{opt}.{i}.W"] = shapes[f"layers.{i}.W"]
    return shapes


def _check_tensor_entries(
    header: dict[str, Any], expected: dict[str, tuple[int, ...]], dtype: str, name: str
) -> None:
    """The header's tensors are exactly the expected names, shapes and dtype."""
    present = {k: v for k, v in header.items() if k != "__metadata__"}
    missing = sorted(set(expected) - set(present))
    if missing:
        raise ModelFileError(f"{name} is missing tensors its architecture needs: {missing[:5]}.")
    extra = sorted(set(present) - set(expected))
    if extra:
        raise ModelFileError(f"{name} has tensors its architecture does not use: {extra[:5]}.")
    for key, shape in expected.items():
        entry = present[key]
        if entry.get("dtype") != _ST_DTYPES[dtype]:
            raise ModelFileError(
                f"{name}: tensor {key!r} has dtype {entry.get('dtype')!r}; "
                f"the metadata says {dtype} ({_ST_DTYPES[dtype]})."
            )
        if entry.get("shape") != list(shape):
            raise ModelFileError(
                f"{name}: tensor {key!r} has shape {entry.get('shape')!r}; "
                f"the architecture implies {list(shape)}."
            )


def layer_params(
    meta: dict[str, Any], tensors: dict[str, np.ndarray]
) -> list[tuple[np.ndarray, np.ndarray]]:
    return [
        (tensors[f"layers.{i}.b"], tensors[f"layers.{i}.W"]) for i in range(len(meta["sizes"]) - 1)
    ]


def is_int(x: object) -> TypeGuard[int]:
    return isinstance(x, int) and not isinstance(x, bool)


__all__ = [
    "CHECKPOINT_FORMAT",
    "load_metadata",
    "FORMAT_VERSION",
    "MAX_HEADER_BYTES",
    "MODEL_FORMAT",
    "load_model",
    "save_model",
]
