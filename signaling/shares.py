"""Share codes: short random strings in join links that map to a room and guest grants.

`cp:share:{code}` holds JSON {room_id, grants, expires_at} and expires with Redis TTL at the
same instant; `cp:room:{room_id}:shares` lists a room's codes so a host can see and revoke
them. Revoking deletes the code: people already in the room stay, new joins are refused.
"""

from __future__ import annotations

import json
import re
import secrets
import string
import time
from collections.abc import Iterable
from dataclasses import dataclass

import redis.asyncio as aioredis

from signaling.errors import SignalingError
from signaling.store import PREFIX
from signaling.tokens import TokenError, parse_grants

CODE_LENGTH = 10
_ALPHABET = string.ascii_letters + string.digits
_CODE_RE = re.compile(r"[A-Za-z0-9_-]{4,64}")


def share_key(code: str) -> str:
    return f"{PREFIX}share:{code}"


def room_shares_key(room_id: str) -> str:
    return f"{PREFIX}room:{room_id}:shares"


@dataclass(frozen=True)
class Share:
    code: str
    room_id: str
    grants: frozenset[str]
    expires_at: float

    def to_json(self) -> dict[str, object]:
        return {"code": self.code, "room_id": self.room_id, "grants": sorted(self.grants),
                "expires_at": self.expires_at}


def new_code() -> str:
    """~59 bits of randomness: unguessable, yet short enough to read out over the phone."""
    return "".join(secrets.choice(_ALPHABET) for _ in range(CODE_LENGTH))


class ShareStore:
    def __init__(self, client: aioredis.Redis) -> None:
        self.redis = client

    async def create(self, room_id: str, grants: Iterable[str], ttl_s: float) -> Share:
        if ttl_s <= 0:
            raise ValueError(f"share ttl must be positive, got {ttl_s}")
        share = Share(new_code(), room_id, parse_grants(grants), round(time.time() + ttl_s, 3))
        body = json.dumps({"room_id": room_id, "grants": sorted(share.grants),
                           "expires_at": share.expires_at})
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.set(share_key(share.code), body, pxat=int(share.expires_at * 1000))
            pipe.sadd(room_shares_key(room_id), share.code)
            await pipe.execute()
        return share

    async def resolve(self, code: object) -> Share:
        """The live share for `code`; TokenError if it is malformed, unknown, revoked or expired."""
        if not isinstance(code, str) or not _CODE_RE.fullmatch(code):
            raise TokenError("auth_failed", "malformed share code")
        body = await self.redis.get(share_key(code))
        if body is None:
            raise TokenError("auth_failed", "share code is unknown, expired or revoked")
        data = json.loads(body)
        if data["expires_at"] <= time.time():
            raise TokenError("token_expired", "share code has expired")
        return Share(code, data["room_id"], parse_grants(data["grants"]), data["expires_at"])

    async def revoke(self, room_id: str, code: str) -> None:
        """Delete a share of `room_id`; SignalingError unknown_share if it is not one."""
        if not isinstance(code, str) or not _CODE_RE.fullmatch(code):
            raise SignalingError("unknown_share", "malformed share code")
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.srem(room_shares_key(room_id), code)
            pipe.get(share_key(code))
            _, body = await pipe.execute()
        if body is None or json.loads(body)["room_id"] != room_id:
            raise SignalingError("unknown_share", f"room has no live share {code!r}")
        await self.redis.delete(share_key(code))

    async def list(self, room_id: str) -> list[Share]:
        """Live shares of a room; forgets codes that expired."""
        codes = sorted(await self.redis.smembers(room_shares_key(room_id)))
        shares = []
        for code in codes:
            try:
                shares.append(await self.resolve(code))
            except TokenError:
                await self.redis.srem(room_shares_key(room_id), code)
        return shares
