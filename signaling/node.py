"""This serving node: its rooms, and the background work that keeps Redis truthful.

Background tasks: the node heartbeat (`cp:node:{id}`), presence refresh for every local
participant, a sweeper that removes participants whose presence expired (our own leftovers
and those of nodes that died), and a listener applying other nodes' room events.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import AsyncIterator
from typing import Any

from sfu import RoomMedia

from signaling.errors import SignalingError
from signaling.feed_store import FeedStore
from signaling.room import Room
from signaling.services import Services
from signaling.store import EVENTS_PATTERN

log = logging.getLogger(__name__)
HEARTBEAT_INTERVAL_S = 3.0
HEARTBEAT_TTL_S = 10.0
SWEEP_INTERVAL_S = 2.0


async def cancel_and_wait(tasks: list[asyncio.Task[None]], timeout: float = 5.0) -> None:
    """Cancel and wait, cancelling again while any is still running: on Python 3.11 a
    cancellation that coincides with a finishing asyncio.wait_for (inside redis-py) is
    swallowed, so one cancel() is not always enough."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    pending = [t for t in tasks if not t.done()]
    while pending and loop.time() < deadline:
        for task in pending:
            task.cancel()
        await asyncio.wait(pending, timeout=0.2)
        pending = [t for t in pending if not t.done()]
    if pending:
        log.warning("%d background tasks did not stop", len(pending))


