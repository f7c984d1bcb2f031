"""One received audio track (one m-section) of a meeting: frames -> 16 kHz PCM chunks ->
the speaker's recogniser (in the executor) -> partial captions and stored final segments."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from concurrent.futures import Executor
from typing import Any

from aiortc import MediaStreamTrack
from aiortc.mediastreams import MediaStreamError

from transcribe.audio import FrameClock, Resampler
from transcribe.recognizer import BYTES_PER_SAMPLE, SAMPLE_RATE, Result, SpeakerRecognizer
from transcribe.timeline import Timeline

log = logging.getLogger(__name__)

# speaker info (the offer's track JSON), result, timeline -> handled by the meeting
ResultSink = Callable[[dict[str, Any], Result, Timeline], Awaitable[None]]


class SpeakerStream:
    def __init__(self, mid: str, track: MediaStreamTrack, speaker_of: Callable[[], dict | None],
                 make_recognizer: Callable[[], SpeakerRecognizer], executor: Executor,
                 sink: ResultSink, chunk_ms: int, silence_flush_s: float,
                 max_backlog_s: float) -> None:
        self.mid = mid
        self.track = track
        self._speaker_of = speaker_of
        self._make = make_recognizer
        self._executor = executor
        self._sink = sink
        self._chunk_bytes = SAMPLE_RATE * BYTES_PER_SAMPLE * chunk_ms // 1000
        self._silence_s = silence_flush_s
        self._max_backlog_ms = max_backlog_s * 1000.0
        self._speaker: dict[str, Any] | None = None
        self._recognizer: SpeakerRecognizer | None = None
        self._timeline = Timeline()
        self._resampler = Resampler()
        self._clock = FrameClock(self._max_backlog_ms)
        self._buffer = bytearray()
        self._buffer_wall = 0.0
        self._unflushed = False  # audio fed since the last final result
        self.dropped_ms = 0.0  # audio skipped because recognition fell behind
        self.closing = False  # set by the meeting: finish the utterance and return

    @property
    def speaker_id(self) -> str | None:
        """Whose audio this stream is transcribing now (None before the first frame)."""
        return self._speaker["participant_id"] if self._speaker else None

    async def run(self) -> None:
        loop = asyncio.get_running_loop()
        while not self.closing:
            try:
                frame = await asyncio.wait_for(self.track.recv(), self._silence_s)
            except asyncio.TimeoutError:
                await self._feed_buffer(loop)
                await self.flush()
                continue
            except MediaStreamError:
                break
            arrived = time.time() * 1000.0
            wall = self._clock.wall_ms(frame, arrived)
            if arrived - wall > self._max_backlog_ms:
                # Recognition fell behind by more than max_backlog_s: skip this audio (the
                # timeline notes the gap) rather than lag further and further.
                self.dropped_ms += frame.samples * 1000.0 / frame.sample_rate
                continue
            await self._take(loop, wall, self._resampler.pcm(frame))
        await self._feed_buffer(loop)
        await self.flush()

    async def _take(self, loop: asyncio.AbstractEventLoop, wall: float, pcm: bytes) -> None:
        speaker = self._speaker_of()
        if speaker is None or speaker.get("kind") != "audio":
            return  # the m-section is idle
        if self._speaker is None or speaker["participant_id"] != self._speaker["participant_id"]:
            await self._feed_buffer(loop)
            await self.flush()
            self._speaker = speaker
            self._recognizer = await loop.run_in_executor(self._executor, self._make)
            self._timeline = Timeline()
        if not self._buffer:
            self._buffer_wall = wall
        self._buffer += pcm
        if len(self._buffer) >= self._chunk_bytes:
            await self._feed_buffer(loop)

    async def _feed_buffer(self, loop: asyncio.AbstractEventLoop) -> None:
        if not self._buffer or self._recognizer is None or self._speaker is None:
            self._buffer.clear()
            return
        pcm = bytes(self._buffer)
        self._buffer.clear()
        self._timeline.add(self._buffer_wall, len(pcm) // BYTES_PER_SAMPLE)
        self._unflushed = True
        results = await loop.run_in_executor(self._executor, self._recognizer.feed, pcm)
        for result in results:
            if result.final:
                self._unflushed = False
            await self._sink(self._speaker, result, self._timeline)

    async def flush(self) -> None:
        """Finalise the utterance in progress (silence, speaker change, leaving)."""
        if not self._unflushed or self._recognizer is None or self._speaker is None:
            return
        self._unflushed = False
        loop = asyncio.get_running_loop()
        result = await loop.run_in_executor(self._executor, self._recognizer.flush)
        if result is not None:
            await self._sink(self._speaker, result, self._timeline)
