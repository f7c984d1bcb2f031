"""Every dispatch write carries a client id; its answer is kept, so a retry gets the same
answer and never makes a second entity. Keys hash (actor, client id): no user text in them."""

from __future__ import annotations

import asyncio
import hashlib
import json
from collections.abc import Awaitable, Callable
from typing import Any

import redis.asyncio as aioredis

from dispatch import keys
from dispatch.ids import CLIENT_ID_RE
from signaling.errors import SignalingError

PENDING_TTL_MS = 30_000
WAIT_STEP_S = 0.05
Work = Callable[[], Awaitable[tuple[int, Any]]]


def client_id_of(header: str | None, body: dict[str, Any] | None) -> str:
    body_id = (body or {}).get("client_id")
    if header is not None and body_id is not None and header != body_id:
        raise SignalingError("bad_request", "Idempotency-Key and client_id differ")
    value = header if header is not None else body_id
    if value is None:
        raise SignalingError("bad_request", "every dispatch write needs a client_id (body) or "
                             "an Idempotency-Key header, 8-64 of [A-Za-z0-9_-]")
    if not isinstance(value, str) or not CLIENT_ID_RE.fullmatch(value):
        raise SignalingError("bad_request", "client_id must be 8-64 of [A-Za-z0-9_-]")
    return value


class Idempotency:
    def __init__(self, client: aioredis.Redis, ttl_s: int) -> None:
        self.redis = client
        self.ttl_s = ttl_s

    async def run(self, actor: str, client_id: str, fingerprint: str, work: Work
                  ) -> tuple[int, Any, bool]:
        """(status, body, replayed). Runs `work` once per (actor, client_id)."""
        key = keys.idempotency(hashlib.sha256(f"{actor}\0{client_id}".encode()).hexdigest())
        pending = json.dumps({"fp": fingerprint, "pending": True})
        while not await self.redis.set(key, pending, nx=True, px=PENDING_TTL_MS):
            raw = await self.redis.get(key)
            if raw is None:
                continue  # the first attempt failed and let go: try to run it ourselves
            record = json.loads(raw)
            if record["fp"] != fingerprint:
                raise SignalingError("conflict", f"client_id {client_id!r} was already used "
                                     "for a different request")
            if not record.get("pending"):
                return record["status"], record["body"], True
            await asyncio.sleep(WAIT_STEP_S)
        try:
            status, body = await work()
        except BaseException:
            await self.redis.delete(key)  # refused writes are not remembered
            raise
        await self.redis.set(key, json.dumps({"fp": fingerprint, "status": status,
                                              "body": body}, ensure_ascii=False),
                             ex=self.ttl_s)
        return status, body, False


def fingerprint(method: str, path: str, body: bytes) -> str:
    digest = hashlib.sha256(f"{method} {path}\0".encode())
    digest.update(body)
    return digest.hexdigest()
