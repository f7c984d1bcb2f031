"""Maps a recogniser's sample positions to wall-clock time.

Audio of one speaker arrives with gaps (muted, DTX, network); vosk only counts the samples it
was fed. Each chunk fed records (sample index, wall ms of its first sample) when it does not
continue the previous chunk seamlessly, so a vosk time can be turned back into wall time."""

from __future__ import annotations

import bisect

from transcribe.recognizer import SAMPLE_RATE

# A chunk starting this far (ms) from where the previous one predicts starts a new anchor.
DRIFT_MS = 20
MAX_ANCHORS = 4096


class Timeline:
    def __init__(self) -> None:
        self._samples: list[int] = []
        self._walls: list[float] = []
        self.fed = 0  # samples fed so far

    def add(self, wall_ms: float, samples: int) -> None:
        """`samples` more samples were fed, the first of them heard at `wall_ms`."""
        if not self._samples or abs(self.wall_at(self.fed) - wall_ms) > DRIFT_MS:
            self._samples.append(self.fed)
            self._walls.append(wall_ms)
            if len(self._samples) > MAX_ANCHORS:
                # Old anchors only serve results long finished; keep the recent half.
                del self._samples[:MAX_ANCHORS // 2], self._walls[:MAX_ANCHORS // 2]
        self.fed += samples

    def wall_at(self, sample: float) -> float:
        if not self._samples:
            return 0.0
        i = max(0, bisect.bisect_right(self._samples, sample) - 1)
        return self._walls[i] + (sample - self._samples[i]) * 1000.0 / SAMPLE_RATE

    def wall_of_seconds(self, seconds: float) -> int:
        return int(round(self.wall_at(seconds * SAMPLE_RATE)))
