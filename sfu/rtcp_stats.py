"""RTCP arithmetic without I/O: reception statistics (RFC 3550 A.1, A.3, A.8),
upstream NACK bookkeeping, and sender-report translation for forwarded streams."""

from __future__ import annotations

from dataclasses import dataclass

from sfu.rtp_rewriter import seq_delta

NTP_EPOCH_OFFSET = 2208988800  # seconds from 1900-01-01 to 1970-01-01
PACKETS_LOST_MIN = -(1 << 23)
PACKETS_LOST_MAX = (1 << 23) - 1


def ntp_from_unix(unix_s: float) -> int:
    """64-bit NTP timestamp (32.32 fixed point) for a Unix time."""
    return int((unix_s + NTP_EPOCH_OFFSET) * (1 << 32)) & 0xFFFFFFFFFFFFFFFF


def ntp_middle32(ntp: int) -> int:
    """The 'LSR' form of an NTP timestamp: middle 32 bits."""
    return (ntp >> 16) & 0xFFFFFFFF


def derive_sender_report(
    src_ntp: int, src_rtp: int, src_received: float, now: float,
    clock_rate: int, ts_offset: int,
) -> tuple[int, int]:
    """NTP and RTP times for our SR on a forwarded stream.

    The publisher's SR pairs its wall clock with its RTP clock. We keep that pairing
    (so audio and video of one publisher stay in sync in the browser), move it forward
    by the time elapsed since the SR arrived, and shift the RTP side by the stream's
    timestamp offset.
    """
    elapsed = max(0.0, now - src_received)
    ntp = (src_ntp + int(elapsed * (1 << 32))) & 0xFFFFFFFFFFFFFFFF
    rtp = (src_rtp + round(elapsed * clock_rate) + ts_offset) & 0xFFFFFFFF
    return ntp, rtp


@dataclass(frozen=True)
class ReportBlock:
    fraction_lost: int
    packets_lost: int
    highest_sequence: int
    jitter: int
    lsr: int
    dlsr: int


class ReceiveStats:
    """Reception statistics of one incoming stream, for receiver reports upstream."""

    def __init__(self, clock_rate: int) -> None:
        self._clock_rate = clock_rate
        self._base: int | None = None
        self._max = 0
        self._cycles = 0
        self.received = 0
        self._expected_prior = 0
        self._received_prior = 0
        self._jitter = 0.0
        self._last_transit: float | None = None
        self._last_ts: int | None = None
        self._lsr = 0
        self._lsr_at: float | None = None

    def add(self, seq: int, ts: int, arrival_s: float) -> None:
        self.received += 1
        if self._base is None:
            self._base = self._max = seq
        else:
            delta = seq_delta(seq, self._max)
            if delta <= 0:
                return  # late or duplicate: counted, no effect on order/jitter
            if seq < self._max:
                self._cycles += 1 << 16
            self._max = seq
        if ts != self._last_ts:
            transit = arrival_s * self._clock_rate - ts
            if self._last_transit is not None:
                d = abs(transit - self._last_transit)
                # A timestamp wrap shows up as a jump of ~2^32; ignore that sample.
                if d < (1 << 31):
                    self._jitter += (d - self._jitter) / 16.0
            self._last_transit = transit
            self._last_ts = ts

    def on_sender_report(self, ntp: int, arrival_s: float) -> None:
        self._lsr = ntp_middle32(ntp)
        self._lsr_at = arrival_s

    @property
    def extended_max(self) -> int:
        return self._cycles + self._max

    @property
    def expected(self) -> int:
        return 0 if self._base is None else self.extended_max - self._base + 1

    def report(self, now_s: float) -> ReportBlock | None:
        """A report block, and the start of a new fraction-lost interval."""
        if self._base is None:
            return None
        expected = self.expected
        interval_expected = expected - self._expected_prior
        interval_received = self.received - self._received_prior
        self._expected_prior, self._received_prior = expected, self.received
        interval_lost = interval_expected - interval_received
        fraction = 0
        if interval_expected > 0 and interval_lost > 0:
            fraction = min(255, (interval_lost << 8) // interval_expected)
        lost = max(PACKETS_LOST_MIN, min(PACKETS_LOST_MAX, expected - self.received))
        dlsr = 0
        if self._lsr_at is not None:
            dlsr = max(0, min(0xFFFFFFFF, int((now_s - self._lsr_at) * 65536)))
        return ReportBlock(
            fraction_lost=fraction, packets_lost=lost,
            highest_sequence=self.extended_max & 0xFFFFFFFF, jitter=int(self._jitter),
            lsr=self._lsr, dlsr=dlsr,
        )


class NackTracker:
    """Which upstream packets are missing and when to ask for them again.

    Bounded so a broken link cannot become a NACK storm: at most `max_missing` tracked
    packets, `max_retries` requests each, and a gap wider than `max_gap` is not NACKed
    at all (the caller asks for a keyframe instead).
    """

    def __init__(self, max_missing: int = 128, max_gap: int = 128,
                 retry_interval_s: float = 0.1, max_retries: int = 3) -> None:
        self._max_missing = max_missing
        self._max_gap = max_gap
        self._retry = retry_interval_s
        self._max_retries = max_retries
        self._highest: int | None = None
        self._missing: dict[int, list[float]] = {}  # seq -> [next_due, tries]
        self._next_due = float("inf")

    @property
    def missing(self) -> list[int]:
        return list(self._missing)

    def add(self, seq: int, now: float) -> bool:
        """Record an arrival; True if a gap too wide to repair by NACK was seen."""
        if self._highest is None:
            self._highest = seq
            return False
        delta = seq_delta(seq, self._highest)
        if delta <= 0:
            self._missing.pop(seq, None)
            return False
        highest = self._highest
        self._highest = seq
        if delta - 1 > self._max_gap:
            self._missing.clear()
            return True
        for step in range(1, delta):
            self._missing[(highest + step) & 0xFFFF] = [now, 0]
        while len(self._missing) > self._max_missing:
            del self._missing[next(iter(self._missing))]
        if delta > 1:
            self._next_due = min(self._next_due, now)
        return False

    def due(self, now: float) -> list[int]:
        """Sequence numbers to NACK now; each is asked for at most max_retries times."""
        if now < self._next_due:
            return []
        out: list[int] = []
        next_due = float("inf")
        for seq, state in list(self._missing.items()):
            if state[0] <= now:
                out.append(seq)
                state[1] += 1
                state[0] = now + self._retry
                if state[1] >= self._max_retries:
                    del self._missing[seq]
                    continue
            next_due = min(next_due, state[0])
        self._next_due = next_due
        return out
