"""Transcripts in Redis: settings, meeting meta, final segments, attendance, search postings.

Key layout: transcribe/keys.py and docs/ARCHITECTURE.md "Transcriber". Every segment is
written in one MULTI block (hash + order + postings), so a reader never sees half of one and
a worker killed afterwards loses nothing of it."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any

import redis.asyncio as aioredis

from transcribe import keys

Segment = dict[str, Any]


def now_ms() -> int:
    return int(time.time() * 1000)


@dataclass(frozen=True)
class RoomSettings:
    enabled: bool
    lang: str
    phrases: tuple[str, ...]


class TranscriptStore:
    def __init__(self, redis: aioredis.Redis) -> None:
        self.redis = redis

    # settings and meta
    async def settings(self, room_id: str, default_lang: str,
                       default_phrases: tuple[str, ...]) -> RoomSettings | None:
        """The room's settings, or None when they were never set."""
        raw = await self.redis.hgetall(keys.settings(room_id))
        if not raw:
            return None
        data = {_s(k): _s(v) for k, v in raw.items()}
        phrases = tuple(json.loads(data["phrases"])) if data.get("phrases") else default_phrases
        return RoomSettings(enabled=data.get("enabled") == "1",
                            lang=data.get("lang") or default_lang, phrases=phrases)

    async def put_settings(self, room_id: str, enabled: bool, lang: str | None,
                           phrases: list[str] | None) -> None:
        fields: dict[str, str] = {"enabled": "1" if enabled else "0"}
        if lang is not None:
            fields["lang"] = lang
        if phrases is not None:
            fields["phrases"] = json.dumps(phrases, ensure_ascii=False)
        await self.redis.hset(keys.settings(room_id), mapping=fields)

    async def meta(self, room_id: str) -> dict[str, str]:
        raw = await self.redis.hgetall(keys.meta(room_id))
        return {_s(k): _s(v) for k, v in raw.items()}

    async def mark_started(self, room_id: str, at_ms: int | None = None) -> int:
        """Set the meeting start once (first transcription or room open); returns it."""
        at = now_ms() if at_ms is None else at_ms
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.hsetnx(keys.meta(room_id), "started_at_ms", at)
            pipe.hget(keys.meta(room_id), "started_at_ms")
            _, started = await pipe.execute()
        started_ms = int(_s(started))
        await self.redis.zadd(keys.MEETINGS, {room_id: started_ms}, nx=True)
        return started_ms

    async def set_status(self, room_id: str, status: str, **extra: str | int) -> None:
        await self.redis.hset(keys.meta(room_id), mapping={"status": status, **extra})

    # segments
    async def add_segment(self, segment: Segment, tokens: list[str]) -> None:
        room_id, seg_id = segment["room_id"], segment["id"]
        posting = f"{room_id}/{seg_id}"
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.hset(keys.segments(room_id), seg_id, json.dumps(segment, ensure_ascii=False))
            pipe.zadd(keys.order(room_id), {seg_id: segment["start_at_ms"]})
            for token in tokens:
                pipe.zadd(keys.index(token), {posting: segment["start_at_ms"]})
            await pipe.execute()

    async def segments(self, room_id: str) -> list[Segment]:
        """The room's final segments in time order."""
        ids = await self.redis.zrange(keys.order(room_id), 0, -1)
        if not ids:
            return []
        raw = await self.redis.hmget(keys.segments(room_id), ids)
        return [json.loads(item) for item in raw if item is not None]

    async def segments_by_posting(self, postings: list[str]) -> list[Segment]:
        """Segments named `{room_id}/{segment_id}` (search hits), skipping vanished ones."""
        async with self.redis.pipeline(transaction=False) as pipe:
            for posting in postings:
                room_id, _, seg_id = posting.partition("/")
                pipe.hget(keys.segments(room_id), seg_id)
            raw = await pipe.execute()
        return [json.loads(item) for item in raw if item is not None]

    async def postings(self, token: str) -> list[str]:
        return [_s(m) for m in await self.redis.zrange(keys.index(token), 0, -1)]

    # attendance
    async def attendee_joined(self, room_id: str, participant_id: str, name: str,
                              at_ms: int | None = None) -> bool:
        """Record a join unless the participant is already present (a resume); True if new."""
        at = now_ms() if at_ms is None else at_ms
        if not await self.redis.hsetnx(keys.attending(room_id), participant_id, at):
            return False
        await self.redis.rpush(keys.attendance(room_id), json.dumps(
            {"participant_id": participant_id, "name": name, "event": "join", "at_ms": at},
            ensure_ascii=False))
        return True

    async def attendee_left(self, room_id: str, participant_id: str, name: str,
                            at_ms: int | None = None) -> None:
        at = now_ms() if at_ms is None else at_ms
        if not await self.redis.hdel(keys.attending(room_id), participant_id):
            return
        await self.redis.rpush(keys.attendance(room_id), json.dumps(
            {"participant_id": participant_id, "name": name, "event": "leave", "at_ms": at},
            ensure_ascii=False))

    async def attendance(self, room_id: str) -> list[dict[str, Any]]:
        return [json.loads(x) for x in await self.redis.lrange(keys.attendance(room_id), 0, -1)]

    # captions
    async def publish_caption(self, room_id: str, caption: dict[str, Any]) -> None:
        await self.redis.publish(keys.captions(room_id), json.dumps(caption, ensure_ascii=False))


def _s(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)
