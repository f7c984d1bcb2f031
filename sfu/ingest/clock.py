"""Media time to RTP time for the tracks of one feed, and the wall-clock pairing their
sender reports carry. All tracks of a feed map the source's presentation times through
one reference, so a browser lip-syncs them from our SRs as it would a camera's."""

from __future__ import annotations

import random
import time
from collections import deque

SR_EVERY_S = 1.0


class TrackClock:
    """RTP timestamps of one track, continuous across reconnects of the source."""

    def __init__(self, rate: int) -> None:
        self.rate = rate
        self._base = random.getrandbits(32)
        self._last_ts: int | None = None
        self._last_mono = 0.0
        self.last_report = -SR_EVERY_S

    def rebase(self, now_mono: float) -> None:
        """A new source session: keep going from where the last one stopped, moved on by
        the wall time that passed, so timestamps never run backwards."""
        if self._last_ts is not None:
            self._base = self._last_ts + round((now_mono - self._last_mono) * self.rate)

    def timestamp(self, media_s: float, now_mono: float) -> int:
        ts = (self._base + round(media_s * self.rate)) & 0xFFFFFFFF
        self._last_ts, self._last_mono = ts, now_mono
        return ts


class SessionClock:
    """One source session's reference: media time `ref_s` happened at (wall, mono)."""

    def __init__(self) -> None:
        self.ref_s: float | None = None
        self.wall = 0.0
        self.mono = 0.0

    def offset(self, pts_s: float) -> float:
        """Seconds of media since the session's first frame."""
        if self.ref_s is None:
            self.ref_s, self.wall, self.mono = pts_s, time.time(), time.monotonic()
        return pts_s - self.ref_s


class RateMeter:
    """Bits per second over the last `window_s`."""

    def __init__(self, window_s: float = 2.0) -> None:
        self._window = window_s
        self._samples: deque[tuple[float, int]] = deque()
        self._total = 0

    def add(self, size: int, now: float) -> None:
        self._samples.append((now, size))
        self._total += size
        self._expire(now)

    def bps(self, now: float) -> int:
        self._expire(now)
        if not self._samples:
            return 0
        return int(self._total * 8 / self._window)

    def _expire(self, now: float) -> None:
        while self._samples and self._samples[0][0] < now - self._window:
            self._total -= self._samples.popleft()[1]
