"""Streaming video: the picture of one track file at a time on the composite timeline.

Frames are decoded in order as the output clock passes them and only the latest is kept;
it is scaled (and converted to BGR) only when a composite frame needs it, at the tile's
size, by libswscale in one step.
"""

from __future__ import annotations

from collections.abc import Iterator

import av
import numpy as np

from recorder.composite.manifest import CompositeError, TrackFile
from recorder.composite.timeline import TrackClock

# A track that sent no frame for this long shows as a name card (camera off, frozen sender),
# rather than its last picture forever.
STALE_MS = 2000.0


class VideoTrackReader:
    def __init__(self, track: TrackFile, origin_ms: int) -> None:
        self.track = track
        self._clock = TrackClock(track, origin_ms)
        self._frames: Iterator[av.VideoFrame] | None = None
        self._current: tuple[float, av.VideoFrame] | None = None
        self._next: tuple[float, av.VideoFrame] | None = None
        self._done = False
        self._shown = 0  # counts frames made current, to know when a scaled copy is old
        self._scaled: tuple[int, int, int, np.ndarray] | None = None  # (_shown, w, h, image)

    def active(self, t_ms: float) -> bool:
        """Whether the manifest says this track is on at `t_ms` (timeline ms)."""
        origin = self._clock.origin_ms
        return self.track.start_ms - origin <= t_ms < self.track.end_ms - origin

    def frame_at(self, t_ms: float) -> av.VideoFrame | None:
        """The latest frame at or before `t_ms` (timeline ms), None if there is none or it
        is stale. Calls must not go backwards in time."""
        if not self.active(t_ms):
            return None
        while True:
            if self._next is None and not self._done:
                self._next = self._decode_next()
            if self._next is None or self._next[0] > t_ms:
                break
            self._current, self._next = self._next, None
            self._shown += 1
        if self._current is None or t_ms - self._current[0] > STALE_MS:
            return None
        return self._current[1]

    def image(self, width: int, height: int) -> np.ndarray:
        """The frame `frame_at` returned last, scaled to width x height, BGR; reused while
        the same frame is shown at the same size (the output runs at its own rate)."""
        assert self._current is not None, "image() before frame_at() found a frame"
        frame = self._current[1]
        key = (self._shown, width, height)
        if self._scaled is None or self._scaled[:3] != key:
            image = frame.reformat(width=width, height=height, format="bgr24").to_ndarray()
            self._scaled = (*key, image)
        return self._scaled[3]

    def ended(self, t_ms: float) -> bool:
        """Whether the track is over at `t_ms` (timeline ms): its file can be closed."""
        return t_ms >= self.track.end_ms - self._clock.origin_ms

    def close(self) -> None:
        self._current = self._next = self._scaled = None
        if self._frames is not None:
            self._frames.close()  # type: ignore[attr-defined]
            self._frames = None

    def _decode_next(self) -> tuple[float, av.VideoFrame] | None:
        if self._frames is None:
            self._frames = _decode(self.track)
        for frame in self._frames:
            if frame.pts is None:
                continue
            return self._clock.timeline_ms(float(frame.pts * frame.time_base * 1000)), frame
        self._done = True
        return None


def _decode(track: TrackFile) -> Iterator[av.VideoFrame]:
    try:
        container = av.open(str(track.path))
    except av.FFmpegError as exc:
        raise CompositeError(f"cannot open {track.name}: {exc}") from None
    try:
        if not container.streams.video:
            raise CompositeError(f"{track.name} has no video stream")
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        try:
            yield from container.decode(stream)
        except av.FFmpegError:
            return  # a file cut short by a crash: keep what decoded
    finally:
        container.close()
