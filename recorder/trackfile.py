"""One track's frames into one Matroska/WebM file with PyAV, as packets (codec copy).

Nothing is encoded: each frame from recorder/depacketize.py becomes one `av.Packet` muxed
as is. The file is opened at the first keyframe (its header needs the picture size, or
H.264's parameter sets). The muxer closes a cluster at least every `cluster_ms` and flushes
it to the OS at once, so a recorder killed with SIGKILL leaves a file that plays up to the
last closed cluster. Timestamps are milliseconds on the recording's shared clock.
"""

from __future__ import annotations

import io
import os
import struct
from fractions import Fraction
from pathlib import Path
from typing import Any

import av

from recorder.depacketize import START_CODE, Frame

MS = Fraction(1, 1000)
CLOCK_RATES = {"vp8": 90000, "h264": 90000, "opus": 48000}
# RFC 7845 identification header: version 1, 2 channels (WebRTC Opus is always signalled
# as stereo), pre-skip 312 samples, 48 kHz, gain 0, mapping family 0.
OPUS_HEAD = b"OpusHead" + struct.pack("<BBHIhB", 1, 2, 312, 48000, 0, 0)


def extension_for(codec: str) -> str:
    return "mkv" if codec == "h264" else "webm"


class RtpClock:
    """RTP timestamps of one stream to ms on the recording clock: the first frame is placed
    at its arrival time, later ones by their RTP timestamp distance (unwrapped)."""

    def __init__(self, rate: int, first_timestamp: int, first_ms: float) -> None:
        self.rate = rate
        self._last = first_timestamp
        self._unwrapped = 0
        self._base_ms = first_ms

    def to_ms(self, timestamp: int) -> float:
        delta = (timestamp - self._last) & 0xFFFFFFFF
        if delta >= 0x80000000:
            delta -= 0x100000000  # an older timestamp (reordering)
        self._last = timestamp
        self._unwrapped += delta
        return self._base_ms + self._unwrapped * 1000.0 / self.rate


class TrackFile:
    """A Matroska (H.264) or WebM (VP8, Opus) file of one track."""

    def __init__(self, path: Path, codec: str, cluster_ms: int) -> None:
        self.path = path
        self.codec = codec
        self.cluster_ms = cluster_ms
        self.container: Any = None
        self.stream: Any = None
        self.first_ms: int | None = None
        self.last_ms: int | None = None
        self.frames = 0
        self.size: tuple[int, int] | None = None
        self._parameter_sets: dict[int, bytes] = {}
        self._probe: Any = None

    @property
    def opened(self) -> bool:
        return self.container is not None

    def bytes_written(self) -> int:
        try:
            return os.path.getsize(self.path)
        except OSError:
            return 0

    def can_start(self, frame: Frame) -> bool:
        """Remember parameter sets; True once the file can be opened with this frame."""
        for unit in frame.parameter_sets:
            self._parameter_sets[unit[0] & 0x1F] = unit
        if self.codec == "opus":
            return True
        if not frame.keyframe:
            return False
        return self.codec == "vp8" or {7, 8} <= self._parameter_sets.keys()

    def open(self, frame: Frame) -> None:
        options = {"cluster_time_limit": str(self.cluster_ms), "flush_packets": "1"}
        fmt = "matroska" if self.codec == "h264" else "webm"
        self.container = av.open(str(self.path), "w", format=fmt, options=options)
        try:
            self._add_stream(frame)
        except BaseException:
            self.container.close()
            self.container = None
            raise

    def _add_stream(self, frame: Frame) -> None:
        if self.codec == "opus":
            stream = self.container.add_stream("opus", rate=48000)
            stream.codec_context.extradata = OPUS_HEAD
        elif self.codec == "vp8":
            stream = self.container.add_stream("vp8")
            stream.width, stream.height = frame.width, frame.height
            self.size = (frame.width, frame.height)
        else:
            stream = self.container.add_stream_from_template(self._h264_template(frame),
                                                             opaque=False)
            self.size = (stream.width, stream.height)
        stream.time_base = MS
        self.stream = stream

    def _h264_template(self, frame: Frame) -> Any:
        """The stream parameters of the sender's own SPS and PPS (profile, level, size; its
        avcC becomes the file's codec private), read by FFmpeg's H.264 parser from the
        first keyframe. A stream created from a codec name would carry the parameter sets
        of a local encoder instead."""
        head = START_CODE + self._parameter_sets[7] + START_CODE + self._parameter_sets[8]
        data = frame.data if frame.parameter_sets else head + frame.data
        probe = av.open(io.BytesIO(data), format="h264")
        self._probe = probe  # kept open until the file closes: the stream refers to it
        return probe.streams.video[0]

    def write(self, frame: Frame, pts_ms: int) -> None:
        """Mux one frame (the file must be open); timestamps never go backwards."""
        if self.last_ms is not None and pts_ms <= self.last_ms:
            pts_ms = self.last_ms + 1
        packet = av.Packet(frame.data)
        packet.stream = self.stream
        packet.time_base = MS
        packet.pts = packet.dts = pts_ms
        packet.is_keyframe = frame.keyframe
        self.container.mux(packet)
        if self.first_ms is None:
            self.first_ms = pts_ms
        self.last_ms = pts_ms
        self.frames += 1

    def close(self) -> None:
        if self.container is not None:
            container, self.container = self.container, None
            container.close()
        if self._probe is not None:
            self._probe.close()
            self._probe = None
