"""A command wall operator's layout: what `PUT /api/rooms/{room_id}/wall-layout` accepts.

The page owns the meaning (web/static/js/wall-layout.js); the server only stores it, so the
check is about shape and size: known fields with the right types and bounds, nothing else.
`WallLayoutError.parse` style: one exception type whose message names the offending field.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from signaling.errors import SignalingError

TILE_COUNTS = (1, 4, 9, 16)
MAX_UNITS = 64  # remembered tile keys, present or not
MAX_SLOT = 15
# A tile key: "<participant id>:<source>", e.g. "p_1a2b3c:camera" or "feed-cam1:feed".
_UNIT_RE = re.compile(r"[A-Za-z0-9_.-]{1,128}:[a-z]{1,16}")
_FIELDS = {"tiles", "order", "pins", "spotlight", "map"}


class WallLayoutError(SignalingError):
    """The layout document is malformed (code bad_request)."""

    def __init__(self, message: str) -> None:
        super().__init__("bad_request", f"wall layout: {message}")


@dataclass(frozen=True)
class WallLayout:
    tiles: int
    order: tuple[str, ...]
    pins: dict[str, int]
    spotlight: str | None
    map: bool

    @classmethod
    def parse(cls, data: object) -> WallLayout:
        if not isinstance(data, dict):
            raise WallLayoutError("must be a JSON object")
        unknown = sorted(set(data) - _FIELDS)
        if unknown:
            raise WallLayoutError(f"unknown field {unknown[0][:32]!r}")
        tiles = data.get("tiles", 4)
        if tiles not in TILE_COUNTS or isinstance(tiles, bool):
            raise WallLayoutError("'tiles' must be 1, 4, 9 or 16")
        order = _units(data.get("order", []), "order")
        if len(set(order)) != len(order):
            raise WallLayoutError("'order' lists a tile twice")
        pins = _pins(data.get("pins", {}))
        spotlight = data.get("spotlight")
        if spotlight is not None:
            _unit(spotlight, "spotlight")
        show_map = data.get("map", True)
        if not isinstance(show_map, bool):
            raise WallLayoutError("'map' must be true or false")
        return cls(tiles, tuple(order), pins, spotlight, show_map)

    def to_json(self) -> dict[str, Any]:
        return {"tiles": self.tiles, "order": list(self.order), "pins": dict(self.pins),
                "spotlight": self.spotlight, "map": self.map}


def _unit(value: object, name: str) -> str:
    if not isinstance(value, str) or not _UNIT_RE.fullmatch(value):
        raise WallLayoutError(f"{name} must be a tile key '<participant id>:<source>'")
    return value


def _units(value: object, name: str) -> list[str]:
    if not isinstance(value, list):
        raise WallLayoutError(f"'{name}' must be a list")
    if len(value) > MAX_UNITS:
        raise WallLayoutError(f"'{name}' has more than {MAX_UNITS} entries")
    return [_unit(item, f"'{name}' entry") for item in value]


def _pins(value: object) -> dict[str, int]:
    if not isinstance(value, dict):
        raise WallLayoutError("'pins' must be an object of tile key -> slot")
    if len(value) > MAX_SLOT + 1:
        raise WallLayoutError(f"'pins' has more than {MAX_SLOT + 1} entries")
    pins: dict[str, int] = {}
    for key, slot in value.items():
        _unit(key, "'pins' key")
        if not isinstance(slot, int) or isinstance(slot, bool) or not 0 <= slot <= MAX_SLOT:
            raise WallLayoutError(f"'pins' slot of {key!r} must be an integer 0..{MAX_SLOT}")
        pins[key] = slot
    if len(set(pins.values())) != len(pins):
        raise WallLayoutError("two tiles are pinned to the same slot")
    return pins
