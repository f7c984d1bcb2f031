"""Room, participant, presence and node state in Redis (key layout: docs/ARCHITECTURE.md).

Every write that other nodes may race on is a single command, a MULTI block or a Lua script;
events go out on `cp:events:{room_id}` and carry the node id of their author.
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass, field
from typing import Any

import redis.asyncio as aioredis

PREFIX = "cp:"
EVENTS_PATTERN = PREFIX + "events:*"


def room_key(room_id: str) -> str:
    return f"{PREFIX}room:{room_id}"


def participants_key(room_id: str) -> str:
    return f"{PREFIX}room:{room_id}:participants"


def locations_key(room_id: str) -> str:
    """Hash participant id -> latest location JSON (signaling/locations.py)."""
    return f"{PREFIX}room:{room_id}:locations"


def reports_key(room_id: str) -> str:
    """Stream of photo reports (signaling/reports.py); dispatch consumes it."""
    return f"{PREFIX}room:{room_id}:reports"


def presence_key(room_id: str, participant_id: str) -> str:
    return f"{PREFIX}presence:{room_id}:{participant_id}"


def node_key(node_id: str) -> str:
    return f"{PREFIX}node:{node_id}"


def events_channel(room_id: str) -> str:
    return f"{PREFIX}events:{room_id}"


@dataclass(frozen=True)
class RoomRecord:
    room_id: str
    name: str
    created_at: float
    locked: bool
    node: str


@dataclass
class ParticipantRecord:
    """What every node may know about a participant (the hash value, as JSON)."""

    id: str
    name: str
    grants: list[str]
    node: str
    joined_at: float = field(default_factory=time.time)
    kind: str = "ws"  # "ws" (signalling client) or "whip" (WHIP publisher)
    audio: bool = True
    video: bool = True
    muted_audio: bool = False  # muted by a host
    muted_video: bool = False

    @property
    def admin(self) -> bool:
        return "admin" in self.grants

    @property
    def hidden(self) -> bool:
        return "hidden" in self.grants

    def public(self) -> dict[str, Any]:
        """The participant as shown to other clients (docs/protocol.md)."""
        return {"id": self.id, "name": self.name, "audio": self.audio, "video": self.video,
                "admin": self.admin}

    def to_json(self) -> str:
        return json.dumps(asdict(self), separators=(",", ":"))

    @classmethod
    def from_json(cls, text: str) -> ParticipantRecord:
        data = json.loads(text)
        known = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        return cls(**known)


# Claim a room for a node: free when unassigned, already ours, or its node stopped beating.
_CLAIM_LUA = """
if redis.call('EXISTS', KEYS[1]) == 0 then return false end
local owner = redis.call('HGET', KEYS[1], 'node')
if (not owner) or owner == '' or owner == ARGV[1]
   or redis.call('EXISTS', ARGV[2] .. owner) == 0 then
  redis.call('HSET', KEYS[1], 'node', ARGV[1])
  return ARGV[1]
end
return owner
"""


_RELEASE_LUA = """
if redis.call('HGET', KEYS[1], 'node') == ARGV[1] then
  redis.call('HSET', KEYS[1], 'node', '')
  return 1
