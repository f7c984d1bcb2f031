"""AMF0 (Action Message Format 0), the encoding of RTMP commands and metadata: the subset
RTMP publishers send (numbers, booleans, strings, objects, ECMA and strict arrays, null)."""

from __future__ import annotations

import struct
from typing import Any

NUMBER, BOOLEAN, STRING, OBJECT, NULL, UNDEFINED = 0x00, 0x01, 0x02, 0x03, 0x05, 0x06
ECMA_ARRAY, OBJECT_END, STRICT_ARRAY, DATE, LONG_STRING = 0x08, 0x09, 0x0A, 0x0B, 0x0C
MAX_DEPTH = 16
MAX_ITEMS = 4096


class AmfError(ValueError):
    """Malformed AMF0 data; the message says what and at which byte."""


def decode_all(data: bytes) -> list[Any]:
    values = []
    pos = 0
    while pos < len(data):
        value, pos = _decode(data, pos, 0)
        values.append(value)
    return values


def _decode(data: bytes, pos: int, depth: int) -> tuple[Any, int]:
    if depth > MAX_DEPTH:
        raise AmfError(f"AMF0 nested deeper than {MAX_DEPTH} at byte {pos}")
    _need(data, pos, 1)
    marker = data[pos]
    pos += 1
    if marker == NUMBER:
        _need(data, pos, 8)
        return struct.unpack_from(">d", data, pos)[0], pos + 8
    if marker == BOOLEAN:
        _need(data, pos, 1)
        return data[pos] != 0, pos + 1
    if marker == STRING:
        return _string(data, pos, 2)
    if marker == LONG_STRING:
        return _string(data, pos, 4)
    if marker in (NULL, UNDEFINED):
        return None, pos
    if marker == OBJECT:
        return _properties(data, pos, depth)
    if marker == ECMA_ARRAY:
        _need(data, pos, 4)
        return _properties(data, pos + 4, depth)  # the count is a hint only
    if marker == STRICT_ARRAY:
        _need(data, pos, 4)
        count = struct.unpack_from(">I", data, pos)[0]
        if count > MAX_ITEMS:
            raise AmfError(f"AMF0 array of {count} items at byte {pos}")
        pos += 4
        items = []
        for _ in range(count):
            item, pos = _decode(data, pos, depth + 1)
            items.append(item)
        return items, pos
    if marker == DATE:
        _need(data, pos, 10)
        return struct.unpack_from(">d", data, pos)[0], pos + 10
    raise AmfError(f"unsupported AMF0 type 0x{marker:02x} at byte {pos - 1}")


def _properties(data: bytes, pos: int, depth: int) -> tuple[dict[str, Any], int]:
    out: dict[str, Any] = {}
    while True:
        key, pos = _string(data, pos, 2)
        _need(data, pos, 1)
        if not key and data[pos] == OBJECT_END:
            return out, pos + 1
        if len(out) >= MAX_ITEMS:
            raise AmfError(f"AMF0 object with more than {MAX_ITEMS} properties")
        out[key], pos = _decode(data, pos, depth + 1)


def _string(data: bytes, pos: int, size: int) -> tuple[str, int]:
    _need(data, pos, size)
    length = int.from_bytes(data[pos:pos + size], "big")
    pos += size
    _need(data, pos, length)
    return data[pos:pos + length].decode("utf-8", "replace"), pos + length


def _need(data: bytes, pos: int, size: int) -> None:
    if pos + size > len(data):
        raise AmfError(f"AMF0 data ends at byte {len(data)}, needed {size} bytes at {pos}")


def encode(*values: Any) -> bytes:
    return b"".join(_encode(v) for v in values)


def _encode(value: Any) -> bytes:
    if value is None:
        return bytes([NULL])
    if isinstance(value, bool):
        return bytes([BOOLEAN, int(value)])
    if isinstance(value, (int, float)):
        return bytes([NUMBER]) + struct.pack(">d", float(value))
    if isinstance(value, str):
        raw = value.encode()
        return bytes([STRING]) + len(raw).to_bytes(2, "big") + raw
    if isinstance(value, dict):
        body = b"".join(len(k.encode()).to_bytes(2, "big") + k.encode() + _encode(v)
                        for k, v in value.items())
        return bytes([OBJECT]) + body + b"\x00\x00" + bytes([OBJECT_END])
    raise TypeError(f"cannot encode {type(value).__name__} as AMF0")
