"""One segment of one recording: join the room hidden, record every track until told to
stop, the room stays empty, the disk fills, or the worker shuts down.

The recorder is an ordinary subscriber: the room's node sends it a subscribe `offer`
whenever tracks come or go, with `tracks` naming each m-section's track. Every track gets
a TrackRecorder; a track that goes away closes its file; an m-section that carries another
track after a renegotiation closes the old file and opens a new one.
"""

from __future__ import annotations

import asyncio
import errno
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from redis.exceptions import RedisError

from recorder.config import RecorderConfig
from recorder.recording import RecordingFiles, free_bytes
from recorder.rtc import SubscribeConnection
from recorder.signal_client import JoinError, RoomSocket
from recorder.store import Recording, RecordingStore
from recorder.tracks import TrackInfo, TrackRecorder
from signaling.tokens import mint_token

log = logging.getLogger(__name__)
SERVICE_GRANTS = ("join", "subscribe", "hidden", "record")
REJOIN_ATTEMPTS = 3
REJOIN_DELAY_S = 1.0
STABLE_SESSION_S = 10.0


@dataclass(frozen=True)
class JobContext:
    config: RecorderConfig
    store: RecordingStore
    secret: str
    server_url: str
    recordings_dir: Path
    worker_id: str
    ice_addresses: tuple[str, ...] = ()


