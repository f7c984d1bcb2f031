"""Node side of live captions and transcription jobs.

Every node listens on `cp:tr:captions:*` and relays a caption to the participants of the
room if that room lives on this node (`room.broadcast`), so captions work whichever node or
worker produced them. Rooms that should be transcribed get a job when they open; every
visible participant's join and leave is recorded for the minutes."""

from __future__ import annotations

import asyncio
import json
import logging
from typing import TYPE_CHECKING, Any

from transcribe import keys
from transcribe.store import TranscriptStore, now_ms
from transcribe.switch import enabled_for, start_job, tell_member

if TYPE_CHECKING:
    from signaling.node import Node
    from signaling.participant import Member
    from signaling.room import Room

log = logging.getLogger(__name__)
STATE = "transcribe"
RETRY_S = 1.0
# Message types the captions channel carries to a room's participants.
RELAYED = ("caption", "transcription")


class CaptionRelay:
    def __init__(self, node: Node) -> None:
        self.node = node
        self.relayed = 0
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)

    async def _run(self) -> None:
        while True:
            try:
                await self._listen()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("caption relay lost its subscription; retrying")
                await asyncio.sleep(RETRY_S)

    async def _listen(self) -> None:
        pubsub = self.node.services.store.redis.pubsub()
        try:
            await pubsub.psubscribe(keys.CAPTIONS_PATTERN)
            async for message in pubsub.listen():
                if message.get("type") == "pmessage":
                    self._relay(_text(message["channel"]), _text(message["data"]))
        finally:
            await pubsub.aclose()

    def _relay(self, channel: str, data: str) -> None:
        room = self.node.rooms.get(keys.room_of_captions(channel))
        if room is None or room.closed:
            return  # another node hosts it
        try:
            caption = json.loads(data)
        except ValueError:
            log.warning("dropping a caption that is not JSON on %s", channel)
            return
        if isinstance(caption, dict) and caption.get("type") in RELAYED:
            room.broadcast(caption)
            self.relayed += 1


async def node_started(node: Node) -> None:
    relay = CaptionRelay(node)
    relay.start()
    node.extension_state[STATE] = relay


async def node_stopping(node: Node) -> None:
    relay = node.extension_state.pop(STATE, None)
    if relay is not None:
        await relay.stop()


async def room_opened(node: Node, room: Room) -> None:
    """Queue a job when the room (its setting, else `transcribe.auto_start`) wants one."""
    store = TranscriptStore(node.services.store.redis)
    if await enabled_for(store, room):
        await start_job(store, room.room_id)


async def room_closed(node: Node, room: Room) -> None:
    store = TranscriptStore(node.services.store.redis)
    if await store.redis.exists(keys.meta(room.room_id)):
        await store.redis.hset(keys.meta(room.room_id), "room_closed_at_ms",
                               str(now_ms()))


async def member_joined(room: Room, member: Member) -> None:
    if member.visible:
        store = TranscriptStore(room.services.store.redis)
        await store.attendee_joined(room.room_id, member.id, member.record.name)
        await tell_member(room, member)


async def member_left(room: Room, member: Member, reason: str) -> None:
    if not member.record.hidden:
        store = TranscriptStore(room.services.store.redis)
        await store.attendee_left(room.room_id, member.id, member.record.name)


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)
