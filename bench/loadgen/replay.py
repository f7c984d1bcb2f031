"""Media tracks that replay pre-encoded packets in real time; aiortc packetises an av.Packet
without encoding it."""

from __future__ import annotations

import asyncio
import fractions
import time
from collections.abc import Callable

import av
from aiortc import MediaStreamTrack

from bench.clip import FPS, OPUS_FRAME_MS, Clip

VIDEO_CLOCK = 90000
AUDIO_CLOCK = 48000


class ReplayTrack(MediaStreamTrack):
    """Loops over `payloads`, one every `period_s`, from `start`; the clock starts when the
    sender first asks (after the connection is up), and a late loop catches up."""

    def __init__(self, kind: str, payloads: list[bytes], period_s: float, clock_rate: int,
                 start: int, on_frame: Callable[[str], None]) -> None:
        super().__init__()
        self.kind = kind
        self._payloads = payloads
        self._period_s = period_s
        self._ticks = round(period_s * clock_rate)
        self._time_base = fractions.Fraction(1, clock_rate)
        self._start = start
        self._t0: float | None = None
        self._on_frame = on_frame
        self._count = 0

    async def recv(self) -> av.Packet:
        n = self._count
        if self._t0 is None:
            self._t0 = time.monotonic()
        delay = self._t0 + n * self._period_s - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        packet = av.Packet(self._payloads[(self._start + n) % len(self._payloads)])
        packet.pts = n * self._ticks
        packet.time_base = self._time_base
        self._count += 1
        self._on_frame(self.kind)
        return packet


def publisher_tracks(clip: Clip, index: int, publishers: int,
                     on_frame: Callable[[str], None]) -> tuple[ReplayTrack, ReplayTrack]:
    """Audio and video of publisher `index`. Publishers start at different keyframes of the
    clip, so at any moment they send different payloads (the latency lookup relies on it)."""
    key = start_keyframe(clip, index, publishers)
    audio_start = round(key * (1000 / FPS) / OPUS_FRAME_MS)
    audio = ReplayTrack("audio", clip.audio, OPUS_FRAME_MS / 1000, AUDIO_CLOCK,
                        audio_start, on_frame)
    video = ReplayTrack("video", clip.video, 1 / FPS, VIDEO_CLOCK, key, on_frame)
    return audio, video


def start_keyframe(clip: Clip, index: int, publishers: int) -> int:
    return clip.keyframes[(index * len(clip.keyframes)) // max(1, publishers)]
