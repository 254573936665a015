"""What the page may send, checked field by field, and how frames are packed.

Client → server: one JSON object per WebSocket text message, ``{"cmd": name, ...}``.
:data:`COMMANDS` is the schema: for each command, its fields and the check of
each. :func:`parse_command` returns a clean dict or raises :class:`CommandError`
with one sentence naming the field, what was expected and what came.

Server → client: JSON text messages (``{"type": ...}``) and binary frames.
A frame is ``b"MLPF"``, a little-endian uint32 header length, the UTF-8 JSON
header (its ``blocks`` map a name to ``[offset, dtype, shape]``), then the
blocks, each starting on a 4-byte boundary: heat-maps as uint8, weights as
float32.
"""

from __future__ import annotations

import json
import math
import struct
from collections.abc import Callable, Mapping, Sequence
from typing import Any, NoReturn, TypeVar

import numpy as np
from numpy.typing import NDArray

from mlplab import ConfigError

from .data import DATASETS, DOMAIN, FEATURES

MAX_MESSAGE_BYTES = 20 * 1024 * 1024  # an uploaded CSV may be up to 20 MB
MAX_LAYERS = 10  # hidden layers
MAX_NEURONS = 64  # per hidden layer
MAX_WEIGHT = 1e4  # a hand-set weight or bias
MAX_LINK_POINTS = 500  # points a shared link may carry
ACTIVATIONS = ("tanh", "relu", "sigmoid", "identity", "heaviside", "leaky_relu", "gelu", "softplus")
OUTPUT_ACTIVATIONS = ("identity", "sigmoid", "tanh", "heaviside")
OPTIMIZERS = ("sgd", "momentum", "adam")
INITS = ("auto", "glorot", "he", "lecun", "zeros")
REGULARIZERS = ("none", "l1", "l2")
DOWNLOADS = ("data", "model", "torch", "equinox")
APPROX_TARGETS = ("cubic", "sin", "bump")
MAGIC = b"MLPF"

#: A JSON object the server sends or a validated command: field name -> value.
Message = dict[str, Any]
T = TypeVar("T")
#: A field check: ``check(field_name, value)`` returns the clean value or raises CommandError.
Check = Callable[[str, Any], T]


class CommandError(ConfigError):
    """A client message that does not follow the protocol."""


# --- field checks: each returns the clean value or raises CommandError ----------


def _number(lo: float, hi: float, integer: bool = False) -> Check[float]:
    kind = "an integer" if integer else "a number"

    def check(name: str, v: Any) -> float:
        ok = isinstance(v, int | float) and not isinstance(v, bool) and lo <= v <= hi
        if ok and isinstance(v, float):  # NaN fails every comparison above
            ok = not integer or v.is_integer()
        if not ok:
            raise CommandError(f"`{name}` must be {kind} from {lo:g} to {hi:g}; got {_show(v)}.")
        return int(v) if integer else float(v)

    return check


def _choice(options: Sequence[str]) -> Check[str]:
    def check(name: str, v: Any) -> str:
        if not isinstance(v, str) or v not in options:
            raise CommandError(f"`{name}` must be one of {', '.join(options)}; got {_show(v)}.")
        return v

    return check


def _boolean(name: str, v: Any) -> bool:
    if not isinstance(v, bool):
        raise CommandError(f"`{name}` must be true or false; got {_show(v)}.")
    return v


def _text(max_len: int) -> Check[str]:
    def check(name: str, v: Any) -> str:
        if not isinstance(v, str) or len(v) > max_len:
            size = f"{len(v):,} characters" if isinstance(v, str) else _show(v)
            raise CommandError(
                f"`{name}` must be text of at most {max_len:,} characters; got {size}."
            )
        return v

    return check


def _list_of(item: Check[T], min_len: int, max_len: int, unique: bool = False) -> Check[list[T]]:
    def check(name: str, v: Any) -> list[T]:
        if not isinstance(v, list) or not min_len <= len(v) <= max_len:
            raise CommandError(
                f"`{name}` must be a list of {min_len} to {max_len} entries; got {_show(v)}."
            )
        out = [item(f"{name}[{i}]", x) for i, x in enumerate(v)]
        if unique and len(set(out)) != len(out):
            raise CommandError(f"`{name}` lists an entry twice: {_show(v)}.")
        return out

    return check


