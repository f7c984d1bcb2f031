"""One published track being recorded: packets -> frames -> a file on the shared clock.

A track is one file. Its picture size may change on the way (simulcast layer switches,
the browser adapting resolution, a camera switch by replaceTrack): VP8 and H.264
keyframes carry their size, and WebM/Matroska players follow them, so the file goes on.
A new track (screen share, another camera, a participant coming back) is another
TrackRecorder and so another file.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from recorder.depacketize import Frame, FrameAssembler
from recorder.trackfile import CLOCK_RATES, RtpClock, TrackFile

KEYFRAME_REQUEST_INTERVAL_S = 1.0
# Further than this between a frame's RTP time and its arrival: the sender restarted its
# stream (new timestamps), so the clock is anchored again at the arrival.
REANCHOR_MS = 3000.0
CODECS = {"vp8": "vp8", "h264": "h264", "opus": "opus"}


@dataclass(frozen=True)
class TrackInfo:
    track_id: str
    participant_id: str
    participant_name: str
    kind: str
    source: str
    codec: str

    @classmethod
    def from_offer(cls, info: dict[str, Any]) -> TrackInfo | None:
        """From one entry of the subscribe offer's `tracks`; None for a codec we do not
        record (it is logged by the caller)."""
        codec = CODECS.get(str(info.get("codec", "")).lower())
        if codec is None:
            return None
        return cls(str(info.get("track_id", "")), str(info.get("participant_id", "")),
                   str(info.get("name", "")), str(info.get("kind", "")),
                   str(info.get("source", "")), codec)


class FileSink(Protocol):
    """What a TrackRecorder needs from its recording (recorder/recording.py)."""

    def new_file(self, track: TrackInfo) -> TrackFile: ...
    def file_opened(self, track: TrackInfo, file: TrackFile) -> None: ...
    def file_closed(self, track: TrackInfo, file: TrackFile) -> None: ...


class TrackRecorder:
    def __init__(self, info: TrackInfo, sink: FileSink, origin_ms: float,
                 request_keyframe: Callable[[], None]) -> None:
        self.info = info
        self.sink = sink
        self.origin_ms = origin_ms  # recording start, unix ms
        self.assembler = FrameAssembler(info.codec)
        self.clock: RtpClock | None = None
        self.file: TrackFile | None = None
        self._next: TrackFile | None = None  # named, not yet opened (waits for a keyframe)
        self._request_keyframe = request_keyframe
        self._last_request = 0.0

    def push(self, packet: Any, arrival_ms: float) -> None:
        """One RTP packet of this track (may raise OSError from the file system)."""
        for frame in self.assembler.push(packet):
            self._write(frame, arrival_ms - self.origin_ms)
        if self.assembler.wants_keyframe:
            now = time.monotonic()
            if now - self._last_request >= KEYFRAME_REQUEST_INTERVAL_S:
                self._last_request = now
                self._request_keyframe()

    def _write(self, frame: Frame, arrival_ms: float) -> None:
        if self.clock is None:
            self.clock = RtpClock(CLOCK_RATES[self.info.codec], frame.rtp_timestamp, arrival_ms)
        pts = self.clock.to_ms(frame.rtp_timestamp)
        if abs(pts - arrival_ms) > REANCHOR_MS:
            self.clock = RtpClock(CLOCK_RATES[self.info.codec], frame.rtp_timestamp, arrival_ms)
            pts = arrival_ms
        file = self.file
        if file is None:
            if self._next is None:
                self._next = self.sink.new_file(self.info)
            file = self._next
            if not file.can_start(frame):
                return
            file.open(frame)
            self.file, self._next = file, None
            self.sink.file_opened(self.info, file)
        elif frame.parameter_sets:
            file.can_start(frame)
        file.write(frame, max(0, int(round(pts))))

    def close(self) -> None:
        file, self.file = self.file, None
        if file is not None:
            try:
                file.close()
            finally:
                self.sink.file_closed(self.info, file)