class RoomJob:
    def __init__(self, ctx: JobContext, recording: Recording, segment: int,
                 renew: Callable[[], Awaitable[bool]]) -> None:
        self.ctx = ctx
        self.recording = recording
        self.segment = segment
        self.renew = renew  # keeps our claim on the job; False once another worker has it
        self.directory = ctx.recordings_dir / recording.recording_id
        self.files = RecordingFiles(self.directory, recording.recording_id, recording.room_id,
                                    recording.started_at, segment, ctx.worker_id,
                                    ctx.config.cluster_ms)
        self.tracks: dict[str, TrackRecorder] = {}  # by mid
        self.outcome: str | None = None  # final state once decided
        self.reason = ""
        self._done = asyncio.Event()
        self._participants: set[str] = set()
        self._room_tracks = 0
        self._idle_since: float | None = time.monotonic()
        self.rtc: SubscribeConnection | None = None

    def stop(self, state: str, reason: str = "") -> None:
        if self.outcome is None:
            self.outcome, self.reason = state, reason
            log.info("recording %s: %s %s", self.recording.recording_id, state, reason)
        self._done.set()

    async def run(self) -> str:
        """Record until stopped; returns the final state written to Redis."""
        rid = self.recording.recording_id
        await asyncio.get_running_loop().run_in_executor(
            None, lambda: self.directory.mkdir(parents=True, exist_ok=True))
        await self.files.adopt()
        current = await self.ctx.store.get(rid)
        if current is None or current.state == "stopping" or not current.running:
            self.stop("stopped", "stop requested")  # the previous worker was told to stop
        else:
            await self.files.save()
            await self.ctx.store.set_fields(rid, state="recording", segment=self.segment,
                                            worker=self.ctx.worker_id)
            self.recording.state = "recording"
            await self.ctx.store.publish(self.recording)
            watcher = asyncio.create_task(self._watch())
            try:
                await self._record()
            finally:
                watcher.cancel()
        await self._finish()
        return self.outcome or "stopped"

    async def _record(self) -> None:
        attempts = 0
        while self.outcome is None and attempts < REJOIN_ATTEMPTS:
            began = time.monotonic()
            try:
                await self._session()
                if time.monotonic() - began > STABLE_SESSION_S:
                    attempts = 0  # it had worked for a while: the next drop starts afresh
            except JoinError as exc:
                if exc.code in ("room_not_found", "forbidden", "auth_failed", "wrong_room"):
                    self.stop("failed", f"cannot join: {exc}")
                    return
                log.warning("recording %s: join failed: %s", self.recording.recording_id, exc)
            except (OSError, asyncio.TimeoutError) as exc:
                log.warning("recording %s: connection failed: %s",
                            self.recording.recording_id, exc)
            attempts += 1
            if self.outcome is None:
                await asyncio.sleep(REJOIN_DELAY_S)
        if self.outcome is None:
            self.stop("failed", "lost the room")

    async def _session(self) -> None:
        token = mint_token(self.ctx.secret, self.recording.room_id,
                           f"recorder-{self.ctx.worker_id}", SERVICE_GRANTS,
                           self.ctx.config.token_ttl_s, name=self.ctx.config.name)
        socket = await RoomSocket.join(self.ctx.server_url, token, self.ctx.config.name)
        self.rtc = SubscribeConnection(self._on_packet, self.ctx.ice_addresses)
        self._participants = {p["participant_id"] for p in socket.joined.get("participants", [])
                              if isinstance(p, dict) and "participant_id" in p}
        self._room_tracks = len(socket.joined.get("tracks", []))
        reader = asyncio.create_task(self._read(socket))
        try:
            await asyncio.wait([reader, asyncio.create_task(self._done.wait())],
                               return_when=asyncio.FIRST_COMPLETED)
        finally:
            reader.cancel()
            self._close_tracks()
            await self.rtc.close()
            await socket.close()

    async def _read(self, socket: RoomSocket) -> None:
        async for message in socket.messages():
            kind = message.get("type")
            if kind == "offer":
                await self._on_offer(socket, message)
            elif kind == "participant_joined":
                self._participants.add(str(message.get("participant", {}).get(
                    "participant_id", "")))
            elif kind == "participant_left":
                self._participants.discard(str(message.get("participant_id", "")))
            elif kind == "tracks":
                self._room_tracks = len(message.get("tracks", []))
            elif kind == "error":
                log.warning("recording %s: server error %s", self.recording.recording_id,
                            message)

    async def _on_offer(self, socket: RoomSocket, message: dict[str, Any]) -> None:
        offered = message.get("tracks") or {}
        for mid in list(self.tracks):
            info = offered.get(mid)
            if not isinstance(info, dict) or info.get("track_id") != \
                    self.tracks[mid].info.track_id:
                self._close_track(mid)
        for mid, info in offered.items():
            if mid in self.tracks or not isinstance(info, dict):
                continue
            track = TrackInfo.from_offer(info)
            if track is None:
                log.warning("not recording track %s: codec %s", info.get("track_id"),
                            info.get("codec"))
            elif len(self.tracks) >= self.ctx.config.max_tracks:
                log.warning("not recording track %s: max_tracks (%d) reached",
                            track.track_id, self.ctx.config.max_tracks)
            else:
                self.tracks[mid] = self._recorder(mid, track)
        assert self.rtc is not None
        answer = await self.rtc.answer(str(message.get("sdp", "")))
        await socket.send({"type": "answer", "sdp": answer})

    def _recorder(self, mid: str, track: TrackInfo) -> TrackRecorder:
        rtc = self.rtc
        assert rtc is not None
        return TrackRecorder(track, self.files, self.recording.started_at * 1000.0,
                             lambda: rtc.request_keyframe(mid))

    def _on_packet(self, mid: str, packet: Any, arrival_ms: float) -> None:
        recorder = self.tracks.get(mid)
        if recorder is None or self.outcome is not None:
            return
        try:
            recorder.push(packet, arrival_ms)
        except OSError as exc:
            if exc.errno == errno.ENOSPC:
                self.stop("stopped_disk_full", "no space left on the device")
            else:
                log.exception("recording %s: writing track %s failed",
                              self.recording.recording_id, recorder.info.track_id)
                self._close_track(mid)
        except Exception:  # noqa: BLE001 - one bad track must not end the recording
            log.exception("recording %s: track %s failed", self.recording.recording_id,
                          recorder.info.track_id)
            self._close_track(mid)

    def _close_track(self, mid: str) -> None:
        recorder = self.tracks.pop(mid, None)
        if recorder is not None:
            try:
                recorder.close()
            except Exception:  # noqa: BLE001 - a file that fails to close is still listed
                log.exception("closing track %s failed", recorder.info.track_id)

    def _close_tracks(self) -> None:
        for mid in list(self.tracks):
            self._close_track(mid)

    async def _watch(self) -> None:
        """Claim renewal, stop requests, free disk, idle room, manifest refresh."""
        cfg = self.ctx.config
        last_save = time.monotonic()
        while self.outcome is None:
            await asyncio.sleep(cfg.heartbeat_s)
            try:
                await self._check(cfg)
            except (OSError, RedisError) as exc:  # Redis away: keep recording, retry
                log.warning("recording %s: check failed: %s", self.recording.recording_id, exc)
            if time.monotonic() - last_save >= cfg.manifest_interval_s and self.outcome is None:
                last_save = time.monotonic()
                await self.files.save()

    async def _check(self, cfg: RecorderConfig) -> None:
        if not await self.renew():
            self.stop("lost", "another worker took the job over")
            return
        current = await self.ctx.store.get(self.recording.recording_id)
        if current is None or current.state == "stopping":
            self.stop("stopped", "stop requested")
            return
        if free_bytes(self.directory) < cfg.min_free_bytes:
            self.stop("stopped_disk_full", f"less than {cfg.min_free_bytes} bytes free")
            return
        if self._participants or self._room_tracks:
            self._idle_since = None
        elif self._idle_since is None:
            self._idle_since = time.monotonic()
        elif time.monotonic() - self._idle_since >= cfg.idle_stop_s:
            self.stop("stopped", "the room stayed empty")

    async def _finish(self) -> None:
        """Close files, seal the segment, and (unless the job moved on) the recording."""
        self._close_tracks()
        state = self.outcome or "stopped"
        rid = self.recording.recording_id
        if state == "lost":  # the other worker owns the recording now
            await self.files.finish("recording")
            return
        await self.files.finish(state)
        store = self.ctx.store
        await store.set_fields(rid, chain_head=self.files.head)
        await store.finish(self.recording, state, self.reason if state == "failed" else "")
        final = await store.get(rid)
        if final is not None:
            self.recording = final
            await store.publish(final, reason=self.reason)
        await store.audit(rid, "finished", f"recorder:{self.ctx.worker_id}", state=state,
                          reason=self.reason, segment=self.segment,
                          chain_head=self.files.head)