def _params(name: str, v: Any) -> list[tuple[list[float], list[list[float]]]]:
    """``[[b, W], …]``: nested lists of finite numbers (shapes are checked by the session)."""
    weight = _number(-MAX_WEIGHT, MAX_WEIGHT)
    layers = _list_of(lambda n, x: x, 1, MAX_LAYERS + 1)(name, v)
    out = []
    for i, layer in enumerate(layers):
        if not isinstance(layer, list) or len(layer) != 2 or not isinstance(layer[1], list):
            raise CommandError(f"`{name}[{i}]` must be a pair [b, W]; got {_show(layer)}.")
        b = _list_of(weight, 1, MAX_NEURONS)(f"{name}[{i}].b", layer[0])
        rows = _list_of(lambda n, x: x, 1, MAX_NEURONS)(f"{name}[{i}].W", layer[1])
        W = [_list_of(weight, 1, MAX_NEURONS)(f"{name}[{i}].W[{j}]", r) for j, r in enumerate(rows)]
        out.append((b, W))
    return out


_COORD = _number(-DOMAIN, DOMAIN)


def _point_rows(name: str, v: Any) -> list[tuple[float, float, float]]:
    """``[[x1, x2, label], …]``: the points of a shared link."""
    rows = _list_of(lambda n, x: x, 2, MAX_LINK_POINTS)(name, v)
    label = _number(-8, 8)
    out = []
    for i, row in enumerate(rows):
        if not isinstance(row, list) or len(row) != 3:
            raise CommandError(f"`{name}[{i}]` must be [x1, x2, label]; got {_show(row)}.")
        out.append((_COORD(f"{name}[{i}][0]", row[0]), _COORD(f"{name}[{i}][1]", row[1]),
                    label(f"{name}[{i}][2]", row[2])))  # fmt: skip
    return out


CONFIG_FIELDS: dict[str, Check[Any]] = {
    "dataset": _choice((*DATASETS, "custom")),
    "noise": _number(0, 50, integer=True),
    "ratio": _number(10, 90, integer=True),
    "batch": _number(1, 1000, integer=True),
    "lr": _number(1e-6, 10),
    "optimizer": _choice(OPTIMIZERS),
    "init": _choice(INITS),
    "layers": _list_of(_number(1, MAX_NEURONS, integer=True), 0, MAX_LAYERS),
    "activations": _list_of(_choice(ACTIVATIONS), 0, MAX_LAYERS),
    "output_activation": _choice(OUTPUT_ACTIVATIONS),
    "features": _list_of(_choice(tuple(FEATURES)), 1, len(FEATURES), unique=True),
    "regularization": _choice(REGULARIZERS),
    "reg_rate": _number(0, 10),
    "seed": _number(0, 2**31 - 1, integer=True),
    "backend": _choice(("numpy", "torch", "jax")),
    "stop_epoch": _number(0, 10**7, integer=True),
    "stop_loss": _number(0, 100),
}

# for each command, its fields and their checks; "config": a partial configuration
COMMANDS: dict[str, dict[str, Check[Any] | str]] = {
    "config": {"set": "config"},
    "ack": {},
    "play": {},
    "pause": {},
    "step": {},
    "reset": {},
    "regenerate": {},
    "set_weight": {
        "layer": _number(0, MAX_LAYERS, integer=True),
        "row": _number(0, MAX_NEURONS - 1, integer=True),
        "col": _number(-1, MAX_NEURONS - 1, integer=True),  # −1: the bias
        "value": _number(-MAX_WEIGHT, MAX_WEIGHT),
    },
    "set_params": {"params": _params},
    "add_point": {"x1": _COORD, "x2": _COORD, "label": _number(-1e6, 1e6)},
    "remove_point": {"x1": _COORD, "x2": _COORD},
    "set_data": {"points": _point_rows, "kind": _choice(("binary", "multiclass", "regression"))},
    "upload_csv": {"name": _text(200), "text": _text(MAX_MESSAGE_BYTES), "target": _text(200)},
    "download": {"what": _choice(DOWNLOADS)},
    "preset": {"name": _text(40)},
    "inspect": {
        "x1": _COORD,
        "x2": _COORD,
        "layer": _number(0, MAX_LAYERS, integer=True),
        "neuron": _number(0, MAX_NEURONS - 1, integer=True),
    },
    "step_detail": {"index": _number(0, 10**7, integer=True)},
    "step_apply": {},
    "approx": {"target": _choice(APPROX_TARGETS), "n": _number(1, 256, integer=True)},
}
OPTIONAL = {"upload_csv": {"target"}, "step_detail": {"index"}}


