"""The feeds of one room on this node: their runners, state in Redis, and room broadcasts.

RTSP and RTMP feeds run a `sfu.ingest.FeedRunner` that puts their tracks into the room's
media as participant `feed-<id>`; a WHIP feed is a WHIP publisher with that participant id,
and its state follows its session. Every state change is written to Redis and told to the
room (`feed`), so a wall sees a camera go `lost` and come back.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import threading
import time
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from signaling.config import Config
from signaling.errors import SignalingError
from signaling.feed_store import STATUS_FIELDS, FeedRecord, FeedStore
from signaling.media import feed_settings

if TYPE_CHECKING:
    from signaling.room import Room

log = logging.getLogger(__name__)
FEED_PREFIX = "feed-"
# Bitrate and frame time change constantly: Redis gets them at most this often per feed
# (state changes are written at once).
STATS_WRITE_INTERVAL_S = 1.0


def ingest_url(record: FeedRecord, config: Config) -> str | None:
    """Where a drone or OBS pushes an RTMP feed. The secret key is the RTMP application
    name (OBS: server URL rtmp://host:port/<key>, stream key "feed"); sfu.ingest's listener
    accepts a publisher only when both app and stream name match."""
    if record.rtmp_port is None or record.rtmp_key is None:
        return None
    host = config.feeds.rtmp_public_host or urlsplit(config.server.base_url).hostname
    if host and ":" in host and not host.startswith("["):
        host = f"[{host}]"
    return f"rtmp://{host}:{record.rtmp_port}/{record.rtmp_key}/feed"


def listen_url(record: FeedRecord, config: Config) -> str:
    host = config.feeds.rtmp_listen_host
    if ":" in host and not host.startswith("["):
        host = f"[{host}]"
    return f"rtmp://{host}:{record.rtmp_port}/{record.rtmp_key}/feed"


def whip_url(record: FeedRecord, config: Config) -> str:
    return f"{config.server.base_url}/whip/{record.room_id}"


def public_json(record: FeedRecord, config: Config, secrets_too: bool) -> dict[str, Any]:
    """Feed JSON; the RTMP ingest URL carries the push key, so only admins see it."""
    return record.public(
        ingest_url=ingest_url(record, config) if secrets_too else None,
        whip_url=whip_url(record, config) if record.kind == "whip" else None)


def feed_id_of(participant_id: str) -> str | None:
    return participant_id[len(FEED_PREFIX):] if participant_id.startswith(FEED_PREFIX) else None


class RoomFeeds:
    def __init__(self, room: Room) -> None:
        self._room = room
        self._config: Config = room.services.config
        self._store = FeedStore(room.services.store.redis)
        self.records: dict[str, FeedRecord] = {}
        self._runners: dict[str, Any] = {}
        self._written_at: dict[str, float] = {}
        self._loop = asyncio.get_running_loop()
        self._loop_thread = threading.get_ident()
        self.adding = asyncio.Lock()  # the per-room feed limit holds under concurrent POSTs

    @property
    def active(self) -> bool:
        """Feeds keep the room on this node even with nobody watching."""
        return bool(self.records)

    def public_list(self) -> list[dict[str, Any]]:
        records = sorted(self.records.values(), key=lambda r: r.created_at)
        return [public_json(r, self._config, secrets_too=False) for r in records]

    # lifecycle
    async def resume(self) -> None:
        """Start every feed Redis has for this room (node start-up, or the room moving here)."""
        for record in await self._store.list(self._room.room_id):
            if record.feed_id not in self.records:
                if record.kind == "whip":
                    record.state = "lost" if record.last_frame_at else "connecting"
                await self.start(record, persist=False)

    async def start(self, record: FeedRecord, persist: bool = True) -> None:
        self.records[record.feed_id] = record
        if persist:
            await self._store.put(record)
        if record.kind in ("rtsp", "rtmp"):
            await self._start_runner(record)
        self._tell(record)

    async def _start_runner(self, record: FeedRecord) -> None:
        listen = record.kind == "rtmp"
        url = listen_url(record, self._config) if listen else record.url

        def on_status(*args: Any) -> None:
            self._status_from_runner(record.feed_id, args[-1])

        try:
            from sfu.ingest.runner import FeedRunner, FeedSpec  # PyAV: imported where used

            runner = FeedRunner(self._room.media, FeedSpec(record.feed_id, record.name, url,
                                                           listen), on_status,
                                feed_settings(self._config))
            self._runners[record.feed_id] = runner
            await runner.start()
        except Exception as exc:  # a runner that cannot even start shows as an error
            log.exception("feed %s did not start", record.feed_id)
            self._runners.pop(record.feed_id, None)
            self._apply(record.feed_id, {"state": "error", "error": f"could not start: {exc}"})

    async def remove(self, feed_id: str) -> FeedRecord | None:
        """Stop the feed, drop its tracks and its record; tells the room `feed_removed`."""
        record = self.records.pop(feed_id, None)
        if record is None:
            return None
        await self._stop_runner(feed_id)  # which removes its tracks
        if record.participant_id in self._room.members:  # a WHIP feed that is publishing
            await self._room.remove(record.participant_id, "kicked")
        await self._store.delete(record)
        self._written_at.pop(feed_id, None)
        self._room.broadcast_event({"type": "feed_removed", "feed_id": feed_id})
        return record

    async def _stop_runner(self, feed_id: str) -> None:
        runner = self._runners.pop(feed_id, None)
        if runner is not None:
            try:
                await runner.stop()
            except Exception:
                log.exception("feed %s did not stop cleanly", feed_id)

    async def close(self) -> None:
        """The room closes on this node (shutdown): stop pulling, keep the records, marked
        lost until a node resumes them."""
        for feed_id in list(self._runners):
            await self._stop_runner(feed_id)
        for record in self.records.values():
            if record.kind != "whip" or record.state == "live":
                record.state, record.error = "lost", "the server pulling this feed stopped"
                record.bitrate_bps = 0
                await self._write(record)
        self.records.clear()

    # WHIP feeds follow their publisher
    def whip_record(self, participant_id: str) -> FeedRecord:
        """The WHIP feed a token of identity `feed-<id>` publishes as; refused once deleted."""
        record = self.records.get(feed_id_of(participant_id) or "")
        if record is None or record.kind != "whip":
            raise SignalingError("forbidden", "this WHIP feed was deleted")
        return record

    def whip_published(self, participant_id: str) -> None:
        feed_id = feed_id_of(participant_id)
        if feed_id in self.records:
            codecs = self._codecs_of(participant_id)
            self._apply(feed_id, {"state": "live", "error": None,
                                  "last_frame_at": time.time(), **codecs})

    def whip_left(self, participant_id: str) -> None:
        feed_id = feed_id_of(participant_id)
        if feed_id in self.records and self.records[feed_id].kind == "whip":
            self._apply(feed_id, {"state": "lost", "error": "the WHIP session ended",
                                  "bitrate_bps": 0})

    def _codecs_of(self, participant_id: str) -> dict[str, str | None]:
        codecs: dict[str, str | None] = {"video_codec": None, "audio_codec": None}
        for info in self._room.media.tracks():
            if info.participant_id == participant_id:
                codecs[f"{info.kind}_codec"] = info.codec
        return codecs

    # status from runners
    def _status_from_runner(self, feed_id: str, status: Any) -> None:
        changes = {name: getattr(status, name) for name in STATUS_FIELDS if hasattr(status, name)}
        if threading.get_ident() == self._loop_thread:
            self._apply(feed_id, changes)
        else:  # a runner reporting from its demux thread
            self._loop.call_soon_threadsafe(self._apply, feed_id, changes)

    def _apply(self, feed_id: str, changes: dict[str, Any]) -> None:
        record = self.records.get(feed_id)
        if record is None or self._room.closed:
            return
        before = dataclasses.replace(record)
        for name, value in changes.items():
            setattr(record, name, value)
        now = time.monotonic()
        if record.status_changed(before):
            self._tell(record)
        elif now - self._written_at.get(feed_id, 0.0) < STATS_WRITE_INTERVAL_S:
            return
        self._written_at[feed_id] = now
        self._room.spawn(self._write(record))

    async def _write(self, record: FeedRecord) -> None:
        try:
            await self._store.update(dataclasses.replace(record))
        except Exception as exc:
            log.warning("feed %s: could not store its state: %s", record.feed_id, exc)

    def _tell(self, record: FeedRecord) -> None:
        self._room.broadcast_event({"type": "feed",
                                    "feed": public_json(record, self._config, False)})
