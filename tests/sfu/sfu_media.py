"""Test media: pre-encoded video frames and tracks that hand them to aiortc unchanged."""

from __future__ import annotations

import asyncio
import fractions
import time
from functools import lru_cache

import av
import numpy as np
from aiortc.mediastreams import MediaStreamTrack, VideoStreamTrack

FPS = 30
VIDEO_CLOCK = 90000


def _frames(width: int, height: int, count: int) -> list[av.VideoFrame]:
    frames = []
    yy, xx = np.mgrid[0:height, 0:width]
    for i in range(count):
        rgb = np.zeros((height, width, 3), dtype=np.uint8)
        rgb[..., 0] = (xx * 4 + i * 7) % 256
        rgb[..., 1] = (yy * 4 + i * 3) % 256
        rgb[..., 2] = ((xx + yy) * 2 + i * 11) % 256
        frame = av.VideoFrame.from_ndarray(rgb, format="rgb24").reformat(format="yuv420p")
        frame.pts = i
        frame.time_base = fractions.Fraction(1, FPS)
        frames.append(frame)
    return frames


@lru_cache(maxsize=None)
def encoded_frames(codec: str = "vp8", count: int = 60, gop: int = 30,
                   size: tuple[int, int] = (320, 240), bitrate: int = 300_000
                   ) -> tuple[bytes, ...]:
    """`count` frames of `size` video; a keyframe every `gop` frames (frame 0 is one)."""
    name = {"vp8": "libvpx", "h264": "libx264"}[codec]
    context = av.CodecContext.create(name, "w")
    context.width, context.height = size
    context.pix_fmt = "yuv420p"
    context.time_base = fractions.Fraction(1, FPS)
    context.framerate = fractions.Fraction(FPS, 1)
    context.gop_size = gop
    context.bit_rate = bitrate
    if codec == "h264":
        context.profile = "Baseline"
        context.options = {"tune": "zerolatency", "bframes": "0", "keyint_min": str(gop),
                           "sc_threshold": "0", "level": "31"}
    else:
        context.options = {"deadline": "realtime", "lag-in-frames": "0", "cpu-used": "8"}
    out: list[bytes] = []
    for frame in _frames(size[0], size[1], count):
        out.extend(bytes(p) for p in context.encode(frame))
    out.extend(bytes(p) for p in context.encode(None))
    assert len(out) == count, f"encoder produced {len(out)} packets for {count} frames"
    return tuple(out)


class EncodedVideoTrack(MediaStreamTrack):
    """Loops over pre-encoded frames; aiortc packetizes av.Packets without re-encoding."""

    kind = "video"

    def __init__(self, frames: tuple[bytes, ...], fps: int = FPS) -> None:
        super().__init__()
        self.frames = frames
        self.fps = fps
        self.index = 0
        self._start: float | None = None

    async def recv(self) -> av.Packet:
        if self._start is None:
            self._start = time.monotonic()
        wait = self._start + self.index / self.fps - time.monotonic()
        if wait > 0:
            await asyncio.sleep(wait)
        packet = av.Packet(self.frames[self.index % len(self.frames)])
        packet.pts = self.index * (VIDEO_CLOCK // self.fps)
        packet.time_base = fractions.Fraction(1, VIDEO_CLOCK)
        self.index += 1
        return packet


class PatternVideoTrack(VideoStreamTrack):
    """Raw frames that aiortc encodes itself, so it honours PLI with a keyframe."""

    def __init__(self) -> None:
        super().__init__()
        self._frames = _frames(160, 120, 30)
        self._i = 0

    async def recv(self) -> av.VideoFrame:
        pts, time_base = await self.next_timestamp()
        frame = self._frames[self._i % len(self._frames)]
        self._i += 1
        out = av.VideoFrame.from_ndarray(frame.to_ndarray(format="yuv420p"), format="yuv420p")
        out.pts, out.time_base = pts, time_base
        return out


class ToneAudioTrack(MediaStreamTrack):
    """20 ms frames of a sine tone (aiortc encodes them to opus); `amplitude` may change
    while it plays, which is how speaker tests make someone loud or silent."""

    kind = "audio"

    def __init__(self, amplitude: int = 8000, frequency_hz: int = 440) -> None:
        super().__init__()
        self.amplitude = amplitude
        self.frequency_hz = frequency_hz
        self._pts = 0
        self._start: float | None = None

    async def recv(self) -> av.AudioFrame:
        if self._start is None:
            self._start = time.monotonic()
        wait = self._start + self._pts / 48000 - time.monotonic()
        if wait > 0:
            await asyncio.sleep(wait)
        t = (np.arange(960) + self._pts) / 48000
        samples = (np.sin(2 * np.pi * self.frequency_hz * t) * self.amplitude).astype(np.int16)
        frame = av.AudioFrame.from_ndarray(samples.reshape(1, -1), format="s16", layout="mono")
        frame.sample_rate = 48000
        frame.pts = self._pts
        frame.time_base = fractions.Fraction(1, 48000)
        self._pts += 960
        return frame
