"""Client -> server signalling messages: decode one text frame and check its shape.

Each message type lists its fields with their Python type and whether they are required;
fields we do not know are ignored so older servers accept newer clients. Anything else is a
SignalingError (`bad_json` or `bad_message`) whose message names the offending field.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from signaling.errors import SignalingError

SOURCES = ("camera", "microphone", "screen")
KINDS = ("audio", "video")
MAX_TRACK_ID = 128
MAX_VIEW_PIXELS = 16384  # one side of a tile in device pixels (sfu.tracks.MAX_VIEW_PIXELS)
# Close code the front (several SFU workers) sends a worker when the client's connection was
# lost without a close frame: the worker keeps the participant for a `resume`, as it does
# for a socket that dies on it directly. Never sent to clients.
CLIENT_LOST_CLOSE = 4000

_STR, _BOOL, _NUM, _DICT = (str,), (bool,), (int, float), (dict,)

# type -> {field: (accepted types, required)}
SCHEMAS: dict[str, dict[str, tuple[tuple[type, ...], bool]]] = {
    "join": {"token": (_STR, False), "code": (_STR, False), "name": (_STR, False),
             "resume": (_STR, False), "room_id": (_STR, False)},
    "publish": {"sdp": (_STR, True), "sources": (_DICT, False)},
    "answer": {"sdp": (_STR, True)},
    "offer_failed": {"error": (_STR, False)},
    "state": {"audio": (_BOOL, False), "video": (_BOOL, False)},
    "mute": {"participant_id": (_STR, True), "kind": (_STR, True)},
    "kick": {"participant_id": (_STR, True)},
    "lock": {"locked": (_BOOL, True)},
    "revoke_share": {"code": (_STR, True)},
    "ping": {"t": (_NUM, False)},
    "track_view": {"track_id": (_STR, True), "visible": (_BOOL, True), "width": (_NUM, False),
                   "height": (_NUM, False)},
    "location": {"lat": (_NUM, True), "lon": (_NUM, True), "accuracy_m": (_NUM, False),
                 "heading": (_NUM, False), "speed_mps": (_NUM, False)},
    "leave": {},
}


def message_type(data: object) -> str | None:
    """The `type` of a decoded message if it is a short string (for error `ref`)."""
    if isinstance(data, dict) and isinstance(data.get("type"), str):
        return data["type"][:32]
    return None


def decode(text: str) -> dict[str, Any]:
    """Parse JSON text into a message object (still unchecked)."""
    try:
        data = json.loads(text)
    except (ValueError, RecursionError) as exc:
        raise SignalingError("bad_json", f"message is not valid JSON: {exc}") from None
    if not isinstance(data, dict):
        raise SignalingError("bad_json", "message must be a JSON object")
    return data


def validate(data: dict[str, Any],
             extra: Mapping[str, Mapping[str, tuple[tuple[type, ...], bool]]] | None = None
             ) -> dict[str, Any]:
    """Check the message against its schema (ours, else `extra`: the extensions'); returns
    only the known fields."""
    kind = data.get("type")
    if not isinstance(kind, str):
        raise SignalingError("bad_message", "message has no string 'type'")
    schema = SCHEMAS[kind] if kind in SCHEMAS else (extra or {}).get(kind)
    if schema is None:
        raise SignalingError("bad_message", f"unknown message type {kind[:32]!r}")
    checked: dict[str, Any] = {"type": kind}
    for name, (types, required) in schema.items():
        if name not in data or data[name] is None:
            if required:
                raise SignalingError("bad_message", f"{kind}: missing field {name!r}")
            continue
        value = data[name]
        if not isinstance(value, types) or (types != _BOOL and isinstance(value, bool)):
            expected = {_STR: "a string", _BOOL: "true or false", _NUM: "a number",
                        _DICT: "an object", (list,): "an array"}.get(
                types, " or ".join(t.__name__ for t in types))
            raise SignalingError("bad_message", f"{kind}: field {name!r} must be {expected}")
        checked[name] = value
    _check_values(checked)
    return checked


def _check_values(msg: dict[str, Any]) -> None:
    kind = msg["type"]
    if kind == "join" and ("token" in msg) == ("code" in msg):
        raise SignalingError("bad_message", "join: give exactly one of 'token' or 'code'")
    if kind == "mute" and msg["kind"] not in KINDS:
        raise SignalingError("bad_message", "mute: 'kind' must be 'audio' or 'video'")
    if kind == "track_view":
        _check_track_view(msg)
    if kind == "publish":
        for mid, source in msg.get("sources", {}).items():
            if len(mid) > 32 or source not in SOURCES:
                raise SignalingError(
                    "bad_message", f"publish: source of mid {mid[:32]!r} must be one of "
                    f"{', '.join(SOURCES)}")


def _check_track_view(msg: dict[str, Any]) -> None:
    if not 0 < len(msg["track_id"]) <= MAX_TRACK_ID:
        raise SignalingError("bad_message",
                             f"track_view: 'track_id' must be 1..{MAX_TRACK_ID} characters")
    if ("width" in msg) != ("height" in msg):
        raise SignalingError("bad_message", "track_view: give both 'width' and 'height', "
                             "or neither")
    for name in ("width", "height"):
        value = msg.get(name)
        if value is not None and (not isinstance(value, int)
                                  or not 1 <= value <= MAX_VIEW_PIXELS):
            raise SignalingError("bad_message", f"track_view: {name!r} must be an integer "
                                 f"1..{MAX_VIEW_PIXELS} (device pixels)")