class Node:
    def __init__(self, services: Services) -> None:
        self.services = services
        self.rooms: dict[str, Room] = {}
        self.clients: set[Any] = set()  # open signalling sessions, closed on shutdown
        # Per-node state of the extensions (signaling/extensions.py), by extension name:
        # their WS handlers get the node, so this is where they find their own objects.
        self.extension_state: dict[str, Any] = {}
        # Per-node state of extensions (e.g. dispatch's relay), keyed by extension name.
        self.extension_state: dict[str, Any] = {}
        self._create_lock = asyncio.Lock()
        self._stopping = False
        self._tasks: list[asyncio.Task[None]] = []
        self._closing: set[asyncio.Task[None]] = set()

    @property
    def node_id(self) -> str:
        return self.services.node_id

    async def start(self) -> None:
        await self.services.store.heartbeat(self.services.config.server.base_url, HEARTBEAT_TTL_S)
        for loop in (self._heartbeat_loop, self._presence_loop, self._sweep_loop,
                     self._event_loop):
            self._tasks.append(asyncio.create_task(loop(), name=loop.__name__))
        await self.services.extensions.node_started(self)

    async def stop(self) -> None:
        """Close every room (peer connections included) and leave Redis tidy."""
        self._stopping = True
        await cancel_and_wait(self._tasks)
        for room in list(self.rooms.values()):
            await self._close_room(room)
        if self._closing:
            await asyncio.wait(self._closing, timeout=5)
        # After the rooms: their close hooks still find the extensions' node state, and
        # whatever those hooks started (e.g. waits for end-of-meeting minutes) is cancelled
        # here instead of holding the shutdown.
        await self.services.extensions.node_stopping(self)
        with contextlib.suppress(Exception):
            await self.services.store.drop_node()

    # rooms
    @contextlib.asynccontextmanager
    async def using(self, room_id: str) -> AsyncIterator[Room]:
        """The local Room for `room_id`, created (and claimed in Redis) on first use; it is
        kept open at least until the block ends."""
        room = await self._get_or_create(room_id)
        room.users += 1
        try:
            yield room
        finally:
            room.users -= 1
            self.release_if_idle(room)

    async def _get_or_create(self, room_id: str) -> Room:
        async with self._create_lock:
            room = self.rooms.get(room_id)
            if room is not None and not room.closed:
                return room
            store = self.services.store
            record = await store.get_room(room_id)
            if record is None:
                raise SignalingError("room_not_found", f"no room {room_id!r}")
            owner = await store.claim_room(room_id)
            if owner is None:
                raise SignalingError("room_not_found", f"no room {room_id!r}")
            if owner != self.node_id:
                raise await self.wrong_node(owner)
            media = RoomMedia(room_id, self.services.sfu_settings)
            room = Room(room_id, self.services, media, record.locked, self.release_if_idle)
            self.rooms[room_id] = room
            await self._guard(room.feeds.resume(), f"resume feeds of {room_id}")
            await self.services.extensions.room_opened(self, room)
            return room

    async def wrong_node(self, owner: str) -> SignalingError:
        url = await self.services.store.node_url(owner)
        return SignalingError("wrong_node", f"this room is served by node {owner}",
                              node=owner, url=url)

    def release_if_idle(self, room: Room) -> None:
        if room.users == 0 and room.idle and not room.closed and \
                self.rooms.get(room.room_id) is room:
            task = asyncio.get_running_loop().create_task(self._close_room(room))
            self._closing.add(task)
            task.add_done_callback(self._closing.discard)

    async def _close_room(self, room: Room) -> None:
        if self.rooms.get(room.room_id) is room:
            del self.rooms[room.room_id]
        await self.services.extensions.room_closed(self, room)
        await room.close()
        try:
            await self.services.store.release_room(room.room_id)
        except Exception:
            log.exception("could not release room %s", room.room_id)

    # background work
    async def _heartbeat_loop(self) -> None:
        url = self.services.config.server.base_url
        while not self._stopping:
            await asyncio.sleep(HEARTBEAT_INTERVAL_S)
            await self._guard(self.services.store.heartbeat(url, HEARTBEAT_TTL_S), "heartbeat")

    async def _presence_loop(self) -> None:
        # Often enough that a live participant's key (last sign of life + timeout, with
        # WebSocket pings every timeout/3) never lapses between two refreshes.
        interval = self.services.config.limits.presence_timeout_s / 5
        while not self._stopping:
            await asyncio.sleep(interval)
            entries = [e for room in list(self.rooms.values()) for e in room.presence()]
            await self._guard(self.services.store.touch_presence(entries), "presence refresh")

    async def _sweep_loop(self) -> None:
        while not self._stopping:
            await self._guard(self.resume_feeds(), "resume feeds")
            await asyncio.sleep(SWEEP_INTERVAL_S)
            await self._guard(self.sweep(), "sweep")

    async def resume_feeds(self) -> list[str]:
        """Host rooms whose feeds nobody pulls: after this node restarted, or when their
        node died. Returns the room ids taken."""
        store = self.services.store
        taken = []
        for room_id in await FeedStore(store.redis).rooms_with_feeds():
            if room_id in self.rooms:
                continue
            record = await store.get_room(room_id)
            if record is None:
                await FeedStore(store.redis).forget_room(room_id)
                continue
            if record.node and record.node != self.node_id \
                    and await store.node_url(record.node) is not None:
                continue  # its live node pulls them
            try:
                room = await self._get_or_create(room_id)
            except SignalingError:
                continue  # another node claimed it first
            taken.append(room_id)
            self.release_if_idle(room)
        return taken

    async def sweep(self) -> list[tuple[str, str]]:
        """Remove participants whose presence expired and whose node will not do it: our own
        leftovers (e.g. from before a restart) and those of nodes that stopped beating."""
        store = self.services.store
        removed = []
        for room_id, record in await store.expired_participants():
            room = self.rooms.get(room_id)
            if record.node == self.node_id and room is not None and record.id in room.members:
                continue  # a local timer owns it
            if record.node != self.node_id and await store.node_url(record.node) is not None:
                continue  # its node is alive and will remove it itself
            if await store.remove_participant(room_id, record.id):
                removed.append((room_id, record.id))
                if not record.hidden:
                    await store.publish_event(room_id, {
                        "type": "participant_left", "participant_id": record.id,
                        "reason": "timeout"})
        return removed

    async def _event_loop(self) -> None:
        while not self._stopping:
            try:
                await self._listen()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("event listener failed; reconnecting")
                await asyncio.sleep(1)

    async def _listen(self) -> None:
        pubsub = self.services.store.redis.pubsub(ignore_subscribe_messages=True)
        try:
            await pubsub.psubscribe(EVENTS_PATTERN)
            async for message in pubsub.listen():
                if message.get("type") == "pmessage":
                    await self._apply_event(message["data"])
        finally:
            await pubsub.aclose()

    async def _apply_event(self, raw: str) -> None:
        """Events of other nodes that concern a room hosted here."""
        try:
            event = json.loads(raw)
        except ValueError:
            return
        if event.get("node") == self.node_id:
            return
        room = self.rooms.get(event.get("room_id", ""))
        if room is None:
            return
        if event.get("type") == "participant_left":
            member = room.members.get(event.get("participant_id", ""))
            if member is not None:
                if member.client is not None:
                    member.client.close(1000, "removed by another node")
                    member.client = None
                await room.remove(member.id, event.get("reason", "timeout"))

    async def _guard(self, coro: Any, what: str) -> None:
        try:
            await coro
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            log.warning("%s failed: %s", what, exc)
