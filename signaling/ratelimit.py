"""Per-client message rate limiting: a token bucket plus a meter for repeated abuse."""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable


class TokenBucket:
    """Allows `burst` messages at once and `rate` per second sustained."""

    def __init__(self, rate: float, burst: int, clock: Callable[[], float] = time.monotonic):
        self.rate = rate
        self.burst = burst
        self._clock = clock
        self._tokens = float(burst)
        self._stamp = clock()

    def take(self) -> bool:
        now = self._clock()
        self._tokens = min(self.burst, self._tokens + (now - self._stamp) * self.rate)
        self._stamp = now
        if self._tokens >= 1:
            self._tokens -= 1
            return True
        return False


class AbuseMeter:
    """Counts refused messages in a sliding window; `strike` says when to give up on a client."""

    def __init__(self, limit: int, window_s: float = 10.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.limit = limit
        self.window_s = window_s
        self._clock = clock
        self._strikes: deque[float] = deque()

    def strike(self) -> bool:
        """Record one refused message; True once more than `limit` fell in the window."""
        now = self._clock()
        self._strikes.append(now)
        while self._strikes and self._strikes[0] < now - self.window_s:
            self._strikes.popleft()
        return len(self._strikes) > self.limit
