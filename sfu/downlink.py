"""Bandwidth adaptation of one subscriber connection: feeds the estimator with the RTCP the
subscriber sends and with what we send it, and applies the allocator's split to the down
tracks (contract A: set_budget / set_bw_paused)."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from sfu.bandwidth_allocator import AUDIO_FLOOR_BPS, Allocation, BandwidthAllocator, VideoDemand
from sfu.bandwidth_estimator import BandwidthEstimator, EstimatorLimits
from sfu.down_track import DownTrack
from sfu.layer_selector import size_layer
from sfu.rate_meter import RateMeter
from sfu.rtcp_events import ReceiverReport, Remb, RtcpEvent

logger = logging.getLogger(__name__)

REPORT_CHANGE = 0.2  # tell the client when the estimate moved by this fraction ...
REPORT_MIN_INTERVAL_S = 2.0  # ... at most this often (a pause change is told at once)


@dataclass(frozen=True)
class BandwidthReport:
    """What the subscriber is told (docs/protocol.md `bandwidth`)."""

    estimate_bps: int
    video_paused: bool


class Downlink:
    def __init__(self, limits: EstimatorLimits | None = None) -> None:
        self.estimator = BandwidthEstimator(limits)
        self.allocator = BandwidthAllocator()
        self.sent_bps = 0
        self._rates: dict[int, RateMeter] = {}  # per down track SSRC: what we send on it
        self.allocation = Allocation()
        self.video_paused = False
        self._told: BandwidthReport | None = None
        self._told_at = float("-inf")

    def on_rtcp(self, down: DownTrack, event: RtcpEvent, now: float) -> None:
        """RTCP that reached `down`'s sender. A compound report reaches every sender it
        names, so a block counts only at the sender it is about."""
        if isinstance(event, ReceiverReport):
            if event.ssrc == down.ssrc:
                self.estimator.on_report_block(event.ssrc, event.highest_sequence,
                                               event.packets_lost, now)
        elif isinstance(event, Remb):
            # Browsers send one REMB for the transport, aiortc one per receiver: either way
            # it covers the streams it lists (those carrying abs-send-time), handled once.
            mine = [ssrc for ssrc in event.ssrcs if ssrc in self._rates]
            if mine and mine[0] == down.ssrc:
                covered = sum(self._rates[ssrc].bps for ssrc in mine)
                self.estimator.on_remb(event.bitrate, now, tuple(mine), covered)

    def tick(self, downs: Iterable[DownTrack], dominant: str | None,
             now: float) -> BandwidthReport | None:
        """Measure, re-split, apply; return a report when the client should hear of it."""
        downs = [d for d in downs if d.source is not None and not d.source.closed]
        sent = self.sent_bps = self._measure(downs, now)
        self.estimator.set_sent(sent, self.allocation.next_step_bps,
                                self.allocation.demand_bps)
        self.estimator.update(now)
        audio = sum(max(AUDIO_FLOOR_BPS, _source_bps(d, now)) for d in downs
                    if d.kind == "audio")
        videos = [_demand(d, dominant) for d in downs if d.kind == "video" and not d.view_paused]
        estimate = self.estimator.estimate_bps
        self.allocation = self.allocator.allocate(estimate, audio, videos, now,
                                                  eager=not self.estimator.proven)
        _apply(self.allocation, videos)
        if self.allocation.video_paused != self.video_paused:
            logger.info("downlink estimate %d bit/s (sending %d, loss %.2f): video %s",
                        estimate, sent, self.estimator.loss,
                        "paused" if self.allocation.video_paused else "resumed")
        self.video_paused = self.allocation.video_paused
        return self._report(BandwidthReport(estimate, self.video_paused), now)

    def _measure(self, downs: list[DownTrack], now: float) -> int:
        rates = {d.ssrc: self._rates.get(d.ssrc) or RateMeter() for d in downs}
        self._rates = rates
        return sum(rates[d.ssrc].sample(d.octets_sent + d.retransmitted_octets, now)
                   for d in downs)

    def _report(self, report: BandwidthReport, now: float) -> BandwidthReport | None:
        told = self._told
        if told is not None and told.video_paused == report.video_paused:
            moved = abs(report.estimate_bps - told.estimate_bps) / max(1, told.estimate_bps)
            if moved < REPORT_CHANGE or now - self._told_at < REPORT_MIN_INTERVAL_S:
                return None
        self._told, self._told_at = report, now
        return report


def _source_bps(down: DownTrack, now: float) -> int:
    layers = down.layers_available()  # simulcast: what this subscriber gets is one layer
    if len(layers) > 1:
        return layers[min(down.current_layer, len(layers) - 1)].bitrate_bps
    rate: Callable[[float], int] | None = getattr(down.source, "bitrate_bps", None)
    return rate(now) if callable(rate) else 0


def _demand(down: DownTrack, dominant: str | None) -> VideoDemand:
    layers = down.layers_available()
    bitrates = tuple(layer.bitrate_bps for layer in layers) or (0,)
    # The layer the tile needs, by the down track's own rule, so we never probe for a layer
    # it would not take.
    wanted = size_layer(layers, down.view_width, down.view_height) if layers else 0
    area = None if down.view_width is None or down.view_height is None \
        else down.view_width * down.view_height
    source = down.source
    speaker = source is not None and dominant is not None \
        and source.info.participant_id == dominant
    return VideoDemand(key=down, layer_bitrates=bitrates, wanted_layer=wanted, area=area,
                       speaker=speaker)


def _apply(allocation: Allocation, videos: list[VideoDemand]) -> None:
    for video in videos:
        down = video.key
        assert isinstance(down, DownTrack)
        budget = allocation.budgets.get(down)
        if budget is None:
            down.set_bw_paused(True)
        else:
            down.set_budget(budget)
            down.set_bw_paused(False)
