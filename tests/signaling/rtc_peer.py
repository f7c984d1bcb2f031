"""Test-side media client: real aiortc peer connections driven over the signalling socket.

Publish: the client offers (camera = small synthetic VP8 video, microphone = opus tone).
Subscribe: the server offers whenever tracks change; every decoded frame is counted per mid
so tests can ask how many frames of someone's camera arrived.
"""

from __future__ import annotations

import asyncio
import fractions
import math
from typing import Any

import av
import numpy as np
from aiortc import (MediaStreamTrack, RTCConfiguration, RTCPeerConnection,
                    RTCSessionDescription)
from aiortc.mediastreams import AudioStreamTrack, VideoStreamTrack
from sfu.aiortc_bridge import restrict_ice_addresses

from signal_client import WsClient

LOOPBACK = ["127.0.0.1"]


class SyntheticCamera(VideoStreamTrack):
    """160x120 frames whose colour drifts, so every frame differs a little."""

    def __init__(self) -> None:
        super().__init__()
        self._count = 0

    async def recv(self) -> av.VideoFrame:
        pts, time_base = await self.next_timestamp()
        self._count += 1
        level = (self._count * 4) % 256
        data = np.full((120, 160, 3), (level, 128, 255 - level), dtype=np.uint8)
        frame = av.VideoFrame.from_ndarray(data, format="rgb24")
        frame.pts, frame.time_base = pts, time_base
        return frame


class ToneMicrophone(AudioStreamTrack):
    """A 440 Hz tone (aiortc's AudioStreamTrack is silence)."""

    async def recv(self) -> av.AudioFrame:
        frame = await super().recv()
        start = frame.pts
        t = (np.arange(start, start + frame.samples) / frame.sample_rate)
        tone = (np.sin(2 * math.pi * 440 * t) * 8000).astype(np.int16)
        data = np.repeat(tone, 2).reshape(1, -1) if frame.layout.name == "stereo" \
            else tone.reshape(1, -1)
        out = av.AudioFrame.from_ndarray(data, format="s16", layout=frame.layout.name)
        out.sample_rate, out.pts, out.time_base = frame.sample_rate, frame.pts, \
            fractions.Fraction(1, frame.sample_rate)
        return out


def new_pc() -> RTCPeerConnection:
    return RTCPeerConnection(RTCConfiguration(iceServers=[]))


class MediaPeer:
    """One participant's two peer connections, bound to a joined WsClient."""

    def __init__(self, ws: WsClient) -> None:
        self.ws = ws
        self.pub: RTCPeerConnection | None = None
        self.sub = new_pc()
        self.frames: dict[str, int] = {}  # mid -> decoded frames
        self.offer_tracks: dict[str, dict[str, Any]] = {}
        self.offers = 0
        self._tasks: list[asyncio.Task[Any]] = []
        self.sub.on("track", self._on_track)
        self._tasks.append(asyncio.create_task(self._answer_offers()))

    async def publish(self, video: bool = True, audio: bool = True) -> str:
        self.pub = new_pc()
        sources: dict[str, str] = {}
        kinds = []
        if audio:
            self.pub.addTransceiver(ToneMicrophone(), direction="sendonly")
            kinds.append("microphone")
        if video:
            self.pub.addTransceiver(SyntheticCamera(), direction="sendonly")
            kinds.append("camera")
        restrict_ice_addresses(self.pub, LOOPBACK)
        await self.pub.setLocalDescription(await self.pub.createOffer())
        for transceiver, source in zip(self.pub.getTransceivers(), kinds):
            sources[transceiver.mid] = source
        await self.ws.send({"type": "publish", "sdp": self.pub.localDescription.sdp,
                            "sources": sources})
        answer = await self.ws.recv("answer", timeout=10)
        await self.pub.setRemoteDescription(RTCSessionDescription(answer["sdp"], "answer"))
        return answer["sdp"]

    async def _answer_offers(self) -> None:
        while True:
            try:
                offer = await self.ws.recv("offer", timeout=3600)
            except AssertionError:  # the socket closed
                return
            self.offer_tracks = offer["tracks"]
            await self.sub.setRemoteDescription(RTCSessionDescription(offer["sdp"], "offer"))
            restrict_ice_addresses(self.sub, LOOPBACK)
            await self.sub.setLocalDescription(await self.sub.createAnswer())
            await self.ws.send({"type": "answer", "sdp": self.sub.localDescription.sdp})
            self.offers += 1

    def _on_track(self, track: MediaStreamTrack) -> None:
        mid = next(t.mid for t in self.sub.getTransceivers() if t.receiver.track is track)
        self._tasks.append(asyncio.create_task(self._count(mid, track)))

    async def _count(self, mid: str, track: MediaStreamTrack) -> None:
        self.frames.setdefault(mid, 0)
        while True:
            try:
                await track.recv()
            except Exception:
                return
            self.frames[mid] += 1

    def frames_of(self, participant_id: str, kind: str) -> int:
        return sum(self.frames.get(mid, 0) for mid, info in self.offer_tracks.items()
                   if info["participant_id"] == participant_id and info["kind"] == kind)

    async def wait_frames(self, participant_id: str, kind: str, count: int,
                          timeout: float = 10.0) -> int:
        """Wait until `count` more frames of that participant's track were decoded."""
        start = self.frames_of(participant_id, kind)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while self.frames_of(participant_id, kind) - start < count:
            if loop.time() > deadline:
                raise AssertionError(
                    f"only {self.frames_of(participant_id, kind) - start} new {kind} frames of "
                    f"{participant_id} in {timeout} s (offers={self.offers}, "
                    f"tracks={self.offer_tracks}, frames={self.frames})")
            await asyncio.sleep(0.05)
        return self.frames_of(participant_id, kind)

    async def close(self) -> None:
        for task in self._tasks:
            task.cancel()
        if self.pub is not None:
            await self.pub.close()
        await self.sub.close()
