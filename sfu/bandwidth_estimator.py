"""Downlink bandwidth estimate of one subscriber connection, from the RTCP it sends us.

Loss-based control as in Google Congestion Control (draft-ietf-rmcat-gcc-02, 5.): receiver
reports give the fraction of our packets that did not arrive; above 10 % the estimate drops
by (1 - 0.5 * loss), below 2 % it grows by 8 % per second, in between it holds. A REMB that
is below what we are sending is the receiver's delay-based detector seeing a queue build up:
it caps the estimate at once. A REMB above our send rate only says the receiver has not found
the limit yet (browsers cap REMB at ~1.5x the incoming rate), so it bounds nothing.

Growth is capped by what was really tried: the estimate may not rise above 1.5x the measured
send rate, or the next step the allocator wants to try (resuming video, one layer up),
whichever is larger. Each step up is therefore a probe of the link: if the link cannot carry
it, loss or REMB pushes the estimate back down within a report interval or two.
"""

from __future__ import annotations

from dataclasses import dataclass

LOSS_DECREASE_ABOVE = 0.10
LOSS_INCREASE_BELOW = 0.02
INCREASE_PER_S = 1.08
MAX_INCREASE_STEP_S = 1.0  # a late report does not buy more than one second of growth
MIN_LOSS_SAMPLE = 10  # packets expected before a loss fraction means anything
REMB_FRESH_S = 3.0
SENT_HEADROOM = 1.5
SENT_HEADROOM_BPS = 10_000


@dataclass(frozen=True)
class EstimatorLimits:
    start_bps: int = 1_000_000
    min_bps: int = 50_000
    max_bps: int = 20_000_000

    def __post_init__(self) -> None:
        if not 0 < self.min_bps <= self.start_bps <= self.max_bps:
            raise ValueError(f"need 0 < min_bps <= start_bps <= max_bps, got {self.min_bps}, "
                             f"{self.start_bps}, {self.max_bps}")


class _StreamLoss:
    """Cumulative counters of one SSRC from its previous report block."""

    __slots__ = ("highest", "lost")

    def __init__(self, highest: int, lost: int) -> None:
        self.highest = highest
        self.lost = lost


class BandwidthEstimator:
    def __init__(self, limits: EstimatorLimits | None = None) -> None:
        self.limits = limits or EstimatorLimits()
        self._estimate = float(self.limits.start_bps)
        self.remb_bps: int | None = None
        self._remb_at = float("-inf")
        self.sent_bps = 0
        self.next_step_bps = 0
        self.loss = 0.0  # the last loss fraction acted upon
        self._streams: dict[int, _StreamLoss] = {}
        self._expected = 0
        self._lost = 0
        self._last_update: float | None = None

    @property
    def estimate_bps(self) -> int:
        return int(self._estimate)

    def set_sent(self, sent_bps: int, next_step_bps: int = 0) -> None:
        """What we sent over the last interval, and the rate the allocator would try next."""
        self.sent_bps = max(0, int(sent_bps))
        self.next_step_bps = max(0, int(next_step_bps))

    def on_remb(self, bitrate: int, now: float) -> None:
        self.remb_bps, self._remb_at = bitrate, now
        if bitrate < self.sent_bps:
            self._set(min(self._estimate, bitrate))

    def remb_fresh(self, now: float) -> bool:
        return now - self._remb_at <= REMB_FRESH_S

    def on_report_block(self, ssrc: int, highest_sequence: int, packets_lost: int,
                        now: float) -> None:
        """One receiver-report block about a stream we send. Losses are counted from the
        cumulative fields, so a missing report loses no information."""
        stream = self._streams.get(ssrc)
        self._streams[ssrc] = _StreamLoss(highest_sequence, packets_lost)
        if stream is not None:
            expected = (highest_sequence - stream.highest) & 0xFFFFFFFF
            if expected < 0x80000000:  # an older, reordered report is ignored
                self._expected += expected
                self._lost += max(0, min(expected, packets_lost - stream.lost))
        self._update(now)

    def _update(self, now: float) -> None:
        if self._expected < MIN_LOSS_SAMPLE:
            return
        loss = self._lost / self._expected
        self._expected = self._lost = 0
        elapsed = MAX_INCREASE_STEP_S if self._last_update is None else \
            min(MAX_INCREASE_STEP_S, max(0.0, now - self._last_update))
        self._last_update = now
        self.loss = loss
        if loss > LOSS_DECREASE_ABOVE:
            self._set(self._estimate * (1 - 0.5 * loss))
        elif loss < LOSS_INCREASE_BELOW:
            self._grow(elapsed, now)

    def _grow(self, elapsed: float, now: float) -> None:
        cap = max(self.sent_bps * SENT_HEADROOM + SENT_HEADROOM_BPS, self.next_step_bps)
        if self.remb_fresh(now) and self.remb_bps is not None \
                and self.remb_bps < self.sent_bps:
            cap = min(cap, self.remb_bps)
        if self._estimate >= cap:
            return
        self._set(min(cap, self._estimate * INCREASE_PER_S ** elapsed))

    def _set(self, value: float) -> None:
        self._estimate = min(float(self.limits.max_bps), max(float(self.limits.min_bps), value))
