"""A cap on retransmissions per down track, relative to what the track sends.

Under heavy loss a receiver NACKs most packets, often repeatedly; answering every NACK can
send more repair than media and turn a congested link into a collapsed one. Repairs are
allowed up to `share` of the media bytes sent in the previous second (and at least
`floor_bytes` per second, ~32 kbit/s, so an occasional loss on a quiet stream is always
repaired).
"""

from __future__ import annotations

WINDOW_S = 1.0


class ResendBudget:
    def __init__(self, share: float = 0.3, floor_bytes: int = 4_000) -> None:
        self._share = share
        self._floor = floor_bytes
        self._window_start = 0.0
        self._media_at_start = 0
        self._allowed = floor_bytes
        self._used = 0
        self.refused = 0

    def allow(self, size: int, media_octets: int, now: float) -> bool:
        """May a repair of `size` bytes go out now? `media_octets`: the track's running
        count of media bytes sent."""
        elapsed = now - self._window_start
        if elapsed >= WINDOW_S:
            # Per second of media since the last window began (it may have begun long ago).
            sent = (media_octets - self._media_at_start) * WINDOW_S / elapsed
            self._allowed = max(self._floor, int(sent * self._share))
            self._window_start, self._media_at_start, self._used = now, media_octets, 0
        if self._used + size > self._allowed:
            self.refused += 1
            return False
        self._used += size
        return True