def parse_command(raw: object) -> Message:
    """A validated command dict from one WebSocket message (text or bytes)."""
    if isinstance(raw, bytes | bytearray):
        raise CommandError("binary messages are not part of the protocol; send JSON text.")
    if not isinstance(raw, str):
        raise CommandError('empty message; send a JSON object such as {"cmd": "play"}.')
    if len(raw) > MAX_MESSAGE_BYTES + 4096:
        raise CommandError(
            f"message of {len(raw) / 2**20:.1f} MB is too large: at most 20 MB (an uploaded CSV)."
        )
    try:
        msg = json.loads(raw, parse_constant=_no_constant)
    except (ValueError, RecursionError) as err:
        raise CommandError(f"message is not valid JSON: {str(err)[:120]}") from None
    if not isinstance(msg, dict):
        raise CommandError(f"a message must be a JSON object with a `cmd`; got {_show(msg)}.")
    cmd = msg.get("cmd")
    if not isinstance(cmd, str) or cmd not in COMMANDS:
        raise CommandError(f"unknown command {_show(cmd)}; known: {', '.join(COMMANDS)}.")
    fields = COMMANDS[cmd]
    extra = sorted(set(msg) - set(fields) - {"cmd"})
    if extra:
        raise CommandError(f"command {cmd!r} takes no field {extra[0]!r}.")
    out: Message = {"cmd": cmd}
    for name, check in fields.items():
        if name not in msg:
            if name in OPTIONAL.get(cmd, ()):
                continue
            raise CommandError(f"command {cmd!r} needs the field `{name}`.")
        out[name] = parse_config(msg[name]) if isinstance(check, str) else check(name, msg[name])
    return out


def parse_config(values: object) -> Message:
    """A validated partial configuration ``{field: value}``."""
    if not isinstance(values, dict):
        raise CommandError(f"`set` must be an object of settings; got {_show(values)}.")
    unknown = sorted(set(values) - set(CONFIG_FIELDS))
    if unknown:
        raise CommandError(
            f"unknown setting {unknown[0]!r}; known settings: {', '.join(CONFIG_FIELDS)}."
        )
    return {name: CONFIG_FIELDS[name](name, v) for name, v in values.items()}


def _no_constant(name: str) -> NoReturn:
    raise ValueError(f"{name} is not a number JSON allows")


def _show(v: object) -> str:
    text = json.dumps(v) if not isinstance(v, float) or math.isfinite(v) else str(v)
    return text if len(text) <= 60 else text[:57] + "…"


# --- frames ------------------------------------------------------------------------


def encode_frame(header: Mapping[str, Any], blocks: Mapping[str, NDArray[Any]]) -> bytes:
    """One binary frame: magic, header length, JSON header, 4-byte aligned blocks."""
    layout: dict[str, list[Any]] = {}
    parts: list[bytes] = []
    offset = 0
    for name, arr in blocks.items():
        data = np.ascontiguousarray(arr).tobytes()
        layout[name] = [offset, str(arr.dtype), list(arr.shape)]
        pad = (-len(data)) % 4
        parts.append(data + b"\0" * pad)
        offset += len(data) + pad
    head = json.dumps({**header, "blocks": layout}, separators=(",", ":")).encode()
    head += b" " * ((-(len(head) + 8)) % 4)
    return MAGIC + struct.pack("<I", len(head)) + head + b"".join(parts)


def decode_frame(frame: bytes) -> tuple[Message, dict[str, NDArray[Any]]]:
    """The inverse of :func:`encode_frame` (the page does the same in JavaScript)."""
    if frame[:4] != MAGIC:
        raise ValueError("not a playground frame")
    (n,) = struct.unpack("<I", frame[4:8])
    header: Message = json.loads(frame[8 : 8 + n])
    base = 8 + n
    blocks: dict[str, NDArray[Any]] = {}
    for name, (offset, dtype, shape) in header["blocks"].items():
        count = int(np.prod(shape)) if shape else 1
        blocks[name] = np.frombuffer(frame, dtype=dtype, count=count, offset=base + offset).reshape(
            shape
        )
    return header, blocks
