"""Recordings in Redis: state, the job stream, the audit log and room events.

Keys (ids are checked against ID_RE / signaling.rooms.check_room_id before they get here):
- `cp:rec:{rid}` hash: recording_id, room_id, state, started_at, stopped_at, started_by,
  stopped_by, segment, worker, chain_head, error.
- `cp:rec:room:{room_id}` sorted set: the room's recording ids by start time.
- `cp:rec:active:{room_id}` string: the id of the room's running recording (one at a time).
- `cp:rec:auto:{room_id}` string "1": the room records itself when it opens.
- `cp:rec:jobs` stream, consumer group `recorders`: one entry per recording to run.
- `cp:rec:audit:{rid}` stream: who started, stopped, viewed, downloaded or deleted it.
- `cp:rec:events` pub/sub channel: state changes, relayed to the room by its node.
"""

from __future__ import annotations

import json
import re
import secrets
import time
from dataclasses import dataclass
from typing import Any

from redis.exceptions import ResponseError

from signaling.errors import SignalingError

ID_RE = re.compile(r"r_[0-9a-f]{16}")
JOBS = "cp:rec:jobs"
GROUP = "recorders"
EVENTS = "cp:rec:events"
RUNNING = ("starting", "recording", "stopping")
FINISHED = ("stopped", "stopped_disk_full", "failed")
AUDIT_MAX = 10000  # entries kept per recording's audit stream


def check_recording_id(value: str) -> str:
    if not isinstance(value, str) or not ID_RE.fullmatch(value):
        raise SignalingError("not_found", "no such recording")
    return value


def new_recording_id() -> str:
    return "r_" + secrets.token_hex(8)


@dataclass
class Recording:
    recording_id: str
    room_id: str
    state: str
    started_at: float
    stopped_at: float | None
    started_by: str
    stopped_by: str
    segment: int
    worker: str
    chain_head: str
    error: str

    @classmethod
    def from_hash(cls, data: dict[str, str]) -> Recording:
        stopped = data.get("stopped_at", "")
        return cls(data["recording_id"], data["room_id"], data.get("state", "starting"),
                   float(data.get("started_at", 0)), float(stopped) if stopped else None,
                   data.get("started_by", ""), data.get("stopped_by", ""),
                   int(data.get("segment", 0)), data.get("worker", ""),
                   data.get("chain_head", ""), data.get("error", ""))

    @property
    def running(self) -> bool:
        return self.state in RUNNING

    def public(self) -> dict[str, Any]:
        return {"recording_id": self.recording_id, "room_id": self.room_id,
                "state": self.state, "started_at": self.started_at,
                "stopped_at": self.stopped_at, "started_by": self.started_by,
                "stopped_by": self.stopped_by, "segment": self.segment,
                "chain_head": self.chain_head or None, "error": self.error or None}


def _key(rid: str) -> str:
    return f"cp:rec:{rid}"


