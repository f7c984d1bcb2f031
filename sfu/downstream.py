"""What subscriber connections and WHEP sessions share: transceiver slots, each with a
down track, sender reports, downlink bandwidth adaptation (sfu/downlink.py: the estimate
from the peer's RTCP decides which layer each video gets, and pauses video that does not
fit), and clean-up when the peer goes away."""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sfu import aiortc_bridge as bridge
from sfu.bandwidth_estimator import EstimatorLimits
from sfu.down_track import DownTrack
from sfu.downlink import BandwidthReport, Downlink
from sfu.published_track import PublishedTrack
from sfu.rtcp_events import RtcpEvent
from sfu.settings import SfuSettings
from sfu.tasks import TaskSet
from sfu.tracks import TrackView

logger = logging.getLogger(__name__)

SR_INTERVAL_S = 1.0
BANDWIDTH_TICK_S = 0.5
BandwidthCallback = Callable[[str, BandwidthReport], None]  # owner, report


@dataclass
class Slot:
    """One sending transceiver and the published track it carries (None: idle)."""

    transceiver: Any
    kind: str
    down: DownTrack
    track: PublishedTrack | None = None


class DownstreamConnection:
    def __init__(self, owner: str, settings: SfuSettings,
                 on_gone: Callable[["DownstreamConnection"], None],
                 on_bandwidth: BandwidthCallback | None = None,
                 dominant: Callable[[], str | None] = lambda: None) -> None:
        """`on_bandwidth` hears the estimate and pauses the client should be told of (a
        WHEP player has no channel to tell: None); `dominant` names the active speaker,
        whose video is served first."""
        self.owner = owner
        self.lock = asyncio.Lock()
        self.closed = False
        self.slots: list[Slot] = []
        # track id -> how the client shows it; kept across renegotiations and slot reuse
        self.views: dict[str, TrackView] = {}
        self._settings = settings
        self._on_gone = on_gone
        self._pc = bridge.new_peer_connection()
        self._tasks = TaskSet()
        self._sr_loop: asyncio.Task[None] | None = None
        self.downlink = Downlink(EstimatorLimits(settings.bwe_start_bps, settings.bwe_min_bps,
                                                 settings.bwe_max_bps))
        self._on_bandwidth = on_bandwidth
        self._dominant = dominant
        self._bw_loop: asyncio.Task[None] | None = None
        bridge.on_connection_state(self._pc, self._on_state)

    def _new_slot(self, transceiver: Any, kind: str) -> Slot:
        ssrc, rtx_ssrc = bridge.sender_ssrcs(transceiver)
        down = DownTrack(kind, ssrc, rtx_ssrc, bridge.transport(transceiver),
                         bridge.cname(self._pc), native_send=self._settings.native_send)
        bridge.prepare_sender(transceiver, lambda event: self._on_rtcp(down, event),
                              down.set_ready)
        slot = Slot(transceiver=transceiver, kind=kind, down=down)
        self.slots.append(slot)
        return slot

    def _on_rtcp(self, down: DownTrack, event: RtcpEvent) -> None:
        down.on_rtcp(event)
        self.downlink.on_rtcp(down, event, time.monotonic())

    def _apply_negotiation(self) -> None:
        """After an answer: configure every slot and start forwarding to active ones."""
        for slot in self.slots:
            down = slot.down
            down.configure(bridge.negotiated_codecs(slot.transceiver),
                           bridge.negotiated_extensions(slot.transceiver))
            active = slot.track is not None and not slot.track.closed
            if active and bridge.current_direction(slot.transceiver) in ("sendonly", "sendrecv"):
                down.attach(slot.track)  # type: ignore[arg-type]
                down.set_view(self.views.get(slot.track.info.track_id))  # type: ignore[union-attr]
                if bridge.is_connected(bridge.transport(slot.transceiver)):
                    down.set_ready()
            else:
                down.detach()
        if self._sr_loop is None:
            self._sr_loop = self._tasks.spawn(self._send_reports())
        if self._bw_loop is None:
            self._bw_loop = self._tasks.spawn(self._adapt_bandwidth())

    def set_view(self, track_id: str, view: TrackView) -> None:
        """Remember the client's view of a track; apply it now if the track is flowing
        (otherwise the next negotiation applies it)."""
        self.views[track_id] = view
        for slot in self.slots:
            track = slot.track
            if track is not None and track.info.track_id == track_id \
                    and slot.down.source is track:
                slot.down.set_view(view)

    def forget_view(self, track_id: str) -> None:
        self.views.pop(track_id, None)

    def forget_track(self, track: PublishedTrack) -> None:
        for slot in self.slots:
            if slot.track is track:
                slot.down.detach()

    async def _send_reports(self) -> None:
        while not self.closed:
            await asyncio.sleep(SR_INTERVAL_S * random.uniform(0.8, 1.2))
            now = time.monotonic()
            for slot in self.slots:
                report = slot.down.sender_report(now)
                if report is not None:
                    await bridge.send(bridge.transport(slot.transceiver), report)

    async def _adapt_bandwidth(self) -> None:
        while not self.closed:
            await asyncio.sleep(BANDWIDTH_TICK_S)
            try:
                self.bandwidth_tick(time.monotonic())
            except Exception:  # noqa: BLE001 - keep adapting; media flows regardless
                logger.exception("bandwidth adaptation of %s failed", self.owner)

    def bandwidth_tick(self, now: float) -> None:
        downs = [s.down for s in self.slots if s.track is not None and s.down.source is s.track]
        report = self.downlink.tick(downs, self._dominant(), now)
        if report is not None and self._on_bandwidth is not None:
            try:
                self._on_bandwidth(self.owner, report)
            except Exception:  # noqa: BLE001 - a signalling bug must not break media
                logger.exception("on_bandwidth callback failed")

    def _on_state(self, state: str) -> None:
        if state in ("failed", "closed") and not self.closed:
            logger.info("downstream connection of %s is %s", self.owner, state)
            self._on_gone(self)

    async def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        for slot in self.slots:
            slot.down.detach()
        await self._tasks.cancel_all()
        await bridge.close(self._pc)
