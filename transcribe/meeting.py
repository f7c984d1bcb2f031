"""One meeting being transcribed: the hidden participant, one SpeakerStream per received
audio track, and what happens to results (captions published, final segments stored)."""

from __future__ import annotations

import asyncio
import logging
import time
from concurrent.futures import Executor
from dataclasses import dataclass
from typing import Any

import vosk
from aiortc import MediaStreamTrack
from aiortc.mediastreams import MediaStreamError

from transcribe.config import TranscribeConfig
from transcribe.participant import HiddenParticipant
from transcribe.recognizer import Result, SpeakerRecognizer
from transcribe.search import tokenize
from transcribe.segments import build_segment, final_caption, partial_caption
from transcribe.speaker import SpeakerStream
from transcribe.store import TranscriptStore, now_ms
from transcribe.timeline import Timeline

log = logging.getLogger(__name__)
POLL_S = 0.5


@dataclass(frozen=True)
class MeetingPlan:
    room_id: str
    lang: str
    phrases: tuple[str, ...]
    started_ms: int


class Meeting:
    def __init__(self, plan: MeetingPlan, participant: HiddenParticipant, model: vosk.Model,
                 store: TranscriptStore, executor: Executor, config: TranscribeConfig) -> None:
        self.plan = plan
        self.participant = participant
        self.model = model
        self.store = store
        self.executor = executor
        self.config = config
        self.stop = asyncio.Event()
        self.streams: dict[str, SpeakerStream] = {}
        self.segments_written = 0
        self._tasks: list[asyncio.Task[None]] = []
        self._drains: list[asyncio.Task[None]] = []
        self._seq = 0
        self._last_partial: dict[str, float] = {}
        participant.on_audio = self._on_audio

    async def run(self) -> str:
        """Transcribe until stopped, the room empties for `idle_stop_s`, or the socket
        closes; returns why ("stopped", "idle", "closed")."""
        idle_since: float | None = None
        reason = "stopped"
        try:
            await self.participant.join()
            while not self.stop.is_set():
                if self.participant.closed.is_set():
                    reason = "closed"
                    break
                if self.participant.visible:
                    idle_since = None
                elif idle_since is None:
                    idle_since = time.monotonic()
                elif time.monotonic() - idle_since >= self.config.idle_stop_s:
                    reason = "idle"
                    break
                try:
                    await asyncio.wait_for(self.stop.wait(), POLL_S)
                except asyncio.TimeoutError:
                    pass
        finally:
            await self._close()
        return reason

    def _on_audio(self, mid: str, track: MediaStreamTrack) -> None:
        if len(self.streams) >= self.config.max_speakers:
            log.warning("room %s: more than max_speakers (%d) audio tracks; mid %s is not "
                        "transcribed", self.plan.room_id, self.config.max_speakers, mid)
            self._drains.append(asyncio.create_task(_drain(track)))
            return
        stream = SpeakerStream(
            mid, track, lambda: self.participant.speakers.get(mid),
            lambda: SpeakerRecognizer(self.model, self.plan.phrases), self.executor,
            self._on_result, self.config.chunk_ms, self.config.silence_flush_s,
            self.config.max_backlog_s)
        self.streams[mid] = stream
        self._tasks.append(asyncio.create_task(self._guarded(stream)))

    async def _guarded(self, stream: SpeakerStream) -> None:
        try:
            await stream.run()
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("room %s: speaker stream %s failed", self.plan.room_id, stream.mid)
        finally:
            if self.streams.get(stream.mid) is stream:
                del self.streams[stream.mid]

    async def _on_result(self, speaker: dict[str, Any], result: Result,
                         timeline: Timeline) -> None:
        room_id, speaker_id = self.plan.room_id, speaker["participant_id"]
        name = speaker.get("name", "")
        if not result.final:
            now = time.monotonic()
            if (now - self._last_partial.get(speaker_id, 0.0)) * 1000 < \
                    self.config.partial_interval_ms:
                return
            self._last_partial[speaker_id] = now
            await self.store.publish_caption(
                room_id, partial_caption(room_id, speaker_id, name, result.text, now_ms()))
            return
        self._seq += 1
        segment = build_segment(room_id, self.plan.lang, speaker_id, name, result, timeline,
                                self.plan.started_ms, self._seq)
        loop = asyncio.get_running_loop()
        tokens = await loop.run_in_executor(self.executor, tokenize, segment["text"])
        await self.store.add_segment(segment, tokens)
        self.segments_written += 1
        self._last_partial.pop(speaker_id, None)
        await self.store.publish_caption(room_id, final_caption(segment, now_ms()))

    async def _close(self) -> None:
        """Let each speaker finish (its run loop flushes the utterance in progress, so the
        recogniser is never called from two places at once), then leave."""
        for stream in self.streams.values():
            stream.closing = True
        for task in self._drains:
            task.cancel()
        if self._tasks:
            _, late = await asyncio.wait(self._tasks, timeout=self.config.silence_flush_s + 5)
            for task in late:
                task.cancel()
            await asyncio.gather(*self._tasks, return_exceptions=True)
        await self.participant.leave()


async def _drain(track: MediaStreamTrack) -> None:
    """Read and drop a track we do not transcribe (aiortc queues unread frames forever)."""
    while True:
        try:
            await track.recv()
        except MediaStreamError:
            return
