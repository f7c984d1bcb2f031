"""Minutes at the end of a meeting: when a room closes on this node, wait for its
transcriber job to end (the worker flushes the last utterances and leaves up to
`transcribe.idle_stop_s` later), then make the draft minutes from the stored transcript.

A draft the host already edited is kept (MinutesStore.save_generated). The waiting tasks
belong to a `MinutesScheduler` held in `node.extension_state`, cancelled when the node stops."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

from transcribe import keys
from transcribe.minutes.build import Options, build_minutes
from transcribe.minutes.rules import RuleBook
from transcribe.minutes.source import room_transcript
from transcribe.minutes.store import MinutesStore

if TYPE_CHECKING:
    from signaling.node import Node
    from signaling.room import Room

log = logging.getLogger(__name__)
STATE_KEY = "transcribe.minutes"
POLL_S = 1.0
RUNNING = ("queued", "running", "starting")


class MinutesScheduler:
    def __init__(self, node: Node) -> None:
        self.node = node
        self.rules = RuleBook()
        self.executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="minutes-end")
        self.tasks: dict[str, asyncio.Task[None]] = {}

    def room_closed(self, room_id: str, room_name: str) -> None:
        old = self.tasks.pop(room_id, None)
        if old is not None:
            old.cancel()
        task = asyncio.create_task(self._after_meeting(room_id, room_name),
                                   name=f"minutes-{room_id}")
        self.tasks[room_id] = task
        task.add_done_callback(lambda t: self.tasks.pop(room_id, None)
                               if self.tasks.get(room_id) is t else None)

    async def _after_meeting(self, room_id: str, room_name: str) -> None:
        redis = self.node.services.store.redis
        tc = self.node.services.config.transcribe
        try:
            await self._wait_for_job(redis, room_id, tc.minutes_wait_s)
            transcript = await room_transcript(redis, room_id, room_name, tc.lang)
            if not transcript.segments:
                return
            options = Options(pause_ms=tc.minutes_pause_ms)
            loop = asyncio.get_running_loop()
            minutes = await loop.run_in_executor(
                self.executor, lambda: build_minutes(
                    transcript, self.rules.get(transcript.language), options))
            if await MinutesStore(redis).save_generated(room_id, minutes):
                log.info("room %s: draft minutes made (%d decisions, %d action items)",
                         room_id, len(minutes["decisions"]), len(minutes["action_items"]))
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("room %s: minutes at meeting end failed", room_id)

    async def _wait_for_job(self, redis: Any, room_id: str, limit_s: float) -> None:
        deadline = time.monotonic() + limit_s
        while time.monotonic() < deadline:
            status = await redis.hget(keys.meta(room_id), "status")
            status = status.decode() if isinstance(status, bytes) else status
            if status not in RUNNING and not await redis.exists(keys.job(room_id)):
                return
            await asyncio.sleep(POLL_S)

    async def stop(self) -> None:
        tasks = list(self.tasks.values())
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self.executor.shutdown(wait=False, cancel_futures=True)


def scheduler(node: Node) -> MinutesScheduler:
    found = node.extension_state.get(STATE_KEY)
    if not isinstance(found, MinutesScheduler):
        found = node.extension_state[STATE_KEY] = MinutesScheduler(node)
    return found


async def room_closed(node: Node, room: Room) -> None:
    record = await node.services.store.get_room(room.room_id)
    scheduler(node).room_closed(room.room_id, record.name if record else "")


async def node_stopping(node: Node) -> None:
    found = node.extension_state.pop(STATE_KEY, None)
    if isinstance(found, MinutesScheduler):
        await found.stop()


Hook = Callable[..., Awaitable[None]]


def also(first: Hook, then: Hook) -> Hook:
    """One extension hook running two (the live transcript's, then the minutes')."""
    async def both(*args: Any) -> None:
        try:
            await first(*args)
        finally:
            await then(*args)
    return both
