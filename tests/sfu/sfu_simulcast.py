"""A simulcast publisher over a real aiortc transport (aiortc cannot send simulcast).

It offers what Chromium offers (a=rid q/h/f, a=simulcast, rid header extensions, no
a=ssrc on the video m-section) and sends real VP8 (pre-encoded, three sizes) the way
Chromium does: one SSRC per layer, the rid extension only on each stream's first
packets, RTX with the repaired-rid extension, a keyframe when a layer's SSRC gets a PLI.
"""

from __future__ import annotations

import asyncio
import fractions
import random
from dataclasses import dataclass, field
from typing import Any

import av
from aiortc import rtp
from aiortc.codecs.vpx import Vp8Encoder

from sfu import RoomMedia
from sfu import aiortc_bridge as bridge
from sfu.rtcp_events import KeyframeRequest, Nack, RtcpEvent
from sfu.simulcast_client import RID_PACKETS, header_map, simulcast_offer
from sfu_media import FPS, VIDEO_CLOCK, encoded_frames
from sfu_peers import LOOPBACK, wait_for

SIZES = {"q": (160, 96), "h": (320, 192), "f": (640, 384)}
BITRATES = {"q": 100_000, "h": 300_000, "f": 1_000_000}


@dataclass
class Layer:
    rid: str
    ssrc: int
    rtx_ssrc: int
    frames: tuple[bytes, ...]
    packer: Vp8Encoder = field(default_factory=Vp8Encoder)
    seq: int = field(default_factory=lambda: random.getrandbits(15))
    rtx_seq: int = field(default_factory=lambda: random.getrandbits(15))
    ts_base: int = field(default_factory=lambda: random.getrandbits(31))
    frame: int = 0
    sent_packets: int = 0
    sending: bool = True
    withheld: set[int] = field(default_factory=set)  # seqs "lost" on the way, resent on NACK
    dropped: list[int] = field(default_factory=list)  # every seq ever withheld
    keyframe_requests: int = 0
    history: dict[int, Any] = field(default_factory=dict)


class SimulcastPublisher:
    def __init__(self, room: RoomMedia, pid: str, rids: tuple[str, ...] = ("q", "h", "f"),
                 restrictions: dict[str, str] | None = None, layers_by_remb: bool = False):
        self.room, self.pid = room, pid
        self.layers_by_remb = layers_by_remb  # publish as WHIP does: no `layers` channel
        self.restrictions = restrictions or {}
        self.pc = bridge.new_peer_connection()
        self.transceiver = self.pc.addTransceiver("video", direction="sendonly")
        self.rtcp: list[RtcpEvent] = []
        bridge.prepare_sender(self.transceiver, self._on_rtcp, lambda: None)
        self.layers = {rid: Layer(rid, random.getrandbits(31) | 1, random.getrandbits(31) | 1,
                                  encoded_frames("vp8", 60, gop=600, size=SIZES[rid],
                                                 bitrate=BITRATES[rid]))
                       for rid in rids}
        self.answer = ""
        self.lose_next: dict[str, int] = {}  # rid -> how many next packets to withhold
        self._map = header_map()
        self._send = None
        self._loop: asyncio.Task[None] | None = None

    async def publish(self) -> str:
        offer = simulcast_offer(await bridge.local_offer(self.pc, LOOPBACK), tuple(self.layers),
                                self.restrictions)
        self.answer = await self.room.publish(self.pid, self.pid, offer,
                                              {self.transceiver.mid: "camera"},
                                              layers_by_remb=self.layers_by_remb)
        await bridge.set_remote(self.pc, self.answer, "answer")
        dtls = bridge.transport(self.transceiver)
        bridge.route_sender_ssrcs(self.transceiver, [x for layer in self.layers.values()
                                                     for x in (layer.ssrc, layer.rtx_ssrc)])
        await wait_for(lambda: bridge.is_connected(dtls), 10, "publisher DTLS connected")
        self._send = bridge.RtpWriter(dtls).send
        self._loop = asyncio.ensure_future(self._run())
        return self.answer

    def _on_rtcp(self, event: RtcpEvent) -> None:
        self.rtcp.append(event)
        for layer in self.layers.values():
            if isinstance(event, KeyframeRequest) and event.media_ssrc == layer.ssrc:
                layer.frame = 0  # the next frame sent is the keyframe (frame 0)
                layer.keyframe_requests += 1
            if isinstance(event, Nack) and event.media_ssrc == layer.ssrc:
                for seq in event.lost:
                    self._resend(layer, seq)

    async def _run(self) -> None:
        index = 0
        start = asyncio.get_running_loop().time()
        while True:
            for layer in self.layers.values():
                if layer.sending:
                    self._send_frame(layer, index)
            index += 1
            delay = start + index / FPS - asyncio.get_running_loop().time()
            await asyncio.sleep(max(delay, 0.001))

    def _send_frame(self, layer: Layer, index: int) -> None:
        packet = av.Packet(layer.frames[layer.frame % len(layer.frames)])
        packet.pts, packet.time_base = index, fractions.Fraction(1, FPS)
        payloads, _ = layer.packer.pack(packet)
        layer.frame += 1
        timestamp = (layer.ts_base + index * (VIDEO_CLOCK // FPS)) & 0xFFFFFFFF
        for i, payload in enumerate(payloads):
            out = rtp.RtpPacket(payload_type=self.payload_type, marker=int(i == len(payloads) - 1),
                                sequence_number=layer.seq, timestamp=timestamp,
                                ssrc=layer.ssrc, payload=payload)
            if layer.sent_packets < RID_PACKETS:
                out.extensions.mid = self.transceiver.mid
                out.extensions.rtp_stream_id = layer.rid
            layer.history[layer.seq] = out
            layer.history.pop((layer.seq - 512) & 0xFFFF, None)
            lose = self.lose_next.get(layer.rid, 0)
            if lose and layer.sent_packets >= RID_PACKETS:
                self.lose_next[layer.rid] = lose - 1
                layer.withheld.add(layer.seq)
                layer.dropped.append(layer.seq)
            else:
                self._send(out.serialize(self._map))
            layer.sent_packets += 1
            layer.seq = (layer.seq + 1) & 0xFFFF

    def _resend(self, layer: Layer, seq: int) -> None:
        original = layer.history.get(seq)
        if original is None:
            return
        layer.withheld.discard(seq)
        rtx = rtp.RtpPacket(payload_type=self.rtx_payload_type, marker=original.marker,
                            sequence_number=layer.rtx_seq, timestamp=original.timestamp,
                            ssrc=layer.rtx_ssrc,
                            payload=seq.to_bytes(2, "big") + original.payload)
        rtx.extensions.mid = self.transceiver.mid
        rtx.extensions.repaired_rtp_stream_id = layer.rid
        layer.rtx_seq = (layer.rtx_seq + 1) & 0xFFFF
        self._send(rtx.serialize(self._map))

    @property
    def payload_type(self) -> int:
        return next(c.payload_type for c in bridge.negotiated_codecs(self.transceiver)
                    if c.name == "VP8")

    @property
    def rtx_payload_type(self) -> int:
        return next(c.payload_type for c in bridge.negotiated_codecs(self.transceiver)
                    if c.is_rtx and c.parameters.get("apt") == self.payload_type)

    async def close(self) -> None:
        if self._loop is not None:
            self._loop.cancel()
        await self.pc.close()

