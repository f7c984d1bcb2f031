"""A publisher that sends three pre-encoded VP8 layers as a browser sends simulcast (rid
header extensions, a=simulcast in the offer, one SSRC per layer), for `--simulcast`.

aiortc cannot send simulcast, so the video RTP is written here (sfu/simulcast_client.py
holds what the test suite's simulcast publisher shares); Opus still goes through aiortc as
for the single-stream Publisher. Nothing is encoded: aiortc's VP8 packetiser splits the
pre-encoded frames. A PLI for a layer makes that layer jump to its clip's next keyframe,
as an encoder would send one.
"""

from __future__ import annotations

import asyncio
import fractions
import random
import time
from dataclasses import dataclass, field
from typing import Any

import av
from aiortc import rtp
from aiortc.codecs.vpx import Vp8Encoder

from bench import rtc
from bench.clip import FPS, Clip
from bench.loadgen.peers import prefer_codecs
from bench.loadgen.recorder import Recorder
from bench.loadgen.replay import VIDEO_CLOCK, publisher_tracks, start_keyframe
from sfu import aiortc_bridge as bridge
from sfu.rtcp_events import KeyframeRequest, RtcpEvent
from sfu.simulcast_client import RID_PACKETS, header_map, offered_mid_id, simulcast_offer

NTP_EPOCH_OFFSET_S = 2208988800  # 1900-01-01 to 1970-01-01
SENDER_REPORT_S = 1.0  # like the single-stream publisher's aiortc sender, per layer


@dataclass
class LayerStream:
    rid: str
    clip: Clip
    position: int  # clip index of the next frame
    ssrc: int = field(default_factory=lambda: random.getrandbits(31) | 1)
    seq: int = field(default_factory=lambda: random.getrandbits(15))
    ts_base: int = field(default_factory=lambda: random.getrandbits(31))
    packer: Vp8Encoder = field(default_factory=Vp8Encoder)
    sent_packets: int = 0
    sent_octets: int = 0
    sent_in_window: int = 0
    keyframe_requests: int = 0

    def jump_to_keyframe(self) -> None:
        """The next frame sent is the clip's next keyframe (at or after this frame)."""
        frames = len(self.clip.video)
        here = self.position % frames
        self.position = next((k for k in self.clip.keyframes if k >= here), frames)


class SimulcastPublisher:
    def __init__(self, index: int, layers: list[tuple[str, Clip]], publishers: int,
                 recorder: Recorder) -> None:
        self.index = index
        self.recorder = recorder
        self.pc = rtc.new_pc()
        top = layers[-1][1]
        audio, _ = publisher_tracks(top, index, publishers, recorder.on_frame)
        audio_tr = self.pc.addTransceiver(audio, direction="sendonly")
        self.video = self.pc.addTransceiver("video", direction="sendonly")
        prefer_codecs(audio_tr, {"audio/opus"})
        prefer_codecs(self.video, {"video/vp8", "video/rtx"})
        rtc.add_audio_level(audio_tr.sender, min(127, 20 + 10 * index))
        rtc.tap_send(self.pc, recorder.on_sent)  # the Opus packets; video is counted here
        bridge.prepare_sender(self.video, self._on_rtcp, lambda: None)
        start = start_keyframe(top, index, publishers)
        self.layers = [LayerStream(rid, clip, start) for rid, clip in layers]
        self._map: Any = None
        self._write: Any = None
        self._tasks: list[asyncio.Task[None]] = []
        self._began = 0.0

    def rewrite_offer(self, offer: str) -> str:
        mid_id = offered_mid_id(offer)
        if mid_id is None:
            raise RuntimeError("aiortc's offer has no mid header extension")
        self._map = header_map(mid_id)
        return simulcast_offer(offer, tuple(layer.rid for layer in self.layers), mid_id=mid_id)

    def start(self) -> None:
        """Once the answer is applied and the transport is up: send every layer."""
        bridge.route_sender_ssrcs(self.video, [layer.ssrc for layer in self.layers])
        self._write = bridge.RtpWriter(bridge.transport(self.video)).send
        self._payload_type = next(c.payload_type for c in bridge.negotiated_codecs(self.video)
                                  if c.name == "VP8")
        self._began = asyncio.get_running_loop().time()
        self._tasks = [asyncio.ensure_future(self._run()),
                       asyncio.ensure_future(self._send_reports())]

    def _on_rtcp(self, event: RtcpEvent) -> None:
        if isinstance(event, KeyframeRequest):
            for layer in self.layers:
                if layer.ssrc == event.media_ssrc:
                    layer.keyframe_requests += 1
                    layer.jump_to_keyframe()

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        began, index = self._began, 0
        while True:
            self.recorder.on_frame("video")
            for layer in self.layers:
                self._send_frame(layer, index)
            index += 1
            await asyncio.sleep(max(began + index / FPS - loop.time(), 0.001))

    def _send_frame(self, layer: LayerStream, index: int) -> None:
        frames = layer.clip.video
        packet = av.Packet(frames[layer.position % len(frames)])
        packet.pts, packet.time_base = index, fractions.Fraction(1, FPS)
        payloads, _ = layer.packer.pack(packet)
        layer.position += 1
        timestamp = (layer.ts_base + index * (VIDEO_CLOCK // FPS)) & 0xFFFFFFFF
        in_window = self.recorder.window.holds(time.time())
        for i, payload in enumerate(payloads):
            out = rtp.RtpPacket(payload_type=self._payload_type,
                                marker=int(i == len(payloads) - 1),
                                sequence_number=layer.seq, timestamp=timestamp,
                                ssrc=layer.ssrc, payload=payload)
            if layer.sent_packets < RID_PACKETS:
                out.extensions.mid = self.video.mid
                out.extensions.rtp_stream_id = layer.rid
            self.recorder.on_sent("video", payload)
            self._write(out.serialize(self._map))
            layer.sent_packets += 1
            layer.sent_octets += len(payload)
            layer.sent_in_window += in_window
            layer.seq = (layer.seq + 1) & 0xFFFF

    async def _send_reports(self) -> None:
        """RTCP sender reports per layer, so the SFU's lip-sync path has its input."""
        loop = asyncio.get_running_loop()
        dtls, cname = bridge.transport(self.video), bridge.cname(self.pc)
        while True:
            await asyncio.sleep(SENDER_REPORT_S)
            ntp = int((time.time() + NTP_EPOCH_OFFSET_S) * (1 << 32)) & 0xFFFFFFFFFFFFFFFF
            elapsed = loop.time() - self._began
            report = b"".join(bridge.sender_report(
                layer.ssrc, ntp, (layer.ts_base + int(elapsed * VIDEO_CLOCK)) & 0xFFFFFFFF,
                layer.sent_packets, layer.sent_octets, cname) for layer in self.layers)
            if not await bridge.send(dtls, report):
                return

    def stats(self) -> dict[str, dict[str, int]]:
        return {layer.rid: {"sent_in_window": layer.sent_in_window,
                            "keyframe_requests": layer.keyframe_requests}
                for layer in self.layers}

    def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
