"""Bit rate from a running byte counter, sampled now and then (nothing per packet)."""

from __future__ import annotations

class RateMeter:
    """Feed it a monotonically growing octet count; it answers bits per second over the
    last window of at least `window_s` (shorter ones are mostly noise from frame
    boundaries), smoothed so one big keyframe does not swing it."""

    def __init__(self, window_s: float = 0.5, smoothing: float = 0.5) -> None:
        self.bps = 0
        self._window_s = window_s
        self._smoothing = smoothing
        self._octets: int | None = None
        self._at = 0.0
        self._primed = False

    def sample(self, octets: int, now: float) -> int:
        if self._octets is None or octets < self._octets:
            self._octets, self._at = octets, now
            return self.bps
        elapsed = now - self._at
        if elapsed < self._window_s:
            return self.bps
        rate = (octets - self._octets) * 8 / elapsed
        self._octets, self._at = octets, now
        if not self._primed:
            self._primed = True
            self.bps = int(rate)
        else:
            self.bps = int(self.bps + (rate - self.bps) * self._smoothing)
        return self.bps
