"""A safetensors file's raw layout: 8-byte little-endian header length, JSON header, tensor bytes.

The file-format tests take files apart and put them together with a changed
header, to check what a damaged or hostile file does.
"""

from __future__ import annotations

import json
import struct


def split(data: bytes) -> tuple[dict, bytes]:
    """The header (a dict) and the tensor bytes of a safetensors file's contents."""
    n = struct.unpack("<Q", data[:8])[0]
    return json.loads(data[8 : 8 + n]), data[8 + n :]


def join(header: dict, body: bytes) -> bytes:
    """A safetensors file's contents from a header and tensor bytes."""
    raw = json.dumps(header).encode()
    return struct.pack("<Q", len(raw)) + raw + body
