"""At most one keyframe request per interval per published track, coalesced, never dropped.

Many subscribers asking at once (a join wave, a lossy Wi-Fi) must not turn into a PLI
storm at the publisher, but a request that falls inside the quiet window is kept and
sent the moment the window opens, so a late joiner never waits for the next natural
keyframe.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable


class KeyframeLimiter:
    def __init__(
        self,
        min_interval_s: float,
        send: Callable[[], None],
        loop: asyncio.AbstractEventLoop | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._interval = min_interval_s
        self._send = send
        self._loop = loop
        self._clock = clock
        self._last: float | None = None
        self._timer: asyncio.TimerHandle | None = None
        self.sent = 0

    @property
    def pending(self) -> bool:
        return self._timer is not None

    def request(self) -> None:
        """Ask for a keyframe now, or as soon as the rate limit allows."""
        if self._timer is not None:
            return  # already queued: coalesce
        now = self._clock()
        wait = 0.0 if self._last is None else self._last + self._interval - now
        if wait <= 0:
            self._fire()
        else:
            loop = self._loop or asyncio.get_running_loop()
            self._timer = loop.call_later(wait, self._fire)

    def close(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _fire(self) -> None:
        self._timer = None
        self._last = self._clock()
        self.sent += 1
        self._send()
