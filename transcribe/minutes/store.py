"""Minutes of rooms in Redis, and the action-item stream dispatch reads.

- `cp:minutes:{room_id}` hash: `draft` (minutes JSON), `published` (minutes JSON, absent
  until published), `edited` ("1" once the host saved a draft by hand), `revision`
  (incremented on every write), `updated_at`, `updated_by`, `published_at`, `published_by`.
- `cp:minutes:action_items` stream: one entry per action item each time minutes are
  published (fields: room_id, item_id, revision, owner (name as in the minutes), task (JSON
  body for POST /api/dispatch/tasks, without assignee), item (JSON)). Trimmed to exactly
  `transcribe.minutes_stream_maxlen` entries.

Room ids reaching here were checked by `signaling.rooms.check_room_id`."""

from __future__ import annotations

import json
import time
from typing import Any

import redis.asyncio as aioredis

from transcribe.minutes.handoff import action_item_to_task

ACTION_STREAM = "cp:minutes:action_items"


def minutes_key(room_id: str) -> str:
    return f"cp:minutes:{room_id}"


class MinutesStore:
    def __init__(self, redis: aioredis.Redis) -> None:
        self.redis = redis

    async def get(self, room_id: str) -> dict[str, str]:
        raw = await self.redis.hgetall(minutes_key(room_id))
        return {_s(k): _s(v) for k, v in raw.items()}

    async def save_draft(self, room_id: str, minutes: dict[str, Any], by: str,
                         edited: bool) -> int:
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.hincrby(minutes_key(room_id), "revision", 1)
            pipe.hset(minutes_key(room_id), mapping={
                "draft": json.dumps(minutes, ensure_ascii=False), "edited": "1" if edited else "0",
                "updated_at": f"{time.time():.3f}", "updated_by": by})
            revision, _ = await pipe.execute()
        return int(revision)

    async def save_generated(self, room_id: str, minutes: dict[str, Any]) -> bool:
        """Store automatic minutes unless the host has edited the draft (theirs wins)."""
        current = await self.get(room_id)
        if current.get("edited") == "1":
            return False
        await self.save_draft(room_id, minutes, "system", edited=False)
        return True

    async def publish(self, room_id: str, by: str, stream_maxlen: int) -> dict[str, Any] | None:
        """Copy the draft to `published` and queue its action items for dispatch."""
        current = await self.get(room_id)
        if "draft" not in current:
            return None
        minutes = json.loads(current["draft"])
        now = time.time()
        minutes["published_at"] = now
        revision = int(current.get("revision", "0"))
        ref = {"room_id": room_id, "revision": revision, "url": f"/minutes/{room_id}"}
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.hset(minutes_key(room_id), mapping={
                "published": json.dumps(minutes, ensure_ascii=False),
                "published_at": f"{now:.3f}", "published_by": by})
            for item in minutes.get("action_items", []):
                pipe.xadd(ACTION_STREAM, {
                    "room_id": room_id, "item_id": str(item.get("id", "")),
                    "revision": str(revision), "owner": str(item.get("owner") or ""),
                    "task": json.dumps(action_item_to_task(item, room_id, ref),
                                       ensure_ascii=False),
                    "item": json.dumps(item, ensure_ascii=False)},
                    maxlen=stream_maxlen, approximate=False)
            await pipe.execute()
        return minutes


def _s(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)