class RecordingStore:
    """All recorder state in Redis (a `decode_responses=True` client)."""

    def __init__(self, redis: Any) -> None:
        self.redis = redis

    # recordings
    async def get(self, rid: str) -> Recording | None:
        data = await self.redis.hgetall(_key(rid))
        return Recording.from_hash(data) if data.get("recording_id") else None

    async def active_id(self, room_id: str) -> str | None:
        value = await self.redis.get(f"cp:rec:active:{room_id}")
        return str(value) if value else None

    async def active(self, room_id: str) -> Recording | None:
        rid = await self.active_id(room_id)
        return await self.get(rid) if rid else None

    async def create(self, room_id: str, started_by: str) -> tuple[Recording, bool]:
        """A new recording of the room and its job, or (running one, False) if it has one."""
        rid = new_recording_id()
        if not await self.redis.set(f"cp:rec:active:{room_id}", rid, nx=True):
            current = await self.active(room_id)
            if current is not None and current.running:
                return current, False
            # A leftover pointer (recording gone or finished): replace it.
            await self.redis.set(f"cp:rec:active:{room_id}", rid)
        now = time.time()
        await self.redis.hset(_key(rid), mapping={
            "recording_id": rid, "room_id": room_id, "state": "starting",
            "started_at": repr(now), "started_by": started_by, "segment": "0"})
        await self.redis.zadd(f"cp:rec:room:{room_id}", {rid: now})
        await self.ensure_group()
        await self.redis.xadd(JOBS, {"recording_id": rid, "room_id": room_id})
        recording = await self.get(rid)
        assert recording is not None
        return recording, True

    async def set_fields(self, rid: str, **fields: Any) -> None:
        await self.redis.hset(_key(rid), mapping={k: "" if v is None else str(v)
                                                  for k, v in fields.items()})

    async def request_stop(self, rid: str, by: str) -> bool:
        """Ask the worker to stop; False if the recording is not running."""
        recording = await self.get(rid)
        if recording is None or not recording.running:
            return False
        await self.set_fields(rid, state="stopping", stopped_by=by)
        return True

    async def finish(self, recording: Recording, state: str, error: str = "") -> None:
        await self.set_fields(recording.recording_id, state=state, stopped_at=repr(time.time()),
                              error=error)
        key = f"cp:rec:active:{recording.room_id}"
        if await self.redis.get(key) == recording.recording_id:
            await self.redis.delete(key)

    async def list_room(self, room_id: str) -> list[Recording]:
        ids = await self.redis.zrange(f"cp:rec:room:{room_id}", 0, -1)
        found = [await self.get(rid) for rid in ids]
        return [r for r in found if r is not None]

    async def forget(self, recording: Recording) -> None:
        """After the files are deleted: state `deleted`; the audit log stays (evidence)."""
        await self.set_fields(recording.recording_id, state="deleted")
        await self.redis.zrem(f"cp:rec:room:{recording.room_id}", recording.recording_id)

    async def finished_before(self, cutoff: float) -> list[Recording]:
        """Finished recordings that stopped before `cutoff` (unix s), for retention."""
        old = []
        async for key in self.redis.scan_iter(match="cp:rec:r_*", count=500):
            rid = key.split(":", 2)[2]
            if not ID_RE.fullmatch(rid):
                continue
            recording = await self.get(rid)
            if recording is not None and recording.state in FINISHED \
                    and recording.stopped_at is not None and recording.stopped_at < cutoff:
                old.append(recording)
        return old

    # auto-record
    async def set_auto(self, room_id: str, enabled: bool) -> None:
        if enabled:
            await self.redis.set(f"cp:rec:auto:{room_id}", "1")
        else:
            await self.redis.delete(f"cp:rec:auto:{room_id}")

    async def auto(self, room_id: str) -> bool:
        return bool(await self.redis.get(f"cp:rec:auto:{room_id}"))

    # jobs
    async def ensure_group(self) -> None:
        try:
            await self.redis.xgroup_create(JOBS, GROUP, id="0", mkstream=True)
        except ResponseError as exc:
            if "BUSYGROUP" not in str(exc):
                raise

    # audit log and events
    async def audit(self, rid: str, action: str, actor: str, **detail: Any) -> None:
        entry = {"ts": repr(time.time()), "action": action, "actor": actor}
        if detail:
            entry["detail"] = json.dumps(detail, sort_keys=True)
        await self.redis.xadd(f"cp:rec:audit:{rid}", entry, maxlen=AUDIT_MAX,
                              approximate=True)

    async def audit_log(self, rid: str, count: int = 1000) -> list[dict[str, Any]]:
        rows = await self.redis.xrange(f"cp:rec:audit:{rid}", count=count)
        log = []
        for entry_id, fields in rows:
            item: dict[str, Any] = {"id": entry_id, "ts": float(fields.get("ts", 0)),
                                    "action": fields.get("action"), "actor": fields.get("actor")}
            if "detail" in fields:
                item["detail"] = json.loads(fields["detail"])
            log.append(item)
        return log

    async def publish(self, recording: Recording, **extra: Any) -> None:
        """Tell the room (through its node) the recording's state."""
        await self.redis.publish(EVENTS, json.dumps(
            {"room_id": recording.room_id, "message": recording_message(recording, **extra)}))


def recording_message(recording: Recording, **extra: Any) -> dict[str, Any]:
    """The `recording` WebSocket message (docs/protocol.md)."""
    return {"type": "recording", "recording_id": recording.recording_id,
            "state": recording.state, "active": recording.running,
            "started_at": recording.started_at, **extra}
