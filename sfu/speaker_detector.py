"""Pure: audio levels (RFC 6464 `ssrc-audio-level`, -dBov 0..127) to per-participant
loudness 0..1 and a dominant speaker with hysteresis, so the highlight does not flicker.

The packet path only calls `LevelMeter.add`; everything else runs on a timer.
"""

from __future__ import annotations

from collections.abc import Mapping

SILENCE_DBOV = 127
# -dBov at or above which a packet counts as silent: quiet rooms sit around -60..-70 dBov,
# speech at -20..-40, so loudness spreads speech over most of 0..1.
FLOOR_DBOV = 70.0


NOTHING = SILENCE_DBOV + 1


class LevelMeter:
    """Per audio track: the loudest level byte between two timer ticks.

    The loudest, not the mean: each byte already averages a 20 ms packet, and a mean in
    dB over a tick drowns short syllables (or Chromium's fake-microphone beeps) in the
    silence around them. The detector's hysteresis is what ignores isolated peaks.
    """

    __slots__ = ("_loudest",)

    def __init__(self) -> None:
        self._loudest = NOTHING

    def add(self, level: int) -> None:
        if level < self._loudest:
            self._loudest = level

    def take(self) -> int | None:
        """The loudest -dBov since the last take; None if no packet carried a level."""
        loudest, self._loudest = self._loudest, NOTHING
        return None if loudest == NOTHING else loudest


def loudness(dbov: float | None) -> float:
    """-dBov (0 loudest, 127 silence; None: nothing heard) to 0..1."""
    if dbov is None:
        return 0.0
    return max(0.0, min(1.0, (FLOOR_DBOV - dbov) / FLOOR_DBOV))


class SpeakerDetector:
    """Smoothed levels and the dominant speaker of one room.

    A participant becomes dominant after being the loudest speaker (above `threshold` and
    `margin` louder than the current one) for `hold_s` without interruption. Silence keeps
    the current speaker; only leaving (or being muted: absent from the input) drops it.
    """

    def __init__(self, hold_s: float = 1.0, threshold: float = 0.15, margin: float = 0.1,
                 rise: float = 0.6, fall: float = 0.3) -> None:
        if hold_s < 0 or not 0 < rise <= 1 or not 0 < fall <= 1:
            raise ValueError("hold_s must be >= 0 and rise/fall in (0, 1]")
        self.hold_s = hold_s
        self.threshold = threshold
        self.margin = margin
        self._rise = rise
        self._fall = fall
        self.dominant: str | None = None
        self.levels: dict[str, float] = {}
        self._challenger: str | None = None
        self._since = 0.0

    def update(self, raw: Mapping[str, float], now: float) -> bool:
        """Feed one tick of loudness per counted participant; True if `dominant` changed."""
        self._smooth(raw)
        before = self.dominant
        if self.dominant is not None and self.dominant not in self.levels:
            self.dominant = None  # left or muted
        challenger = self._loudest_challenger()
        if challenger != self._challenger:
            self._challenger, self._since = challenger, now
        if challenger is not None and now - self._since >= self.hold_s:
            self.dominant, self._challenger = challenger, None
        return self.dominant != before

    def _smooth(self, raw: Mapping[str, float]) -> None:
        levels: dict[str, float] = {}
        for pid, value in raw.items():
            old = self.levels.get(pid, 0.0)
            alpha = self._rise if value > old else self._fall
            smoothed = old + alpha * (value - old)
            levels[pid] = smoothed if smoothed >= 0.01 else 0.0
        self.levels = levels

    def _loudest_challenger(self) -> str | None:
        current = self.levels.get(self.dominant, 0.0) if self.dominant else 0.0
        best, best_level = None, max(self.threshold, current + self.margin)
        for pid, level in self.levels.items():
            if pid != self.dominant and level >= best_level:
                best, best_level = pid, level
        return best
