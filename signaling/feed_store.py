"""Feed records in Redis (key layout: docs/ARCHITECTURE.md).

A record holds what the feed is (kind, name, URL or RTMP port and key) and its last known
state, so any node can list it and the room's node can resume pulling after a restart.
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass, field
from typing import Any

import redis.asyncio as aioredis

from signaling.feed_spec import redact_url
from signaling.store import PREFIX

FEED_ROOMS_KEY = PREFIX + "feed_rooms"
RTMP_PORTS_KEY = PREFIX + "rtmp_ports"
STATUS_FIELDS = ("state", "error", "last_frame_at", "bitrate_bps", "width", "height",
                 "video_codec", "audio_codec", "retries")


def feeds_key(room_id: str) -> str:
    return f"{PREFIX}room:{room_id}:feeds"


def participant_id_of(feed_id: str) -> str:
    return f"feed-{feed_id}"


@dataclass
class FeedRecord:
    feed_id: str
    room_id: str
    kind: str  # "rtsp" | "rtmp" | "whip"
    name: str
    url: str | None = None  # rtsp: the camera URL (with its password: never shown)
    rtmp_port: int | None = None
    rtmp_key: str | None = None
    location: dict[str, float] | None = None
    created_at: float = field(default_factory=time.time)
    state: str = "connecting"
    error: str | None = None
    last_frame_at: float | None = None
    bitrate_bps: int = 0
    width: int | None = None
    height: int | None = None
    video_codec: str | None = None
    audio_codec: str | None = None
    retries: int = 0

    @property
    def participant_id(self) -> str:
        return participant_id_of(self.feed_id)

    def public(self, ingest_url: str | None = None, whip_url: str | None = None
               ) -> dict[str, Any]:
        """The feed JSON of docs/API.md, without secrets (no password, no token)."""
        data: dict[str, Any] = {"feed_id": self.feed_id, "room_id": self.room_id,
                                "kind": self.kind, "name": self.name,
                                "participant_id": self.participant_id,
                                "created_at": self.created_at}
        if self.url is not None:
            data["url"] = redact_url(self.url)
        if ingest_url is not None:
            data["ingest_url"] = ingest_url
        if whip_url is not None:
            data["whip_url"] = whip_url
        data |= {name: getattr(self, name) for name in STATUS_FIELDS}
        if self.location is not None:
            data["location"] = self.location
        return data

    def status_changed(self, other: FeedRecord) -> bool:
        """A change worth telling the room: state, error, resolution or codecs (not the
        bitrate or frame time, which move all the time)."""
        return any(getattr(self, name) != getattr(other, name) for name in STATUS_FIELDS
                   if name not in ("last_frame_at", "bitrate_bps", "retries"))

    def to_json(self) -> str:
        return json.dumps(asdict(self), separators=(",", ":"))

    @classmethod
    def from_json(cls, text: str) -> FeedRecord:
        data = json.loads(text)
        return cls(**{k: v for k, v in data.items() if k in cls.__dataclass_fields__})


# A status write must not bring back a feed deleted since (check and write in one step).
_UPDATE_LUA = """
if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 1 then
  redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
  return 1
end
return 0
"""


class FeedStore:
    def __init__(self, client: aioredis.Redis) -> None:
        self.redis = client
        self._update = client.register_script(_UPDATE_LUA)

    async def put(self, record: FeedRecord) -> None:
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.hset(feeds_key(record.room_id), record.feed_id, record.to_json())
            pipe.sadd(FEED_ROOMS_KEY, record.room_id)
            await pipe.execute()

    async def update(self, record: FeedRecord) -> bool:
        """Write a status change, unless the feed was deleted meanwhile (False then)."""
        return bool(await self._update(keys=[feeds_key(record.room_id)],
                                       args=[record.feed_id, record.to_json()]))

    async def get(self, room_id: str, feed_id: str) -> FeedRecord | None:
        raw = await self.redis.hget(feeds_key(room_id), feed_id)
        return FeedRecord.from_json(raw) if raw else None

    async def list(self, room_id: str) -> list[FeedRecord]:
        values = await self.redis.hvals(feeds_key(room_id))
        return sorted((FeedRecord.from_json(v) for v in values), key=lambda f: f.created_at)

    async def count(self, room_id: str) -> int:
        return int(await self.redis.hlen(feeds_key(room_id)))

    async def delete(self, record: FeedRecord) -> bool:
        """Remove the record (and its RTMP port); True for the caller that removed it."""
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.hdel(feeds_key(record.room_id), record.feed_id)
            if record.rtmp_port is not None:
                pipe.hdel(RTMP_PORTS_KEY, str(record.rtmp_port))
            removed, *_ = await pipe.execute()
        if not await self.redis.hlen(feeds_key(record.room_id)):
            await self.redis.srem(FEED_ROOMS_KEY, record.room_id)
        return bool(removed)

    async def rooms_with_feeds(self) -> list[str]:
        return sorted(await self.redis.smembers(FEED_ROOMS_KEY))

    async def forget_room(self, room_id: str) -> None:
        await self.redis.srem(FEED_ROOMS_KEY, room_id)

    async def claim_rtmp_port(self, port: int, owner: str) -> bool:
        """Reserve an RTMP listen port for a feed (one feed per port across all nodes)."""
        return bool(await self.redis.hsetnx(RTMP_PORTS_KEY, str(port), owner))

    async def release_rtmp_port(self, port: int) -> None:
        await self.redis.hdel(RTMP_PORTS_KEY, str(port))
