"""Hysteresis for simulcast layer upgrades of one subscriber's video tracks.

The estimator lets the estimate grow towards the next layer up (each step is a probe of
the link), so after a loss cut that was shallow the next layer fits again within a second
or two, and without a hold a track on a link that cannot carry that layer would flap: up,
loss, down, up. A step up therefore waits until it has fitted for `hold` seconds; a step
down soon after a step up (the probe failed) doubles that track's hold, up to `max_s`; a
long quiet spell resets it. Steps down are never held. Pure: the caller passes the time.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping
from dataclasses import dataclass

FAILED_STEP_S = 10.0  # a step down within this long after a step up: the probe failed


@dataclass
class _Track:
    layer: int
    hold_s: float
    fits_since: float | None = None
    raised_at: float = float("-inf")


class UpgradeHold:
    def __init__(self, base_s: float = 3.0, max_s: float = 32.0) -> None:
        self.base_s = base_s
        self.max_s = max_s
        self._tracks: dict[Hashable, _Track] = {}

    def allowed(self, fitting: Mapping[Hashable, int], now: float,
                immediate: bool = False) -> dict[Hashable, int]:
        """The layer each track may have now, given the layer that fits it now (a track
        seen for the first time, or every track with `immediate`, gets it at once)."""
        self._tracks = {key: self._tracks.get(key) or _Track(layer, self.base_s)
                        for key, layer in fitting.items()}
        if immediate:
            for key, layer in fitting.items():
                self._tracks[key].layer, self._tracks[key].fits_since = layer, None
            return dict(fitting)
        return {key: self._step(self._tracks[key], layer, now)
                for key, layer in fitting.items()}

    def hold_s(self, key: Hashable) -> float | None:
        track = self._tracks.get(key)
        return None if track is None else track.hold_s

    def _step(self, track: _Track, layer: int, now: float) -> int:
        if layer <= track.layer:
            track.fits_since = None
            if layer < track.layer:
                self._stepped_down(track, now)
                track.layer = layer
            return layer
        if track.fits_since is None:
            track.fits_since = now
        if now - track.fits_since < track.hold_s:
            return track.layer
        track.layer, track.fits_since, track.raised_at = layer, None, now
        return layer

    def _stepped_down(self, track: _Track, now: float) -> None:
        since_raise = now - track.raised_at
        if since_raise < FAILED_STEP_S:
            track.hold_s = min(self.max_s, track.hold_s * 2)
        elif since_raise > FAILED_STEP_S * 3:
            track.hold_s = self.base_s
