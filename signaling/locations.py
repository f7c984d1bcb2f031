"""Field positions: the `location` message's values, checked, and the latest one per participant.

`cp:room:{room_id}:locations` is a hash participant id -> location JSON. An entry is deleted
with its participant (signaling.store.Store.remove_participant), and the whole hash expires
`LOCATIONS_TTL_S` after the room's last position, so a room nobody reports in leaves nothing.
"""

from __future__ import annotations

import json
import math
import time
from dataclasses import asdict, dataclass
from typing import Any

import redis.asyncio as aioredis

from signaling.errors import SignalingError
from signaling.store import locations_key

MAX_ACCURACY_M = 1_000_000.0  # beyond this a fix says nothing about where someone is
MAX_SPEED_MPS = 1_000.0  # faster than any vehicle that streams from a phone
LOCATIONS_TTL_S = 86400


@dataclass(frozen=True)
class Location:
    participant_id: str
    name: str
    lat: float
    lon: float
    accuracy_m: float | None
    heading: float | None
    speed_mps: float | None
    ts: float

    def to_json(self) -> dict[str, Any]:
        """One entry of `locations` (joined, REST); the `location` message adds its type."""
        return asdict(self)

    def message(self) -> dict[str, Any]:
        return {"type": "location", **asdict(self)}

    @classmethod
    def from_json(cls, text: str) -> Location:
        data = json.loads(text)
        return cls(**{k: data.get(k) for k in cls.__dataclass_fields__})


def check_number(value: object, name: str, lo: float, hi: float, what: str,
                 hi_open: bool = False) -> float:
    """A finite number within [lo, hi] (or [lo, hi)); SignalingError bad_message otherwise."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise SignalingError("bad_message", f"{what}: {name!r} must be a finite number")
    if value < lo or value > hi or (hi_open and value == hi):
        upper = f"{hi:g}" + (" (exclusive)" if hi_open else "")
        raise SignalingError("bad_message",
                             f"{what}: {name!r} must be between {lo:g} and {upper}, got {value!r}")
    return float(value)


def _number(msg: dict[str, Any], name: str, lo: float, hi: float, required: bool,
            hi_open: bool = False) -> float | None:
    value = msg.get(name)
    if value is None:
        if required:
            raise SignalingError("bad_message", f"location: missing field {name!r}")
        return None
    return check_number(value, name, lo, hi, "location", hi_open)


def parse_location(msg: dict[str, Any], participant_id: str, name: str,
                   now: float | None = None) -> Location:
    """Check a `location` message's values; SignalingError bad_message names the bad field."""
    return Location(
        participant_id=participant_id, name=name,
        lat=_number(msg, "lat", -90.0, 90.0, True),  # type: ignore[arg-type]
        lon=_number(msg, "lon", -180.0, 180.0, True),  # type: ignore[arg-type]
        accuracy_m=_number(msg, "accuracy_m", 0.0, MAX_ACCURACY_M, False),
        heading=_number(msg, "heading", 0.0, 360.0, False, hi_open=True),
        speed_mps=_number(msg, "speed_mps", 0.0, MAX_SPEED_MPS, False),
        ts=round(time.time() if now is None else now, 3))


class LocationStore:
    """The latest location of each participant of a room, in Redis."""

    def __init__(self, client: aioredis.Redis) -> None:
        self.redis = client

    async def put(self, room_id: str, location: Location) -> None:
        key = locations_key(room_id)
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.hset(key, location.participant_id, json.dumps(location.to_json()))
            pipe.expire(key, LOCATIONS_TTL_S)
            await pipe.execute()

    async def list(self, room_id: str) -> list[Location]:
        values = await self.redis.hvals(locations_key(room_id))
        return sorted((Location.from_json(v) for v in values), key=lambda loc: loc.ts)
