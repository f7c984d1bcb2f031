"""Checks of request fields: each raises 400 bad_request naming the field and the limit."""

from __future__ import annotations

import math
from typing import Any

from dispatch.config import DispatchConfig
from dispatch.ids import PHOTO_ID_RE, check_foreign
from signaling.errors import SignalingError


def bad(message: str) -> SignalingError:
    return SignalingError("bad_request", message)


def text(body: dict[str, Any], name: str, limit: int, required: bool = False,
         default: str = "") -> str:
    value = body.get(name)
    if value is None:
        if required:
            raise bad(f"'{name}' is required")
        return default
    if not isinstance(value, str):
        raise bad(f"'{name}' must be a string")
    value = value.strip()
    if required and not value:
        raise bad(f"'{name}' must not be empty")
    if len(value) > limit:
        raise bad(f"'{name}' is {len(value)} characters, the limit is {limit}")
    return value


def integer(body: dict[str, Any], name: str, lo: int, hi: int, default: int | None = None,
            required: bool = False) -> int | None:
    value = body.get(name)
    if value is None:
        if required:
            raise bad(f"'{name}' is required")
        return default
    if not isinstance(value, int) or isinstance(value, bool) or not lo <= value <= hi:
        raise bad(f"'{name}' must be an integer from {lo} to {hi}")
    return value


def number(body: dict[str, Any], name: str, lo: float, hi: float) -> float | None:
    value = body.get(name)
    if value is None:
        return None
    if not isinstance(value, (int, float)) or isinstance(value, bool) \
            or not math.isfinite(value) or not lo <= value <= hi:
        raise bad(f"'{name}' must be a number from {lo:g} to {hi:g}")
    return float(value)


def choice(body: dict[str, Any], name: str, allowed: tuple[str, ...],
           default: str | None = None) -> str:
    value = body.get(name, default)
    if value not in allowed:
        raise bad(f"'{name}' must be one of {', '.join(allowed)}")
    return str(value)


def location(body: dict[str, Any], name: str = "location") -> dict[str, float] | None:
    value = body.get(name)
    if value is None:
        return None
    if not isinstance(value, dict):
        raise bad(f"'{name}' must be an object {{lat, lon, accuracy_m?}}")
    lat = number(value, "lat", -90, 90)
    lon = number(value, "lon", -180, 180)
    if lat is None or lon is None:
        raise bad(f"'{name}' needs lat (-90..90) and lon (-180..180)")
    result = {"lat": lat, "lon": lon}
    accuracy = number(value, "accuracy_m", 0, 1e7)
    if accuracy is not None:
        result["accuracy_m"] = accuracy
    return result


def photo_ids(body: dict[str, Any], config: DispatchConfig, name: str = "photos") -> list[str]:
    value = body.get(name, [])
    if not isinstance(value, list):
        raise bad(f"'{name}' must be a list of photo ids")
    if len(value) > config.max_photos_per_item:
        raise bad(f"'{name}' has {len(value)} photos, the limit is "
                  f"{config.max_photos_per_item} (dispatch.max_photos_per_item)")
    for item in value:
        if not isinstance(item, str) or not PHOTO_ID_RE.fullmatch(item):
            raise bad(f"'{name}' holds {str(item)[:80]!r}, which is not a photo id")
    return list(value)


def strings(body: dict[str, Any], name: str, count: int, chars: int) -> list[str]:
    value = body.get(name, [])
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise bad(f"'{name}' must be a list of strings")
    if len(value) > count:
        raise bad(f"'{name}' has {len(value)} entries, the limit is {count}")
    for item in value:
        if len(item) > chars:
            raise bad(f"an entry of '{name}' is longer than {chars} characters")
    return list(value)


def refs(body: dict[str, Any], name: str, id_field: str, limit: int) -> list[dict[str, str]]:
    """A list of {room_id, <id_field>} references to other packages' things."""
    value = body.get(name, [])
    if not isinstance(value, list) or len(value) > limit:
        raise bad(f"'{name}' must be a list of at most {limit} {{room_id, {id_field}}}")
    out = []
    for item in value:
        if not isinstance(item, dict):
            raise bad(f"'{name}' entries must be objects {{room_id, {id_field}}}")
        out.append({"room_id": check_foreign(item.get("room_id"), f"{name}[].room_id"),
                    id_field: check_foreign(item.get(id_field), f"{name}[].{id_field}")})
    return out


def allowed_fields(body: dict[str, Any], allowed: set[str]) -> None:
    unknown = sorted(set(body) - allowed - {"client_id", "expected_version"})
    if unknown:
        raise bad(f"unknown field {unknown[0]!r}")
