"""The whiteboards of one open room, and of every open room on this node.

`RoomBoards` is the authority for its room's boards while the room is open on this node:
operations are checked and applied in memory at once (one event loop, so no locks). A tick
(at most one per `tick_ms`) sends the coalesced live strokes (never stored) and hands the
operations queued since the last tick to the writer, which stores their log entries in Redis
in one pipeline and only then sends the coalesced `wb_elements` and the senders' `wb_ack`s.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable, Collection
from dataclasses import dataclass
from typing import Any

from signaling.errors import SignalingError
from signaling.ratelimit import TokenBucket

from whiteboard.board import Actor, Board, OpResult, now_ms
from whiteboard.config import WhiteboardConfig
from whiteboard.ids import BoardRef, parse_board_id
from whiteboard.live import LiveBuffer
from whiteboard.permissions import Permissions
from whiteboard.scene import Element
from whiteboard.store import BoardStore, LogEntry, snapshot_body
from whiteboard.validate import Checker

log = logging.getLogger(__name__)
RETRY_S = 0.5
CLOSE_RETRIES = 10

Send = Callable[[dict[str, Any]], None]


@dataclass
class _Pending:
    """What the next tick writes and sends."""

    entries: list[LogEntry]
    changed: dict[str, dict[str, Element]]  # board_id -> element id -> latest copy
    acks: list[tuple[Send, dict[str, Any]]]


class RoomBoards:
    def __init__(self, room_id: str, config: WhiteboardConfig, store: BoardStore,
                 room: Any) -> None:
        self.room_id = room_id
        self.config = config
        self.store = store
        self.room = room  # signaling.room.Room: broadcast, members, tracks_json
        self.boards: dict[str, Board] = {}
        self.permissions = Permissions(config.default_permission)
        self._buckets: dict[str, TokenBucket] = {}
        self._pending = _Pending([], {}, [])
        self._live = LiveBuffer()
        self._wake = asyncio.Event()
        self._writes: asyncio.Queue[_Pending | None] = asyncio.Queue()
        self._tasks: list[asyncio.Task[None]] = []
        self._side_tasks: set[asyncio.Task[None]] = set()  # background snapshots
        self._snapshotting = asyncio.Lock()
        self._closed = False

    async def load(self) -> None:
        for board_id in await self.store.board_ids(self.room_id):
            loaded = await self.store.load(self.room_id, board_id)
            if loaded is not None:
                self.boards[board_id] = Board.restore(loaded, self.config)
        perms = await self.store.permissions(self.room_id)
        if perms is not None:
            self.permissions = Permissions.parse(perms)
        self._tasks = [asyncio.create_task(self._run(), name=f"whiteboard-{self.room_id}"),
                       asyncio.create_task(self._write(), name=f"wb-writer-{self.room_id}")]

    # reading
    def state_messages(self, participant_id: str,
                       grants: Collection[str]) -> list[dict[str, Any]]:
        """`wb_state` then one `wb_scene` per board: what a (re)joining member gets."""
        state = {"type": "wb_state", "boards": [b.summary() for b in self.ordered_boards()],
                 "permissions": self.permissions.json(),
                 "can_draw": self.permissions.can_draw(participant_id, grants)}
        return [state] + [b.scene_message() for b in self.ordered_boards()]

    def ordered_boards(self) -> list[Board]:
        return [self.boards[k] for k in sorted(self.boards)]

    def scene_message(self, board_id: str) -> dict[str, Any]:
        board = self.boards.get(board_id)
        if board is not None:
            return board.scene_message()
        ref = parse_board_id(board_id)
        return {"type": "wb_scene", **ref.json(), "seq": 0, "elements": []}

    # writing
    def run_op(self, actor: Actor, grants: Collection[str], board_id: str,
               payload: dict[str, Any], reply: Send) -> OpResult:
        """Check and apply one operation; `reply` gets its `wb_ack` once it is stored."""
        self._open()
        ref = parse_board_id(board_id)
        self.permissions.require(actor.id, grants)
        op = Checker(self.config, ref).op(payload, actor.id)
        self._take_token(actor.id)
        board, created = self._board(ref)
        try:
            if op.op != "clear":
                board.admit_drawer(actor.id)
            result = board.run(op, actor)
        except SignalingError:
            if created:
                del self.boards[ref.board_id]
            raise
        if result.applied:
            self._queue(board, result.applied)
        elif created:  # e.g. undo on a board never drawn on: it does not come to exist
            del self.boards[ref.board_id]
        self._pending.acks.append((reply, result.ack(board.board_id,
                                                     board.history.can(actor.id))))
        if op.op == "clear" and result.applied:
            self.room.broadcast({"type": "wb_cleared", "board_id": board.board_id,
                                 "by": actor.id, "name": actor.name})
        self._wake.set()
        return result

    def live(self, actor: Actor, grants: Collection[str], msg: dict[str, Any]) -> None:
        self._open()
        ref = parse_board_id(msg.get("board_id"))
        self.permissions.require(actor.id, grants)
        live = Checker(self.config, ref).live(msg)
        board = self.boards.get(ref.board_id)
        if board is not None:  # a stroke on a new board counts once its first op lands
            board.admit_drawer(actor.id)
        self._live.add(ref.board_id, actor.id, actor.name, live)
        self._wake.set()

    def forget_drawer(self, participant_id: str) -> None:
        for board in self.boards.values():
            board.drawers.pop(participant_id, None)

    async def set_permissions(self, raw: dict[str, Any]) -> Permissions:
        perms = Permissions.parse(raw)
        await self.store.set_permissions(self.room_id, perms.json())
        self.permissions = perms
        for member in list(self.room.members.values()):
            if member.announced:
                member.send({"type": "wb_permissions", **perms.json(),
                             "can_draw": perms.can_draw(member.id, member.record.grants)})
        return perms

    def _open(self) -> None:
        if self._closed:
            raise SignalingError("unavailable", "the room's whiteboards are closing")

    def _board(self, ref: BoardRef) -> tuple[Board, bool]:
        board = self.boards.get(ref.board_id)
        if board is not None:
            return board, False
        if len(self.boards) >= self.config.max_boards_per_room:
            raise SignalingError("limit_reached", f"the room has {len(self.boards)} boards, "
                                 f"limit is {self.config.max_boards_per_room} "
                                 "(max_boards_per_room)")
        if ref.track_id is not None and ref.track_id not in self._track_ids():
            raise SignalingError("unknown_track", f"no track {ref.track_id!r} in this room")
        board = self.boards[ref.board_id] = Board(ref, self.config)
        return board, True

    def _track_ids(self) -> set[str]:
        return {t.get("track_id") for t in self.room.tracks_json()}

    def _take_token(self, actor_id: str) -> None:
        bucket = self._buckets.get(actor_id)
        if bucket is None:
            bucket = self._buckets[actor_id] = TokenBucket(self.config.ops_per_second,
                                                           self.config.ops_burst)
        if not bucket.take():
            raise SignalingError("rate_limited", f"more than {self.config.ops_per_second:g} "
                                 f"operations per second (burst {self.config.ops_burst}; "
                                 "ops_per_second)")

    def _queue(self, board: Board, applied: list[Element]) -> None:
        meta = {"kind": board.ref.kind, "track_id": board.ref.track_id,
                "created_at": board.created_at, "updated_at": board.updated_at}
        self._pending.entries.append(LogEntry(board.board_id, board.seq, applied, meta))
        changed = self._pending.changed.setdefault(board.board_id, {})
        for element in applied:
            changed[element["id"]] = element

    # the tick (live fan-out) and the writer (Redis, then fan-out of stored changes)
    async def _run(self) -> None:
        """Tick at most once per `tick_ms`: at once when the last tick is a tick old (an
        idle board adds no delay), else at the next one (a busy board is coalesced). Live
        strokes go out here; operations go to the writer, so a slow Redis never holds up
        live strokes."""
        loop = asyncio.get_running_loop()
        period = self.config.tick_ms / 1000
        last = -period
        while True:
            await self._wake.wait()
            delay = last + period - loop.time()
            if delay > 0 and not self._closed:
                await asyncio.sleep(delay)
            self._wake.clear()
            last = loop.time()
            try:
                self.tick()
            except Exception:
                log.exception("whiteboard %s: tick failed", self.room_id)
            if self._closed:
                self._writes.put_nowait(None)
                return

    def tick(self) -> None:
        self._send_live()
        pending, self._pending = self._pending, _Pending([], {}, [])
        if pending.entries or pending.acks:
            self._writes.put_nowait(pending)

    async def _write(self) -> None:
        """Store and send what the ticks hand over; every batch waiting while Redis answered
        the last one goes in the next round trip, so a slow Redis never builds a queue."""
        while True:
            first = await self._writes.get()
            batch, last = merge_pending([first] + self._drain_writes())
            if batch is not None:
                try:
                    await self.store_and_send(batch, CLOSE_RETRIES if self._closed else None)
                except Exception:
                    log.exception("whiteboard %s: storing operations failed", self.room_id)
            if last:
                return

    def _drain_writes(self) -> list[_Pending | None]:
        items: list[_Pending | None] = []
        while not self._writes.empty():
            items.append(self._writes.get_nowait())
        return items

    async def flush(self) -> None:
        """Everything queued, now: live strokes sent, operations stored and sent."""
        self._send_live()
        pending, self._pending = self._pending, _Pending([], {}, [])
        await self.store_and_send(pending, CLOSE_RETRIES)

    async def store_and_send(self, pending: _Pending, retries: int | None) -> None:
        """Store the operations, then send what they changed and the senders' acks."""
        if pending.entries:
            await self._append(pending.entries, retries)
        seqs = {e.board_id: e.seq for e in pending.entries}
        for board_id, elements in pending.changed.items():
            self.to_room({"type": "wb_elements", "board_id": board_id,
                          "seq": seqs.get(board_id, 0), "elements": list(elements.values())})
        for send, ack in pending.acks:
            send(ack)
        if not self._snapshotting.locked() and any(
                b.snapshot_due(self.config.snapshot_every_ops) for b in self.boards.values()):
            # In the background: a big scene must not hold up the next operations' acks.
            self._background(self._snapshots(force=False))

    async def _append(self, entries: list[LogEntry], retries: int | None) -> None:
        attempt = 0
        while True:
            try:
                ids = await self.store.append(self.room_id, entries)
                break
            except Exception:
                attempt += 1
                log.exception("whiteboard %s: cannot store %d operations (attempt %d)",
                              self.room_id, len(entries), attempt)
                if self._closed:  # the room is going: do not wait for Redis for ever
                    retries = CLOSE_RETRIES if retries is None else retries
                if retries is not None and attempt > retries:
                    raise
                await asyncio.sleep(RETRY_S)
        for entry, stream_id in zip(entries, ids, strict=True):
            board = self.boards.get(entry.board_id)
            if board is not None:
                board.stream_id = stream_id

    def _send_live(self) -> None:
        if not self._live:
            return
        for board_id, users in self._live.take().items():
            self.to_room({"type": "wb_live", "board_id": board_id, "users": users})

    def to_room(self, message: dict[str, Any]) -> None:
        """Encode once, send to every member: fan-out costs one encoding, not one a member
        (a drawer's own `wb_live` entry comes back too; clients skip their own id)."""
        text = json.dumps(message, separators=(",", ":"))
        for member in list(self.room.members.values()):
            if member.announced:
                member.send_encoded(text)

    def _background(self, coro: Any) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self._side_tasks.add(task)
        task.add_done_callback(self._side_tasks.discard)

    async def _snapshots(self, force: bool) -> None:
        """One at a time (the lock), each taken when it runs: a snapshot older than the
        last one must never land after it, since each trims the log up to itself."""
        async with self._snapshotting:
            try:
                await self._snapshot_boards(force)
            except Exception:
                if force:
                    raise
                log.exception("whiteboard %s: snapshot failed", self.room_id)

    async def _snapshot_boards(self, force: bool) -> None:
        loop = asyncio.get_running_loop()
        for board in list(self.boards.values()):
            due = board.snapshot_due(self.config.snapshot_every_ops)
            if not (due or (force and board.ops_since_snapshot)):
                continue
            stream_id = board.stream_id
            board.scene.prune(now_ms() - int(self.config.tombstone_ttl_s * 1000))
            seq, elements = board.seq, board.scene.ordered()
            board.ops_since_snapshot = 0
            # In a thread, though the C JSON encoder keeps the GIL: what bounds the cost is
            # the cadence (Board.snapshot_due), constant per operation whatever the size.
            body = await loop.run_in_executor(None, snapshot_body, seq, stream_id, elements)
            await self.store.write_snapshot(self.room_id, board.board_id, body, stream_id)

    async def close(self) -> None:
        """The room closes here: store and snapshot everything, stop the tick."""
        self._closed = True
        self._wake.set()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._side_tasks:
            await asyncio.gather(*self._side_tasks, return_exceptions=True)
        try:
            await self.flush()  # anything a handler queued while the tasks wound down
            await self._snapshots(force=True)
        except Exception:
            log.exception("whiteboard %s: final flush failed", self.room_id)


def merge_pending(items: list[_Pending | None]) -> tuple[_Pending | None, bool]:
    """Batches in tick order as one (later copies of an element replace earlier ones, as the
    board applied them in that order); True when the stop marker (None) was among them."""
    stop = any(item is None for item in items)
    batches = [item for item in items if item is not None]
    if not batches:
        return None, stop
    merged = _Pending([], {}, [])
    for batch in batches:
        merged.entries.extend(batch.entries)
        merged.acks.extend(batch.acks)
        for board_id, elements in batch.changed.items():
            merged.changed.setdefault(board_id, {}).update(elements)
    return merged, stop
