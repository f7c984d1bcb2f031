"""Downlink bandwidth estimate of one subscriber connection, from the RTCP it sends us.

Loss-based control as in Google Congestion Control (draft-ietf-rmcat-gcc-02, 5.): receiver
reports give the fraction of our packets that did not arrive; above 10 % the estimate drops
to (1 - 0.5 * loss) times what we were sending (an SFU often sends less than its estimate, and
it is the send rate that the link failed to carry), below 2 % it grows by 8 % per second, in
between it holds.

REMB is the receiver's delay-based estimate, but only its *drops* mean congestion: the
receiver's AIMD lowers it only when it sees a queue build up (to 0.85x the rate it receives),
while after we start sending more (a new track, a layer up, video resumed) it ramps up from
below our send rate at ~8 %/s, and its first values before the receiver's estimator settles
can be tiny. So a REMB that is lower than the previous one and below 90 % of what it covers
(the streams carrying abs-send-time: video) caps the estimate at REMB plus the uncovered
(audio) rate, and stops growth above that until REMB rises again; a rising or first REMB only
records the baseline; a REMB above our send rate bounds nothing (receivers cap it at ~1.5x
their incoming rate).

Growth is capped by what was really tried: the estimate may not rise above 1.5x the measured
send rate, or the next step the allocator wants to try (resuming video, one layer up),
whichever is larger. Each step up is therefore a probe of the link: if the link cannot carry
it, loss or REMB pushes the estimate back down within a report interval or two.

Slow start: until the link first shows congestion, the estimate doubles per second of clean
reports and may grow to everything the subscriber would like (`demand`), like the exponential
start-up probing of browsers, so a subscriber on a good link reaches full quality in seconds.
"""

from __future__ import annotations

from dataclasses import dataclass

LOSS_DECREASE_ABOVE = 0.10
LOSS_INCREASE_BELOW = 0.02
INCREASE_PER_S = 1.08
SLOW_START_PER_S = 2.0
REMB_CONGESTED = 0.9  # a REMB below this fraction of the send rate signals a queue
LOSS_DECREASE_INTERVAL_S = 1.0  # a report interval plus the time a cut takes to show
MAX_INCREASE_STEP_S = 1.0  # a late report does not buy more than one second of growth
MIN_LOSS_SAMPLE = 10  # packets expected before a loss fraction means anything
REMB_FRESH_S = 3.0
# A receiver's delay-based estimator settles in its first seconds on a stream set (aiortc
# re-initialises to the incoming rate after 3 s; its earlier values can be ~10 kbit/s):
# drops in that time are not congestion.
REMB_WARMUP_S = 4.0
SENT_HEADROOM = 1.5
SENT_HEADROOM_BPS = 10_000
STEP_HEADROOM = 1.1  # growth may pass the next step a little: its measured size is noisy


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
        self._rembs: dict[tuple[int, ...], tuple[int, float]] = {}  # ssrcs -> (bps, at)
        self._remb_since: dict[tuple[int, ...], float] = {}  # ssrcs -> first REMB
        self._remb_caps: dict[tuple[int, ...], float] = {}  # after a drop, until it rises
        self.next_step_bps = 0
        self.demand_bps = 0
        self.congested = False  # the link has shown its limit at least once
        self.loss = 0.0  # the last loss fraction acted upon
        self._streams: dict[int, _StreamLoss] = {}
        self._expected = 0
        self._lost = 0
        self._last_update: float | None = None
        self._reports_stale_until = float("-inf")

    @property
    def estimate_bps(self) -> int:
        return int(self._estimate)

    @property
    def proven(self) -> bool:
        """The estimate is a real limit: the link showed congestion, or the estimate is at
        the configured ceiling (an administrator's cap is as good as a measurement)."""
        return self.congested or self._estimate >= self.limits.max_bps

    def set_sent(self, sent_bps: int, next_step_bps: int = 0, demand_bps: int = 0) -> None:
        """What we sent over the last interval, the rate the allocator would try next, and
        the rate that would give the subscriber everything it shows at the size it shows."""
        self.sent_bps = max(0, int(sent_bps))
        self.next_step_bps = max(0, int(next_step_bps))
        self.demand_bps = max(0, int(demand_bps))

    def on_remb(self, bitrate: int, now: float, ssrcs: tuple[int, ...] = (),
                covered_bps: int | None = None) -> None:
        """A REMB about `ssrcs`, which carry `covered_bps` of what we send (None: all)."""
        covered = self.sent_bps if covered_bps is None else covered_bps
        previous = self._rembs.get(ssrcs)
        self._rembs[ssrcs] = (bitrate, now)
        self.remb_bps, self._remb_at = bitrate, now
        if previous is None or now - previous[1] > REMB_FRESH_S:
            self._remb_since[ssrcs] = now
        warming = now - self._remb_since[ssrcs] < REMB_WARMUP_S
        if warming or previous is None or bitrate >= previous[0]:
            self._remb_caps.pop(ssrcs, None)  # a baseline, or the receiver ramping up
            return
        if bitrate < covered * REMB_CONGESTED:
            cap = bitrate + max(0, self.sent_bps - covered)
            self._remb_caps[ssrcs] = cap
            self._decrease(cap)

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

    def update(self, now: float) -> None:
        """Act on the loss reported since the last call (the caller's tick): the blocks of
        one compound report (audio and video) and receivers that report separately are
        added up into one decision rather than each cutting the estimate."""
        if self._expected < MIN_LOSS_SAMPLE:
            return
        if now < self._reports_stale_until:
            # Reports this soon after a cut describe traffic from before it: counting them
            # again would cut for the same loss twice (libwebrtc waits RTT + 300 ms).
            self._expected = self._lost = 0
            return
        loss = self._lost / self._expected
        self._expected = self._lost = 0
        elapsed = MAX_INCREASE_STEP_S if self._last_update is None else \
            min(MAX_INCREASE_STEP_S, max(0.0, now - self._last_update))
        self._last_update = now
        self.loss = loss
        if loss > LOSS_DECREASE_ABOVE:
            base = min(self._estimate, self.sent_bps) if self.sent_bps else self._estimate
            self._decrease(base * (1 - 0.5 * loss))
            self._reports_stale_until = now + LOSS_DECREASE_INTERVAL_S
        elif loss < LOSS_INCREASE_BELOW:
            self._grow(elapsed, now)

    def _decrease(self, value: float) -> None:
        self.congested = True
        self._set(min(self._estimate, value))

    def _grow(self, elapsed: float, now: float) -> None:
        step = self.next_step_bps if self.congested else max(self.next_step_bps,
                                                              self.demand_bps)
        step = int(step * STEP_HEADROOM)
        cap = max(self.sent_bps * SENT_HEADROOM + SENT_HEADROOM_BPS, step)
        for ssrcs, remb_cap in list(self._remb_caps.items()):
            if now - self._rembs[ssrcs][1] > REMB_FRESH_S:
                del self._remb_caps[ssrcs]
            else:
                cap = min(cap, remb_cap)
        if self._estimate >= cap:
            return
        rate = INCREASE_PER_S if self.congested else SLOW_START_PER_S
        self._set(min(cap, self._estimate * rate ** elapsed))

    def _set(self, value: float) -> None:
        self._estimate = min(float(self.limits.max_bps), max(float(self.limits.min_bps), value))
