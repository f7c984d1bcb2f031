"""Active speaker from decoded audio energy, with hysteresis so the stage does not flicker.

Causal: the decision at time t uses only audio up to t, so the composite is built in one
streaming pass. Each participant's level is an exponential average of signal energy over
`window_ms`; a challenger takes the stage only after being louder than the current speaker by
`margin_db` (or the stage being empty) for `hold_ms` without a break.
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Mapping
from dataclasses import dataclass, field

import numpy as np


@dataclass(frozen=True)
class SpeakerPolicy:
    window_ms: float = 400.0  # averaging time of the energy
    threshold_dbfs: float = -45.0  # below this a participant counts as silent
    margin_db: float = 6.0  # how much louder than the current speaker a challenger must be
    hold_ms: float = 800.0  # how long the challenger must stay ahead


@dataclass
class SpeakerTracker:
    """Feed it blocks of audio per participant (`update`); read `speaker`."""

    policy: SpeakerPolicy = field(default_factory=SpeakerPolicy)
    speaker: Hashable | None = None
    _energy: dict[Hashable, float] = field(default_factory=dict)
    _challenger: Hashable | None = None
    _lead_ms: float = 0.0

    def level_db(self, who: Hashable) -> float:
        energy = self._energy.get(who, 0.0)
        return 10 * math.log10(energy) if energy > 1e-12 else -120.0

    def update(self, blocks: Mapping[Hashable, np.ndarray], block_ms: float) -> Hashable | None:
        """Account for one block of `block_ms` of each present participant's audio (absent
        participants are forgotten); returns the speaker after it."""
        alpha = 1.0 - math.exp(-block_ms / self.policy.window_ms)
        for who in list(self._energy):
            if who not in blocks:
                del self._energy[who]
        for who, samples in blocks.items():
            power = float(np.mean(np.square(samples, dtype=np.float64))) if samples.size else 0.0
            previous = self._energy.get(who, power)
            self._energy[who] = previous + alpha * (power - previous)
        if self.speaker not in self._energy:
            self.speaker = None
        self._challenge(block_ms)
        return self.speaker

    def _challenge(self, block_ms: float) -> None:
        loudest = max(self._energy, key=self.level_db, default=None)
        if loudest is None or loudest == self.speaker or \
                self.level_db(loudest) < self.policy.threshold_dbfs:
            self._challenger, self._lead_ms = None, 0.0
            return
        ahead = self.speaker is None or \
            self.level_db(loudest) >= self.level_db(self.speaker) + self.policy.margin_db
        if not ahead:
            self._challenger, self._lead_ms = None, 0.0
            return
        if loudest != self._challenger:
            self._challenger, self._lead_ms = loudest, 0.0
        self._lead_ms += block_ms
        if self._lead_ms >= self.policy.hold_ms:
            self.speaker, self._challenger, self._lead_ms = loudest, None, 0.0
