"""Placing a track file's own timestamps on the composite timeline.

The contract says a file's timestamps are milliseconds of the shared recording clock, and the
manifest gives each file's start_ms/end_ms on that clock. We trust the file's timestamps when
its first one agrees with start_ms to within REBASE_MS; if not (a muxer that rebased the file
to zero, say), the file's first timestamp is taken to be start_ms. The composite timeline
starts at `origin_ms` (the earliest start_ms of the recording).
"""

from __future__ import annotations

from recorder.composite.manifest import TrackFile

REBASE_MS = 1000.0


class TrackClock:
    def __init__(self, track: TrackFile, origin_ms: int) -> None:
        self.track = track
        self.origin_ms = origin_ms
        self._offset_ms: float | None = None  # added to a file timestamp for the shared clock

    def timeline_ms(self, file_ms: float) -> float:
        """Milliseconds since the composite's start of a file timestamp (the first call must
        be the file's first timestamp)."""
        if self._offset_ms is None:
            drift = self.track.start_ms - file_ms
            self._offset_ms = drift if abs(drift) > REBASE_MS else 0.0
        return file_ms + self._offset_ms - self.origin_ms

    def sample_of(self, file_ms: float, rate: int) -> int:
        return round(self.timeline_ms(file_ms) * rate / 1000)

    def first_sample(self, rate: int) -> int:
        return round((self.track.start_ms - self.origin_ms) * rate / 1000)

    def last_sample(self, rate: int) -> int:
        return round((self.track.end_ms - self.origin_ms) * rate / 1000)
