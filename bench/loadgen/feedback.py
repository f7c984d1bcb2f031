"""RTCP a real subscriber sends: a receiver report and a REMB once a second.

The receive taps drop packets before aiortc's receiver, which would otherwise report, so the
load generator reports itself: servers that estimate bandwidth or count loss from receiver
reports then do that work as they would with real clients.
"""

from __future__ import annotations

import asyncio
import random
from dataclasses import dataclass

from aiortc.rtp import RtcpPsfbPacket, RtcpReceiverInfo, RtcpRrPacket, pack_remb_fci

INTERVAL_S = 1.0
REMB_BPS = 20_000_000  # "plenty": the subscriber's link is never the bottleneck here
REMB_FMT = 15


@dataclass
class StreamState:
    base_seq: int
    highest: int  # extended sequence number
    received: int = 1
    expected_prior: int = 0
    received_prior: int = 0

    def add(self, seq: int) -> None:
        self.received += 1
        delta = (seq - self.highest) & 0xFFFF
        if delta < 0x8000:
            self.highest += delta

    def report(self, ssrc: int) -> RtcpReceiverInfo:
        expected = self.highest - self.base_seq + 1
        lost = max(0, expected - self.received)
        interval_expected = expected - self.expected_prior
        interval_lost = interval_expected - (self.received - self.received_prior)
        self.expected_prior, self.received_prior = expected, self.received
        fraction = (interval_lost << 8) // interval_expected \
            if interval_expected > 0 and interval_lost > 0 else 0
        return RtcpReceiverInfo(ssrc=ssrc, fraction_lost=min(fraction, 255),
                                packets_lost=min(lost, 0x7FFFFF),
                                highest_sequence=self.highest & 0xFFFFFFFF,
                                jitter=0, lsr=0, dlsr=0)


class Feedback:
    def __init__(self) -> None:
        self.streams: dict[int, StreamState] = {}
        self.ssrc = random.getrandbits(32)

    def on_packet(self, ssrc: int, seq: int) -> None:
        stream = self.streams.get(ssrc)
        if stream is None:
            self.streams[ssrc] = StreamState(base_seq=seq, highest=seq)
        else:
            stream.add(seq)

    def compound(self) -> bytes:
        ssrcs = list(self.streams)[:31]  # one RR holds at most 31 report blocks
        rr = RtcpRrPacket(ssrc=self.ssrc,
                          reports=[self.streams[s].report(s) for s in ssrcs])
        remb = RtcpPsfbPacket(fmt=REMB_FMT, ssrc=self.ssrc, media_ssrc=0,
                              fci=pack_remb_fci(REMB_BPS, ssrcs))
        return bytes(rr) + bytes(remb)

    async def run(self, transport) -> None:
        """Send until cancelled; `transport` is the subscriber's RTCDtlsTransport."""
        while True:
            await asyncio.sleep(INTERVAL_S)
            if self.streams:
                try:
                    await transport._send_rtp(self.compound())
                except ConnectionError:
                    return
