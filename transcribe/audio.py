"""Decoded WebRTC audio (48 kHz, any layout) -> 16 kHz mono s16 PCM bytes, and the wall
clock of each frame from its RTP-derived pts."""

from __future__ import annotations

import time

import av

from transcribe.recognizer import SAMPLE_RATE

# A frame whose pts-predicted time is this far (ms) ahead of its arrival restarts the clock
# (the timestamps jumped); one predicted further behind than the backlog the caller allows
# (plus this margin) does too, since that is no longer a backlog but a jump back.
REBASE_MS = 1000.0


class Resampler:
    def __init__(self) -> None:
        self._resampler = av.AudioResampler(format="s16", layout="mono", rate=SAMPLE_RATE)

    def pcm(self, frame: av.AudioFrame) -> bytes:
        out = bytearray()
        for piece in self._resampler.resample(frame):
            out += piece.to_ndarray().tobytes()
        return bytes(out)


class FrameClock:
    """Wall ms at which a frame's first sample was spoken: arrival time of the first frame,
    then advanced by pts, so jitter does not smear word times."""

    def __init__(self, max_behind_ms: float = 10000.0) -> None:
        self._max_behind_ms = max_behind_ms + 10 * REBASE_MS
        self._base_wall = 0.0
        self._base_pts: float | None = None

    def wall_ms(self, frame: av.AudioFrame, arrived_ms: float | None = None) -> float:
        now = time.time() * 1000.0 if arrived_ms is None else arrived_ms
        if frame.pts is None or frame.time_base is None:
            return now
        pts_ms = float(frame.pts * frame.time_base) * 1000.0
        if self._base_pts is not None:
            predicted = self._base_wall + (pts_ms - self._base_pts)
            if -self._max_behind_ms <= predicted - now <= REBASE_MS:
                return predicted
        self._base_wall, self._base_pts = now, pts_ms
        return now
