"""Splitting one subscriber's downlink estimate across the tracks it receives.

Audio is reserved first: it is small, and speech that breaks up is worse than any picture.
Video down tracks the subscriber shows are ranked (the active speaker, then bigger tiles) and
admitted in that order while their lowest layer still fits; what is left lifts the admitted
tracks to higher layers in the same order, never beyond the layer their tile needs. Tracks
that do not fit are paused; when nothing fits, the subscriber is audio-only.

Hysteresis: a running track is dropped at once when the estimate falls below
`keep_fraction` of what it needs (a link that far short loses packets now; a little short, its
lowest layer is still better than nothing, and a single-layer publisher is itself told the
lowest REMB and slows down), admitting one more needs `resume_margin` of headroom to start a `resume_hold_s` timer, which
runs on while the track still fits (without the margin, so measurement noise in layer bit rates
does not restart it). A track re-admitted
and dropped again soon after doubles the hold, up to `max_hold_s`, so a link that cannot
carry video is not probed every two seconds. Layer steps up wait and back off the same way
(`sfu/upgrade_hold.py`). Before the link has shown any limit (`eager`)
nothing is paused: the estimate is still a guess (it only picks layers), and a single-layer
stream above the start estimate must not be held back on a link that has not complained.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from sfu.upgrade_hold import UpgradeHold

DEFAULT_LAYER_BPS = 150_000  # a layer whose bitrate is not measured yet
AUDIO_FLOOR_BPS = 16_000  # reserve for an audio track that is silent right now (DTX)
FAILED_RESUME_S = 10.0  # dropped again within this long after admitting: the probe failed


@dataclass(frozen=True)
class VideoDemand:
    """One visible video down track as the allocator sees it."""

    key: object  # identifies the down track across ticks
    layer_bitrates: tuple[int, ...]  # per layer, lowest first; 0 = unknown
    wanted_layer: int  # the lowest layer that covers the tile (the top one if unknown)
    area: int | None  # tile size in pixels, None if the client did not say
    speaker: bool  # it belongs to the active speaker

    def layer_bps(self, index: int) -> int:
        return self.layer_bitrates[index] or DEFAULT_LAYER_BPS


@dataclass
class Allocation:
    budgets: dict[object, int] = field(default_factory=dict)  # admitted tracks
    paused: list[object] = field(default_factory=list)  # tracks that do not fit
    next_step_bps: int = 0  # the total the next step up would need (0: nothing to try)
    demand_bps: int = 0  # the total for every visible track at the layer its tile needs

    @property
    def video_paused(self) -> bool:
        return bool(self.paused) and not self.budgets


class BandwidthAllocator:
    def __init__(self, resume_margin: float = 1.15, resume_hold_s: float = 2.0,
                 max_hold_s: float = 16.0, keep_fraction: float = 0.75) -> None:
        self.resume_margin = resume_margin
        self.keep_fraction = keep_fraction
        self.base_hold_s = resume_hold_s
        self.max_hold_s = max_hold_s
        self.admitted = -1  # how many ranked tracks run; -1: not decided yet (admit all that fit)
        self._hold_s = resume_hold_s
        self._fits_since: float | None = None
        self._admitted_at = float("-inf")
        self._upgrades = UpgradeHold()

    def allocate(self, estimate_bps: int, audio_bps: int, videos: Sequence[VideoDemand],
                 now: float, eager: bool = False) -> Allocation:
        ranked = sorted(videos, key=_rank)
        available = estimate_bps - audio_bps
        if eager:
            self.admitted, self._fits_since = len(ranked), None
        else:
            self._admit(ranked, available, now)
        running, waiting = ranked[:self.admitted], ranked[self.admitted:]
        allocation = Allocation(paused=[v.key for v in waiting])
        fitting = _choose_layers(available, running)
        allowed = self._upgrades.allowed(
            {v.key: layer for v, layer in zip(running, fitting)}, now, immediate=eager)
        allocation.budgets = _budgets(available, running, [allowed[v.key] for v in running],
                                      fitting)
        step = _next_step(running, waiting, allocation.budgets)
        allocation.next_step_bps = audio_bps + int(step * self.resume_margin) if step else 0
        allocation.demand_bps = audio_bps + sum(v.layer_bps(v.wanted_layer) for v in ranked)
        return allocation

    def _admit(self, ranked: list[VideoDemand], available: int, now: float) -> None:
        if self.admitted < 0:
            self.admitted = _how_many_fit(available, ranked)
        self.admitted = min(self.admitted, len(ranked))
        keep = _how_many_fit(int(available / self.keep_fraction), ranked)
        if keep < self.admitted:
            if now - self._admitted_at < FAILED_RESUME_S:
                self._hold_s = min(self.max_hold_s, self._hold_s * 2)
            elif now - self._admitted_at > FAILED_RESUME_S * 3:
                self._hold_s = self.base_hold_s
            self.admitted = keep
            self._fits_since = None
            return
        if self.admitted >= len(ranked):
            self._fits_since = None
            return
        needed = _lowest_total(ranked[:self.admitted + 1])
        margin = self.resume_margin if self._fits_since is None else 1.0
        if needed * margin > available:
            self._fits_since = None
            return
        if self._fits_since is None:
            self._fits_since = now
        if now - self._fits_since >= self._hold_s:
            self.admitted += 1
            self._admitted_at = now
            self._fits_since = None


def _rank(video: VideoDemand) -> tuple[int, int]:
    area = video.area if video.area is not None else 640 * 360  # an unknown tile: medium
    return (0 if video.speaker else 1, -area)


def _lowest_total(videos: Sequence[VideoDemand]) -> int:
    return sum(v.layer_bps(0) for v in videos)


def _how_many_fit(available: int, ranked: list[VideoDemand]) -> int:
    total = 0
    for count, video in enumerate(ranked):
        total += video.layer_bps(0)
        if total > available:
            return count
    return len(ranked)


def _choose_layers(available: int, running: list[VideoDemand]) -> list[int]:
    """Layer 0 for every running track, then upgrades in rank order."""
    chosen = [0] * len(running)
    left = available - _lowest_total(running)
    for i, video in enumerate(running):
        for layer in range(video.wanted_layer, 0, -1):
            extra = video.layer_bps(layer) - video.layer_bps(0)
            if extra <= left:
                chosen[i] = layer
                left -= extra
                break
    return chosen


def _budgets(available: int, running: list[VideoDemand], chosen: list[int],
             fitting: list[int]) -> dict[object, int]:
    """Each track's budget at its chosen layer; the leftover goes to the first track so a
    layer whose measured bitrate wobbles does not flap, but never lifts a track that
    `UpgradeHold` keeps below the layer that fits."""
    budgets = {v.key: v.layer_bps(chosen[i]) for i, v in enumerate(running)}
    if running:
        first = running[0]
        budget = budgets[first.key] + max(0, available - sum(budgets.values()))
        if chosen[0] < fitting[0]:
            budget = min(budget, first.layer_bps(chosen[0] + 1) - 1)
        budgets[first.key] = max(budgets[first.key], budget)
    return budgets


def _next_step(running: list[VideoDemand], waiting: list[VideoDemand],
               budgets: dict[object, int]) -> int:
    """The video total that the next step up would need: one more track's lowest layer,
    or else one layer up on the first running track that can go higher."""
    if waiting:
        return _lowest_total(running) + waiting[0].layer_bps(0)
    spent = sum(budgets.values())
    for video in running:
        budget = budgets[video.key]
        for layer in range(1, video.wanted_layer + 1):
            if video.layer_bps(layer) > budget:
                return spent + video.layer_bps(layer) - budget
    return 0
