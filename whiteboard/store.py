"""Boards in Redis: an operation log (stream) per board plus periodic scene snapshots.

Keys (docs/ARCHITECTURE.md "Whiteboard"); room ids are made by the server and board ids are
checked by whiteboard.ids before they get here:
  cp:wb:{room}:boards              hash   board_id -> {kind, track_id, created_at, updated_at}
  cp:wb:{room}:b:{board}:log       stream one entry per accepted operation: seq, elements
  cp:wb:{room}:b:{board}:snap      string {seq, stream_id, elements}
  cp:wb:{room}:perm                string {mode, presenters}
  cp:wb:{room}:snapshots           hash   snapshot_id -> video snapshot metadata
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import redis.asyncio as aioredis

from whiteboard.ids import BoardRef, parse_board_id
from whiteboard.scene import Element, Scene, frozen

PREFIX = "cp:wb:"
REPLAY_BATCH = 500


def boards_key(room_id: str) -> str:
    return f"{PREFIX}{room_id}:boards"


def log_key(room_id: str, board_id: str) -> str:
    return f"{PREFIX}{room_id}:b:{board_id}:log"


def snap_key(room_id: str, board_id: str) -> str:
    return f"{PREFIX}{room_id}:b:{board_id}:snap"


def perm_key(room_id: str) -> str:
    return f"{PREFIX}{room_id}:perm"


def snapshots_key(room_id: str) -> str:
    return f"{PREFIX}{room_id}:snapshots"


@dataclass
class LoadedBoard:
    ref: BoardRef
    scene: Scene
    seq: int
    stream_id: str  # last log entry replayed ("0-0": none)
    created_at: int
    updated_at: int


@dataclass(frozen=True)
class LogEntry:
    board_id: str
    seq: int
    elements: list[Element]
    meta: dict[str, Any]  # the board's row in the boards hash after this operation


class BoardStore:
    def __init__(self, redis: aioredis.Redis) -> None:
        self.redis = redis

    async def board_ids(self, room_id: str) -> list[str]:
        return sorted(str(k) for k in await self.redis.hkeys(boards_key(room_id)))

    async def load(self, room_id: str, board_id: str) -> LoadedBoard | None:
        """The board's scene: its snapshot plus the log after it; None if never written."""
        raw_meta = await self.redis.hget(boards_key(room_id), board_id)
        if raw_meta is None:
            return None
        meta = json.loads(raw_meta)
        snap_raw = await self.redis.get(snap_key(room_id, board_id))
        snap: dict[str, Any] = json.loads(snap_raw) if snap_raw else {
            "seq": 0, "stream_id": "0-0", "elements": []}
        scene = Scene(frozen(e) for e in snap["elements"])
        seq, last = int(snap["seq"]), str(snap["stream_id"])
        while True:
            rows: list[Any] = await self.redis.xrange(  # type: ignore[assignment]
                log_key(room_id, board_id), min=f"({last}", count=REPLAY_BATCH)
            for stream_id, fields in rows:
                for element in json.loads(fields["elements"]):
                    scene.apply(frozen(element))
                seq, last = int(fields["seq"]), stream_id
            if len(rows) < REPLAY_BATCH:
                break
        return LoadedBoard(parse_board_id(board_id), scene, seq, last,
                           int(meta.get("created_at", 0)), int(meta.get("updated_at", 0)))

    async def append(self, room_id: str, entries: list[LogEntry]) -> list[str]:
        """Write log entries (in order) in one round trip; returns their stream ids."""
        async with self.redis.pipeline(transaction=True) as pipe:
            for entry in entries:
                pipe.xadd(log_key(room_id, entry.board_id),
                          {"seq": entry.seq, "elements": dumps(entry.elements)})
            metas: dict[Any, Any] = {e.board_id: dumps(e.meta) for e in entries}
            pipe.hset(boards_key(room_id), mapping=metas)
            results = await pipe.execute()
        return [str(r) for r in results[:len(entries)]]

    async def write_snapshot(self, room_id: str, board_id: str, body: str,
                             stream_id: str) -> None:
        """`body`: JSON {seq, stream_id, elements}; the log up to stream_id is then dropped."""
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.set(snap_key(room_id, board_id), body)
            pipe.xtrim(log_key(room_id, board_id), minid=stream_id)
            await pipe.execute()

    async def permissions(self, room_id: str) -> dict[str, Any] | None:
        raw = await self.redis.get(perm_key(room_id))
        return json.loads(raw) if raw else None

    async def set_permissions(self, room_id: str, value: dict[str, Any]) -> None:
        await self.redis.set(perm_key(room_id), dumps(value))


def dumps(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def snapshot_body(seq: int, stream_id: str, elements: list[Element]) -> str:
    return dumps({"seq": seq, "stream_id": stream_id, "elements": elements})
