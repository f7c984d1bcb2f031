"""Photos of incidents, feedback and progress reports: bytes in Redis (so every node serves
every photo and AOF keeps them), checked by their first bytes, bounded in size."""

from __future__ import annotations

from typing import Any

import redis.asyncio as aioredis

from dispatch import keys
from dispatch.ids import PHOTO_ID_RE, new_photo_id
from dispatch.service import Dispatch
from signaling.errors import SignalingError

TYPES = {b"\xff\xd8\xff": "image/jpeg", b"\x89PNG\r\n\x1a\n": "image/png"}


def photo_json(photo_id: str) -> dict[str, str]:
    return {"photo_id": photo_id, "url": f"/api/dispatch/photos/{photo_id}"}


def sniff(data: bytes) -> str:
    for magic, kind in TYPES.items():
        if data.startswith(magic):
            return kind
    raise SignalingError("unsupported_media_type", "a photo must be a JPEG or PNG image "
                         f"(it starts with {data[:8].hex() or 'nothing'})")


async def save(binary: aioredis.Redis, data: bytes) -> dict[str, Any]:
    kind = sniff(data)
    photo_id = new_photo_id()
    await binary.hset(keys.photo(photo_id), mapping={"type": kind, "data": data})
    return photo_json(photo_id) | {"bytes": len(data), "type": kind}


async def load(binary: aioredis.Redis, photo_id: str) -> tuple[str, bytes]:
    if PHOTO_ID_RE.fullmatch(photo_id):
        found = await binary.hmget(keys.photo(photo_id), ["type", "data"])
        if found[0] is not None and found[1] is not None:
            return found[0].decode(), bytes(found[1])
    raise SignalingError("not_found", f"no photo {photo_id[:80]!r}", what="photo")


async def check_photos(svc: Dispatch, photo_ids: list[str]) -> list[str]:
    """The ids, if every photo exists (404 naming the first that does not)."""
    if not photo_ids:
        return []
    pipe = svc.redis.pipeline(transaction=False)
    for photo_id in photo_ids:
        pipe.exists(keys.photo(photo_id))
    for photo_id, exists in zip(photo_ids, await pipe.execute()):
        if not exists:
            raise SignalingError("not_found", f"no photo {photo_id!r}", what="photo")
    return photo_ids