end
return 0
"""


class Store:
    """Typed access to the shared Redis state, on behalf of one node."""

    def __init__(self, client: aioredis.Redis, node_id: str) -> None:
        self.redis = client
        self.node_id = node_id
        self._claim = client.register_script(_CLAIM_LUA)
        self._release = client.register_script(_RELEASE_LUA)

    # rooms
    async def create_room(self, room_id: str, name: str) -> RoomRecord:
        record = RoomRecord(room_id, name, time.time(), False, "")
        await self.redis.hset(room_key(room_id), mapping={
            "name": name, "created_at": f"{record.created_at:.3f}", "locked": "0", "node": ""})
        return record

    async def get_room(self, room_id: str) -> RoomRecord | None:
        data = await self.redis.hgetall(room_key(room_id))
        if not data:
            return None
        return RoomRecord(room_id, data.get("name", ""), float(data.get("created_at", 0)),
                          data.get("locked") == "1", data.get("node", ""))

    async def set_locked(self, room_id: str, locked: bool) -> None:
        await self.redis.hset(room_key(room_id), "locked", "1" if locked else "0")

    async def claim_room(self, room_id: str, node_id: str | None = None) -> str | None:
        """Make this node (or `node_id`: the front assigns rooms to its workers) the room's
        home if allowed; returns the owner (None: no such room)."""
        owner = await self._claim(keys=[room_key(room_id)],
                                  args=[node_id or self.node_id, node_key("")])
        return owner or None

    async def release_room(self, room_id: str) -> None:
        """Give the room up when this node no longer hosts anyone in it."""
        # A compare-and-set in Lua: WATCH/MULTI failed with WatchError whenever another
        # field of the room hash (lock state, a claim) changed in between.
        await self._release(keys=[room_key(room_id)], args=[self.node_id])

    # participants and presence
    async def put_participant(self, room_id: str, record: ParticipantRecord,
                              alive_until_ms: int) -> None:
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.hset(participants_key(room_id), record.id, record.to_json())
            pipe.set(presence_key(room_id, record.id), record.node, pxat=alive_until_ms)
            await pipe.execute()

    async def remove_participant(self, room_id: str, participant_id: str) -> bool:
        """Delete the participant; True for the one caller that actually removed it."""
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.hdel(participants_key(room_id), participant_id)
            pipe.delete(presence_key(room_id, participant_id))
            pipe.hdel(locations_key(room_id), participant_id)  # positions die with participants
            removed, _, _ = await pipe.execute()
        return bool(removed)

    async def participants(self, room_id: str) -> list[ParticipantRecord]:
        values = await self.redis.hvals(participants_key(room_id))
        return sorted((ParticipantRecord.from_json(v) for v in values), key=lambda p: p.joined_at)

    async def touch_presence(self, entries: list[tuple[str, str, int]]) -> None:
        """Extend presence keys: (room_id, participant_id, alive_until_ms) each."""
        if not entries:
            return
        async with self.redis.pipeline(transaction=False) as pipe:
            for room_id, pid, until_ms in entries:
                pipe.set(presence_key(room_id, pid), self.node_id, pxat=until_ms)
            await pipe.execute()

    async def expired_participants(self) -> list[tuple[str, ParticipantRecord]]:
        """Participants whose presence key is gone, in every room (any node's)."""
        found: list[tuple[str, ParticipantRecord]] = []
        async for key in self.redis.scan_iter(match=participants_key("*"), count=200):
            room_id = key[len(room_key("")):-len(":participants")]
            entries = await self.redis.hgetall(key)
            if not entries:
                continue
            pids = list(entries)
            async with self.redis.pipeline(transaction=False) as pipe:
                for pid in pids:
                    pipe.exists(presence_key(room_id, pid))
                flags = await pipe.execute()
            found += [(room_id, ParticipantRecord.from_json(entries[pid]))
                      for pid, flag in zip(pids, flags) if not flag]
        return found

    # events and nodes
    async def publish_event(self, room_id: str, event: dict[str, Any]) -> None:
        payload = {**event, "room_id": room_id, "node": self.node_id}
        await self.redis.publish(events_channel(room_id), json.dumps(payload))

    async def heartbeat(self, url: str, ttl_s: float) -> None:
        info = json.dumps({"url": url, "at": time.time()})
        await self.redis.set(node_key(self.node_id), info, px=int(ttl_s * 1000))

    async def node_url(self, node_id: str) -> str | None:
        """The URL of a live node, None if it stopped beating."""
        info = await self.redis.get(node_key(node_id))
        return json.loads(info).get("url") if info else None

    async def drop_node(self, node_id: str | None = None) -> None:
        await self.redis.delete(node_key(node_id or self.node_id))
