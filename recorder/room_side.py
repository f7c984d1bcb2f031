"""The recorder on each serving node: tells rooms their recording state, starts
recordings by itself (auto-record rooms, feeds always-on), and takes WS start/stop.

Recording state changes come from any process (REST on any node, the worker on any
machine) through the Redis channel `cp:rec:events`; the node that hosts the room relays
each as a `recording` message to its members. A member who joins later gets the current
state from `on_member_join`.
"""

from __future__ import annotations

import asyncio
import json
import logging
from typing import TYPE_CHECKING, Any

from recorder.store import EVENTS, RecordingStore, recording_message
from signaling.errors import SignalingError

if TYPE_CHECKING:
    from signaling.extensions import WsContext
    from signaling.node import Node
    from signaling.participant import Member
    from signaling.room import Room

log = logging.getLogger(__name__)
NAME = "recorder"
FEED_CHECK_S = 2.0
RELAY_RETRY_S = 1.0


class NodeRecorder:
    """The recorder's per-node state (kept in `node.extension_state["recorder"]`)."""

    def __init__(self, node: Node) -> None:
        self.node = node
        self.store = RecordingStore(node.services.store.redis)
        self.config = node.services.config.recorder
        self._tasks: list[asyncio.Task[None]] = []

    def start(self) -> None:
        self._tasks.append(asyncio.create_task(self._relay_loop(), name="recorder relay"))
        if self.config.record_feeds:
            self._tasks.append(asyncio.create_task(self._feeds_loop(), name="recorder feeds"))

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        if self._tasks:
            await asyncio.wait(self._tasks, timeout=5)

    async def start_for(self, room_id: str, by: str) -> bool:
        """Start recording the room unless it already is; True if this started one."""
        recording, created = await self.store.create(room_id, by)
        if created:
            await self.store.audit(recording.recording_id, "started", by)
            await self.store.publish(recording)
        return created

    async def _relay_loop(self) -> None:
        while True:
            try:
                await self._relay()
            except asyncio.CancelledError:
                raise
            except Exception:  # noqa: BLE001 - Redis went away: listen again
                log.exception("recording event relay failed; reconnecting")
                await asyncio.sleep(RELAY_RETRY_S)

    async def _relay(self) -> None:
        pubsub = self.store.redis.pubsub(ignore_subscribe_messages=True)
        try:
            await pubsub.subscribe(EVENTS)
            async for message in pubsub.listen():
                if message.get("type") == "message":
                    self._deliver(message["data"])
        finally:
            await pubsub.aclose()

    def _deliver(self, raw: str) -> None:
        try:
            event = json.loads(raw)
            room = self.node.rooms.get(str(event["room_id"]))
            message = dict(event["message"])
        except (ValueError, KeyError, TypeError):
            return
        if room is not None and not room.closed:
            room.broadcast(message)

    async def _feeds_loop(self) -> None:
        """Feeds always-on: every room on this node with a feed is being recorded."""
        while True:
            await asyncio.sleep(FEED_CHECK_S)
            for room in list(self.node.rooms.values()):
                if room.closed or not _has_feed(room):
                    continue
                try:
                    if await self.store.active(room.room_id) is None:
                        await self.start_for(room.room_id, "auto (feed)")
                except Exception:  # noqa: BLE001 - try again next round
                    log.exception("could not start the feed recording of %s", room.room_id)


def _has_feed(room: Room) -> bool:
    return room.feeds.active or any(m.record.kind == "whip" for m in room.members.values())


def state_of(node: Node) -> NodeRecorder:
    return node.extension_state[NAME]  # type: ignore[no-any-return]


# Extension hooks
async def on_node_start(node: Node) -> None:
    recorder = NodeRecorder(node)
    node.extension_state[NAME] = recorder
    recorder.start()


async def on_node_stop(node: Node) -> None:
    recorder = node.extension_state.pop(NAME, None)
    if recorder is not None:
        await recorder.stop()


async def on_room_open(node: Node, room: Room) -> None:
    recorder = state_of(node)
    if await recorder.store.auto(room.room_id):
        await recorder.start_for(room.room_id, "auto (room setting)")


async def on_member_join(room: Room, member: Member) -> None:
    """Late joiners (and resumed ones) learn whether the room is being recorded."""
    if member.record.kind != "ws":
        return
    recording = await RecordingStore(room.services.store.redis).active(room.room_id)
    if recording is not None and recording.running:
        member.send(recording_message(recording))


# WS messages: the host's button (grant `record`)
async def ws_start(ctx: WsContext, message: dict[str, Any]) -> None:
    recorder = state_of(ctx.node)
    actor = f"{ctx.member.id} ({ctx.member.record.name})"
    if not await recorder.start_for(ctx.room.room_id, actor):
        raise SignalingError("conflict", "the room is already being recorded")


async def ws_stop(ctx: WsContext, message: dict[str, Any]) -> None:
    recorder = state_of(ctx.node)
    active = await recorder.store.active(ctx.room.room_id)
    actor = f"{ctx.member.id} ({ctx.member.record.name})"
    if active is None or not await recorder.store.request_stop(active.recording_id, actor):
        raise SignalingError("conflict", "the room is not being recorded")
    await recorder.store.audit(active.recording_id, "stopped", actor)
    stopping = await recorder.store.get(active.recording_id)
    if stopping is not None:
        await recorder.store.publish(stopping)
