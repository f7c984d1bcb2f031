"""Transcription jobs: one entry per room in the `cp:tr:jobs` stream, consumer group
`transcribers`. A worker keeps its claim alive by re-claiming its own entries (XCLAIM resets
their idle time); entries idle longer than `claim_idle_s` belong to a dead worker and are
taken over with XAUTOCLAIM. A finished job is acknowledged and deleted."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import redis.asyncio as aioredis
from redis.exceptions import ResponseError

from transcribe import keys
from transcribe.store import now_ms


@dataclass(frozen=True)
class Job:
    entry_id: str
    room_id: str


class JobQueue:
    def __init__(self, redis: aioredis.Redis) -> None:
        self.redis = redis

    async def ensure_group(self) -> None:
        try:
            await self.redis.xgroup_create(keys.JOBS, keys.GROUP, id="0", mkstream=True)
        except ResponseError as exc:
            if "BUSYGROUP" not in str(exc):
                raise

    async def enqueue(self, room_id: str) -> bool:
        """Queue a job for `room_id` unless one is queued or running; True if queued now."""
        if not await self.redis.set(keys.job(room_id), "pending", nx=True):
            return False
        entry = await self.redis.xadd(keys.JOBS, {"room_id": room_id,
                                                  "requested_at": now_ms()})
        await self.redis.set(keys.job(room_id), entry)
        return True

    async def take(self, consumer: str, claim_idle_s: float, block_ms: int) -> Job | None:
        """A job abandoned by a dead worker, else a new one (waiting up to `block_ms`)."""
        idle_ms = int(claim_idle_s * 1000)
        result = await self.redis.xautoclaim(keys.JOBS, keys.GROUP, consumer, idle_ms,
                                             start_id="0-0", count=1)
        claimed = result[1] if len(result) > 1 else []
        for entry_id, fields in claimed:
            if fields:
                return _job(entry_id, fields)
        streams = await self.redis.xreadgroup(keys.GROUP, consumer, {keys.JOBS: ">"},
                                              count=1, block=block_ms)
        for _, entries in streams or []:
            for entry_id, fields in entries:
                return _job(entry_id, fields)
        return None

    async def renew(self, consumer: str, entry_ids: list[str]) -> list[str]:
        """Reset the idle time of our entries; returns those still ours (another worker
        may have taken one over after a long stall)."""
        if not entry_ids:
            return []
        mine = []
        for entry_id in entry_ids:
            pending = await self.redis.xpending_range(keys.JOBS, keys.GROUP, entry_id,
                                                      entry_id, 1)
            if pending and _s(pending[0]["consumer"]) == consumer:
                await self.redis.xclaim(keys.JOBS, keys.GROUP, consumer, 0, [entry_id],
                                        justid=True)
                mine.append(entry_id)
        return mine

    async def finish(self, job: Job) -> None:
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.xack(keys.JOBS, keys.GROUP, job.entry_id)
            pipe.xdel(keys.JOBS, job.entry_id)
            await pipe.execute()
        # Only drop the room's marker if it still names this job (a new one may be queued).
        current = await self.redis.get(keys.job(job.room_id))
        if current is not None and _s(current) == job.entry_id:
            await self.redis.delete(keys.job(job.room_id))


    async def hand_back(self, job: Job) -> None:
        """A worker shutting down queues its running job again as a new entry."""
        entry = await self.redis.xadd(keys.JOBS, {"room_id": job.room_id,
                                                  "requested_at": now_ms()})
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.set(keys.job(job.room_id), entry)
            pipe.xack(keys.JOBS, keys.GROUP, job.entry_id)
            pipe.xdel(keys.JOBS, job.entry_id)
            await pipe.execute()


def _job(entry_id: Any, fields: dict[Any, Any]) -> Job:
    data = {_s(k): _s(v) for k, v in fields.items()}
    return Job(entry_id=_s(entry_id), room_id=data.get("room_id", ""))


def _s(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)
