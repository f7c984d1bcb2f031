"""A rate-limited link between a subscriber and the SFU: LossyRelay with a bottleneck.

The SFU-to-client direction goes through a drop-tail queue drained at `rate_bps` (what a
congested mobile link does): packets wait their turn, so delay grows as the queue fills,
and a packet that would wait longer than `max_queue_s` is dropped. Both signals reach the
SFU the way they would in the field: as REMB from the client's delay-based estimator and
as loss in its receiver reports.
"""

from __future__ import annotations

import asyncio

from sfu_proxy import LossyRelay


class ShapedRelay(LossyRelay):
    def __init__(self, max_queue_s: float = 0.25) -> None:
        super().__init__()
        self.rate_bps: int | None = None  # None: no bottleneck
        self.max_queue_s = max_queue_s
        self.sent_bytes = 0
        self.queue_dropped = 0
        self._busy_until = 0.0

    def _from_server(self, data: bytes, addr: tuple) -> None:
        rate = self.rate_bps
        if rate is None:
            self.sent_bytes += len(data)
            super()._from_server(data, addr)
            return
        loop = asyncio.get_running_loop()
        now = loop.time()
        start = max(now, self._busy_until)
        if start - now > self.max_queue_s:
            self.queue_dropped += 1
            return
        self._busy_until = start + len(data) * 8 / rate
        self.sent_bytes += len(data)
        loop.call_at(self._busy_until, super()._from_server, data, addr)
