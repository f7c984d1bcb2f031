"""aiortc client peers on 127.0.0.1 that publish to and subscribe from a RoomMedia.

They observe packets through the same receiver/sender taps the SFU uses (its own
code, sfu.aiortc_bridge), with aiortc's normal processing kept afterwards.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiortc import RTCRtpSender
from aiortc.codecs.h264 import h264_depayload
from aiortc.codecs.vpx import vp8_depayload
from aiortc.mediastreams import MediaStreamTrack

from sfu import RoomMedia, SubscribeOffer
from sfu import aiortc_bridge as bridge
from sfu.rtcp_events import RtcpEvent

LOOPBACK = ("127.0.0.1",)


async def wait_for(predicate: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        await asyncio.sleep(0.02)


class Publisher:
    def __init__(self, room: RoomMedia, pid: str, name: str | None = None) -> None:
        self.room, self.pid, self.name = room, pid, name or pid
        self.pc = bridge.new_peer_connection()
        self.rtcp: list[tuple[float, RtcpEvent]] = []  # (monotonic arrival, event)
        self.sources: dict[str, str] = {}
        self.transceivers: list[Any] = []

    def add(self, track: MediaStreamTrack, source: str, codec: str | None = None) -> Any:
        """Send `track`; `codec` ("H264", "VP8") puts that codec first in the offer."""
        transceiver = self.pc.addTransceiver(track, direction="sendonly")
        if codec is not None:
            caps = RTCRtpSender.getCapabilities(track.kind).codecs
            transceiver.setCodecPreferences(
                [c for c in caps if c.mimeType.lower() == f"{track.kind}/{codec.lower()}"]
                + [c for c in caps if c.mimeType.lower() != f"{track.kind}/{codec.lower()}"])
        bridge.tap_sender_rtcp(transceiver,
                               lambda event: self.rtcp.append((time.monotonic(), event)))
        self.transceivers.append((transceiver, source))
        return transceiver

    async def offer(self) -> str:
        return await bridge.local_offer(self.pc, LOOPBACK)

    def current_sources(self) -> dict[str, str]:
        return {t.mid: source for t, source in self.transceivers if t.mid is not None}

    async def publish(self) -> None:
        offer = await self.offer()
        answer = await self.room.publish(self.pid, self.name, offer, self.current_sources())
        await bridge.set_remote(self.pc, answer, "answer")

    def received(self, kind: type) -> list[tuple[float, Any]]:
        return [(t, e) for t, e in self.rtcp if isinstance(e, kind)]

    async def close(self) -> None:
        await self.pc.close()


@dataclass
class Stream:
    """What a subscriber received on one m-section."""

    packets: list[Any] = field(default_factory=list)
    arrivals: list[float] = field(default_factory=list)
    rtcp: list[RtcpEvent] = field(default_factory=list)

    def frames(self, codec: str) -> list[tuple[int, bytes]]:
        """Complete frames (timestamp, depayloaded bytes), ignoring RTX copies."""
        depayload = vp8_depayload if codec == "VP8" else h264_depayload
        by_ts: dict[int, dict[int, Any]] = {}
        ended: set[int] = set()
        ssrc = self.packets[0].ssrc if self.packets else None
        for p in self.packets:
            if p.ssrc != ssrc:
                continue
            by_ts.setdefault(p.timestamp, {})[p.sequence_number] = p
            if p.marker:
                ended.add(p.timestamp)
        frames = []
        for ts in sorted(by_ts, key=lambda t: min(by_ts[t])):
            seqs = sorted(by_ts[ts])
            if ts in ended and seqs == list(range(seqs[0], seqs[0] + len(seqs))):
                frames.append((ts, b"".join(depayload(by_ts[ts][s].payload) for s in seqs)))
        return frames


class Subscriber:
    """Answers the room's subscribe offers; `drop` decides which packets never arrive."""

    def __init__(self, room: RoomMedia, pid: str, rtx: bool = True, relay: Any = None) -> None:
        self.room, self.pid, self.rtx, self.relay = room, pid, rtx, relay
        self.pc = bridge.new_peer_connection()
        self.streams: dict[str, Stream] = {}
        self.offer: SubscribeOffer | None = None
        self.drop: Callable[[str, Any], bool] = lambda mid, packet: False
        self.tracks: list[MediaStreamTrack] = []
        self._tapped: set[str] = set()
        self.pc.on("track", self.tracks.append)

    async def sync(self) -> SubscribeOffer:
        """One offer/answer round with the room."""
        self.offer = await self.room.subscribe_offer(self.pid)
        first = self.pc.remoteDescription is None
        offer_sdp = self.offer.sdp
        if self.relay is not None and first:
            offer_sdp = self.relay.route_answer(offer_sdp)
        await bridge.set_remote(self.pc, offer_sdp, "offer")
        for transceiver in self.pc.getTransceivers():
            self._tap(transceiver)
            if not self.rtx:  # answer without RTX: the SFU must resend plainly
                bridge.keep_codecs(transceiver, {c.payload_type for c in
                                                 bridge.negotiated_codecs(transceiver)
                                                 if not c.is_rtx})
        answer = await bridge.local_answer(self.pc, LOOPBACK)
        if self.relay is not None and first:
            answer = self.relay.route_client(answer)
        await self.room.subscribe_answer(self.pid, answer)
        return self.offer

    def stream(self, mid: str) -> Stream:
        return self.streams.setdefault(mid, Stream())

    def mid_of(self, kind: str, source: str | None = None) -> str:
        assert self.offer is not None
        for mid, info in self.offer.tracks.items():
            if info.kind == kind and (source is None or info.source == source):
                return mid
        raise AssertionError(f"no {kind} track in the offer: {self.offer.tracks}")

    def _tap(self, transceiver: Any) -> None:
        mid = transceiver.mid
        if mid in self._tapped:
            return
        self._tapped.add(mid)
        stream = self.stream(mid)

        async def on_rtp(packet: Any, arrival_ms: int) -> bool:
            if self.drop(mid, packet):
                return False
            stream.packets.append(packet)
            stream.arrivals.append(time.time())
            return True

        bridge.tap_receiver_of(transceiver, on_rtp, stream.rtcp.append, passthrough=True)

    async def close(self) -> None:
        await self.pc.close()
