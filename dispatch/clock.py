"""The dispatch clock: wall time, plus an offset kept in Redis when `dispatch.test_clock` is
on, so tests (and the browser tests) can move time for every node at once."""

from __future__ import annotations

import time

import redis.asyncio as aioredis

from dispatch import keys
from signaling.errors import SignalingError


class Clock:
    def __init__(self, client: aioredis.Redis, test_clock: bool) -> None:
        self.redis = client
        self.test_clock = test_clock

    async def offset(self) -> float:
        if not self.test_clock:
            return 0.0
        raw = await self.redis.get(keys.CLOCK_OFFSET)
        return float(raw) if raw else 0.0

    async def now(self) -> float:
        return time.time() + await self.offset()

    async def set_offset(self, offset_s: float) -> float:
        if not self.test_clock:
            raise SignalingError("forbidden", "the dispatch clock can only be moved with "
                                 "dispatch.test_clock = true")
        await self.redis.set(keys.CLOCK_OFFSET, repr(float(offset_s)))
        return offset_s
