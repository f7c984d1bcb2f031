"""Optional H.265 -> H.264 transcoding for cameras that cannot be switched to H.264
([feeds] transcode_h265; off by default: decoding and encoding costs a quarter of a core
per 720p30 feed, against ~5 % for a forwarded one). Runs in the feed's demux thread.

x264 with zerolatency settings (no B-frames, no lookahead) emits SPS/PPS in front of every
IDR; an IDR is also made whenever a subscriber asks (PLI), so joining does not wait for
the long GOP we use otherwise.
"""

from __future__ import annotations

import threading
from fractions import Fraction
from typing import Any

import av
from av.video.frame import PictureType

VIDEO_RATE = 90000
GOP_S = 5


class TranscodeError(ValueError):
    """The H.265 stream cannot be transcoded (no decoder/encoder, a bad picture)."""


class H265ToH264:
    def __init__(self, stream: Any, bitrate_bps: int, keyframe: threading.Event) -> None:
        self._decoder = stream.codec_context
        self._fps = float(stream.average_rate or stream.guessed_rate or 25)
        self._bitrate = bitrate_bps
        self._keyframe = keyframe
        self._encoder: Any = None

    def process(self, packet: Any) -> list[tuple[bytes, float]]:
        """Annex-B H.264 access units with their presentation time (s)."""
        try:
            frames = self._decoder.decode(packet)
        except av.FFmpegError:
            return []  # a broken H.265 packet: the next IDR repairs the picture
        out: list[tuple[bytes, float]] = []
        for frame in frames:
            if frame.pts is None or frame.time_base is None:
                continue
            pts_s = float(frame.pts * frame.time_base)
            if self._encoder is None:
                self._open(frame)
            enc = self._encoder
            picture = frame
            if (frame.format.name, frame.width, frame.height) != ("yuv420p", enc.width, enc.height):
                picture = frame.reformat(width=enc.width, height=enc.height, format="yuv420p")
            picture.pts = round(pts_s * VIDEO_RATE)
            picture.time_base = Fraction(1, VIDEO_RATE)
            if self._keyframe.is_set():
                self._keyframe.clear()
                picture.pict_type = PictureType.I
            else:
                picture.pict_type = PictureType.NONE
            for encoded in self._encoder.encode(picture):
                out.append((bytes(encoded), float(encoded.pts) / VIDEO_RATE))
        return out

    def _open(self, frame: Any) -> None:
        try:
            encoder = av.CodecContext.create("libx264", "w")
        except av.FFmpegError as exc:
            raise TranscodeError(f"no H.264 encoder: {exc}") from None
        encoder.width = frame.width - frame.width % 2
        encoder.height = frame.height - frame.height % 2
        encoder.pix_fmt = "yuv420p"
        encoder.time_base = Fraction(1, VIDEO_RATE)
        encoder.framerate = Fraction(round(self._fps * 1000), 1000)
        encoder.bit_rate = self._bitrate
        encoder.gop_size = max(1, round(self._fps * GOP_S))
        encoder.options = {"preset": "ultrafast", "tune": "zerolatency",
                           "profile": "baseline", "forced-idr": "1"}
        encoder.open()
        self._encoder = encoder
