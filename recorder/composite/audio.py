"""Streaming audio: decode one track file to 48 kHz mono on the shared clock, and mix.

A reader decodes only as far as the mixer has asked, and drops what it has handed out, so
memory stays at a few decoded frames per track whatever the length of the recording. Gaps in
a file's timestamps (mute, lost packets) become silence, so a track never drifts against the
others.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import av
import numpy as np

from recorder.composite.manifest import CompositeError, TrackFile
from recorder.composite.timeline import TrackClock

RATE = 48_000
# A jump in timestamps bigger than this is a gap to fill with silence; smaller ones are
# jitter in the recorder's timestamps and are not worth a discontinuity.
GAP_MS = 30.0
# Peak the mix is kept under (-1.4 dBFS: lossy AAC overshoots a little); the limiter
# recovers at this fraction of the headroom per block.
CEILING = 0.85
RELEASE = 0.02


class AudioTrackReader:
    """Samples of one audio file, addressed by sample index on the composite timeline."""

    def __init__(self, track: TrackFile, origin_ms: int) -> None:
        self.track = track
        self._clock = TrackClock(track, origin_ms)
        self._frames: Iterator[tuple[float, np.ndarray]] | None = None
        self._buffer = np.zeros(0, dtype=np.float32)
        self._buffer_start = self._clock.first_sample(RATE)  # timeline sample of _buffer[0]
        self._done = False

    def read(self, start: int, count: int) -> np.ndarray | None:
        """Samples [start, start+count) of the timeline (silence where the track has none),
        or None if the track has nothing in that span. Calls must not go backwards."""
        end = start + count
        end_sample = self._clock.last_sample(RATE)
        if end <= self._buffer_start or start >= end_sample:
            self._drop_before(start)
            return None
        while not self._done and self._buffer_start + len(self._buffer) < end:
            self._decode_next()
        out = np.zeros(count, dtype=np.float32)
        lo = max(start, self._buffer_start)
        hi = min(end, self._buffer_start + len(self._buffer), end_sample)
        if hi > lo:
            out[lo - start:hi - start] = self._buffer[lo - self._buffer_start:hi - self._buffer_start]
        self._drop_before(end)
        return out

    def ended(self, t_ms: float) -> bool:
        """Whether the track is over at `t_ms` (timeline ms): its file can be closed."""
        return t_ms * RATE / 1000 >= self._clock.last_sample(RATE)

    def close(self) -> None:
        self._buffer = self._buffer[:0]
        if self._frames is not None:
            self._frames.close()  # type: ignore[attr-defined]
            self._frames = None

    def _drop_before(self, sample: int) -> None:
        cut = min(max(0, sample - self._buffer_start), len(self._buffer))
        if cut:
            self._buffer = self._buffer[cut:]
            self._buffer_start += cut

    def _decode_next(self) -> None:
        if self._frames is None:
            self._frames = _decode(self.track)
        try:
            at_ms, samples = next(self._frames)
        except StopIteration:
            self._done = True
            return
        at = self._clock.sample_of(at_ms, RATE)
        tail = self._buffer_start + len(self._buffer)
        if at - tail > GAP_MS * RATE / 1000:
            self._buffer = np.concatenate([self._buffer, np.zeros(at - tail, np.float32)])
        self._buffer = np.concatenate([self._buffer, samples])


def _decode(track: TrackFile) -> Iterator[tuple[float, np.ndarray]]:
    """(file timestamp in ms, mono float32 samples at RATE) for each decoded frame."""
    try:
        container = av.open(str(track.path))
    except av.FFmpegError as exc:
        raise CompositeError(f"cannot open {track.name}: {exc}") from None
    try:
        if not container.streams.audio:
            raise CompositeError(f"{track.name} has no audio stream")
        stream = container.streams.audio[0]
        resampler = av.AudioResampler(format="flt", layout="mono", rate=RATE)
        try:
            for frame in container.decode(stream):
                if frame.pts is None:
                    continue
                at_ms = float(frame.pts * stream.time_base * 1000)
                for out in resampler.resample(frame):
                    yield at_ms, out.to_ndarray().reshape(-1).astype(np.float32, copy=False)
                    at_ms += out.samples * 1000 / RATE
        except av.FFmpegError:
            return  # a file cut short by a crash: keep what decoded
    finally:
        container.close()


class Mixer:
    """Sums the tracks' blocks and keeps the peak under CEILING with a smooth gain, so a
    loud moment is turned down instead of clipped and the level comes back gently."""

    def __init__(self) -> None:
        self._gain = 1.0

    def mix(self, blocks: Sequence[np.ndarray], count: int) -> np.ndarray:
        total = np.zeros(count, dtype=np.float32)
        for block in blocks:
            total += block
        peak = float(np.max(np.abs(total))) if count else 0.0
        target = min(1.0, CEILING / peak) if peak > 0 else 1.0
        if target < self._gain:
            self._gain = target  # attack at once: never let a peak through
        else:
            self._gain += (target - self._gain) * RELEASE
        return np.clip(total * self._gain, -1.0, 1.0)
