"""A published track (Galène's up track): receives the publisher's RTP, keeps the
history, asks for lost packets and keyframes upstream, and fans packets out to the
subscriber streams attached to it.

A simulcast track has up to three layers (`UpLayer`), each its own SSRC; a plain track
has one. Simulcast SSRCs are not in the SDP: each is learned from the first packets
carrying the rid (or, for RTX, the repaired-rid) header extension.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from typing import Any

from sfu.codecs import CodecSpec
from sfu.interfaces import DownTrackLike, RtpPacketLike
from sfu.layer_selector import LayerActivity
from sfu.rtcp_events import RtcpEvent, SenderReport
from sfu.rtcp_stats import ReportBlock
from sfu.settings import SfuSettings
from sfu.speaker_detector import LevelMeter
from sfu.tracks import LayerInfo, TrackInfo
from sfu.up_layer import UpLayer

logger = logging.getLogger(__name__)

MAX_LEARNED_SSRCS = 16  # media + RTX of three layers, with room for an SSRC change
# REMB per simulcast layer, lowest first: a little above what the web client lets each
# layer use (150 kbit/s, 500 kbit/s, 1.5 Mbit/s; web/static/js/publisher.js).
SIMULCAST_REMB_BPS = (200_000, 700_000, 2_000_000)


class PublishedTrack:
    def __init__(self, info: TrackInfo, codec: CodecSpec, rtx_payload_type: int | None,
                 settings: SfuSettings, send_rtcp: Callable[[bytes], None],
                 rtcp_ssrc: int, media_ssrc: int | None = None,
                 rids: Sequence[str] = (), sim_ssrcs: Sequence[int] = (),
                 rtx_ssrcs: dict[int, int] | None = None,
                 rid_sizes: dict[str, tuple[int, int]] | None = None) -> None:
        self.info = info
        self.kind = info.kind
        self.codec = codec
        self.rtx_payload_type = rtx_payload_type
        self.muted = False
        self.closed = False
        self.rtcp_ssrc = rtcp_ssrc
        self.mid: str | None = None  # the publisher's m-section, set by its connection
        # Called with the rids the publisher should send, when that set changes.
        self.on_active_layers: Callable[["PublishedTrack", list[str]], None] | None = None
        # No `layers` channel (WHIP): the REMB covers only the layers somebody needs.
        self.layers_by_remb = False
        self.layers = self._new_layers(settings, send_rtcp, media_ssrc, rids, sim_ssrcs,
                                       rtx_ssrcs or {})
        self.simulcast = len(self.layers) > 1
        self.activity = LayerActivity(len(self.layers), settings.layer_idle_s,
                                      time.monotonic())
        self._live: list[bool] = []
        self._sorted = not self.simulcast
        self._routed = bool(rids or sim_ssrcs)  # layers found by SSRC, not payload type
        self._by_rid = {layer.rid: layer for layer in self.layers if layer.rid is not None}
        self._by_ssrc: dict[int, tuple[UpLayer, bool]] = {}  # ssrc -> (layer, is RTX)
        for layer in self.layers:
            if layer.media_ssrc is not None and (rids or sim_ssrcs):
                self._by_ssrc[layer.media_ssrc] = (layer, False)
            if layer.rtx_ssrc is not None:
                self._by_ssrc[layer.rtx_ssrc] = (layer, True)
        self._members: list[DownTrackLike] = []
        # Audio only: the ssrc-audio-level byte of each packet, for the room's speaker detector.
        self.meter = LevelMeter() if self.kind == "audio" else None

    def _new_layers(self, settings: SfuSettings, send_rtcp: Callable[[bytes], None],
                    media_ssrc: int | None, rids: Sequence[str], sim_ssrcs: Sequence[int],
                    rtx_ssrcs: dict[int, int]) -> list[UpLayer]:
        def layer(index: int, rid: str | None, ssrc: int | None) -> UpLayer:
            rtx = rtx_ssrcs.get(ssrc) if ssrc is not None else None
            return UpLayer(index, rid, self.codec, settings, send_rtcp, self.rtcp_ssrc,
                           ssrc, rtx)
        if rids:
            return [layer(i, rid, None) for i, rid in enumerate(rids)]
        if sim_ssrcs:
            return [layer(i, str(i), ssrc) for i, ssrc in enumerate(sim_ssrcs)]
        return [layer(0, None, media_ssrc)]

    # --- compatibility: the single (or lowest) layer ----------------------------------

    @property
    def media_ssrc(self) -> int | None:
        return self.layers[0].media_ssrc

    @property
    def sender_report(self) -> tuple[SenderReport, float] | None:
        return self.layers[0].sender_report

    @sender_report.setter
    def sender_report(self, value: tuple[SenderReport, float] | None) -> None:
        """Sources without an upstream SR (feeds) pair their clock here."""
        self.layers[0].sender_report = value

    @property
    def keyframe_requests_sent(self) -> int:
        return sum(layer.keyframe_requests_sent for layer in self.layers)

    def packet(self, seq: int) -> Any:
        return self.layers[0].packet(seq)

    # --- subscribers -----------------------------------------------------------------

    def add_down(self, down: DownTrackLike) -> None:
        """A down track carries this track (it picks and joins a layer itself)."""
        if down not in self._members:
            self._members.append(down)

    def remove_down(self, down: DownTrackLike) -> None:
        if down in self._members:
            self._members.remove(down)
        for layer in self.layers:
            layer.remove_down(down)
            layer.remove_waiting(down)

    @property
    def downs(self) -> list[DownTrackLike]:
        return list(self._members)

    def request_keyframe(self) -> None:
        """A keyframe on every layer somebody forwards (the lowest if none)."""
        if self.kind != "video" or self.closed:
            return
        busy = [layer for layer in self.layers if layer.downs or layer.waiting]
        for layer in busy or self.layers[:1]:
            layer.request_keyframe()

    def layer_infos(self) -> list[LayerInfo]:
        now = time.monotonic()
        return [LayerInfo(layer.index, layer.rid, layer.width, layer.height,
                          layer.measure(now)) for layer in self.layers]

    def bitrate_bps(self, now: float) -> int:
        """The publisher's media bit rate (payload) over the layers arriving now."""
        return sum(layer.measure(now) for layer in self.layers if layer.live(now))

    def live_layers(self, now: float) -> list[bool]:
        return [layer.live(now) for layer in self.layers]

    def wanted_layers(self) -> set[int]:
        """Layers some down track on screen wants; the lowest is always kept so a
        subscriber joining gets a picture at once."""
        wanted = {0}
        for down in self._members:
            if not getattr(down, "paused", False):
                wanted.add(getattr(down, "desired_layer", 0))
        return wanted

    def wanted_changed(self) -> None:
        """A down track's wanted layer changed: switch a needed layer on at once."""
        self._update_activity(time.monotonic())

    def active_rids(self) -> list[str]:
        return [layer.rid for layer in self.layers
                if layer.index in self.activity.active and layer.rid is not None]

    def tick(self, now: float) -> None:
        """Periodic (about twice a second): bitrates, which layers arrive (subscribers
        move off a layer that stopped and onto one that started), which to send."""
        for layer in self.layers:
            layer.measure(now)
        if not self.simulcast or self.closed:
            return
        live = self.live_layers(now)
        if self._order_by_size(now) or live != self._live:
            self._live = live
            for down in list(self._members):
                down.reselect()
        self._update_activity(now)

    def _order_by_size(self, now: float) -> bool:
        """Layers are indexed lowest first. The a=simulcast order is only the client's
        habit (ours and Chromium's list q;h;f): when every size is first known and the
        list runs high-first, it is turned round; True if it was."""
        areas = [(layer.width or 0) * (layer.height or 0) for layer in self.layers]
        if self._sorted or 0 in areas:
            return False
        self._sorted = True  # once: browsers resize layers on the fly (CPU, bandwidth)
        if areas != sorted(areas, reverse=True) or len(set(areas)) != len(areas):
            return False  # only a high-first list is turned round
        self.layers.sort(key=lambda layer: (layer.width or 0) * (layer.height or 0))
        for index, layer in enumerate(self.layers):
            layer.index = index
        self.activity = LayerActivity(len(self.layers), self.activity.idle_s, now)
        return True

    def _update_activity(self, now: float) -> None:
        if not self.simulcast or self.closed:
            return
        if self.activity.update(self.wanted_layers(), now) is None:
            return
        for layer in self.layers:
            if layer.index in self.activity.active and not layer.live(now):
                layer.request_keyframe()  # a re-enabled encoder starts with one anyway
        if self.on_active_layers is not None:
            try:
                self.on_active_layers(self, self.active_rids())
            except Exception:  # noqa: BLE001 - a signalling bug must not break media
                logger.exception("on_active_layers callback failed")

    def set_muted(self, muted: bool) -> None:
        if self.muted == muted:
            return
        self.muted = muted
        if not muted:
            for down in self._members:
                down.resync()
            self.request_keyframe()

    def close(self) -> None:
        self.closed = True
        for layer in self.layers:
            layer.close()
        for down in list(self._members):
            down.source_gone()
        self._members.clear()

    # --- from the publisher ----------------------------------------------------------

    async def on_rtp(self, packet: RtpPacketLike) -> None:
        self.receive(packet)

    def receive(self, packet: RtpPacketLike) -> None:
        """One RTP packet from the publisher (synchronous: the transport's fast path)."""
        now = time.monotonic()
        pt = packet.payload_type
        if self._routed:
            found = self._by_ssrc.get(packet.ssrc) or self._classify(packet)
            if found is None:
                return
            layer, rtx = found
        else:  # one stream: media and RTX told apart by payload type, as negotiated
            layer, rtx = self.layers[0], pt != self.codec.payload_type
            if not rtx:
                layer.media_ssrc = packet.ssrc
        if rtx:
            if pt != self.rtx_payload_type:
                return
            packet = layer.unwrap_rtx(packet)
            if packet is None:
                return
        else:
            if pt != self.codec.payload_type:
                return
            layer.count(packet, now)
            if self.meter is not None:
                level = packet.extensions.audio_level
                if level is not None:
                    self.meter.add(level[1])
        if not layer.on_media(packet, now):
            return  # duplicate (a retransmission of something we already had)
        if (layer.downs or layer.waiting or not layer.size_seen) and not self.muted \
                and not self.closed:
            layer.fan_out(packet)

    def _classify(self, packet: RtpPacketLike) -> tuple[UpLayer, bool] | None:
        extensions = packet.extensions
        rid = extensions.rtp_stream_id
        rtx = rid is None
        if rtx:
            rid = extensions.repaired_rtp_stream_id
        layer = self._by_rid.get(rid) if rid is not None else None
        if layer is None or len(self._by_ssrc) >= MAX_LEARNED_SSRCS:
            return None  # no rid yet (or a rid we did not negotiate): nothing to route by
        if rtx:
            layer.rtx_ssrc = packet.ssrc
        else:
            layer.media_ssrc = packet.ssrc
        self._by_ssrc[packet.ssrc] = (layer, rtx)
        return layer, rtx

    def on_rtcp(self, event: RtcpEvent) -> None:
        if isinstance(event, SenderReport):
            layer = self._layer_of(event.ssrc)
            if layer is not None:
                layer.on_sender_report(event, time.monotonic())

    def _layer_of(self, ssrc: int) -> UpLayer | None:
        if not self._routed:
            return self.layers[0]
        found = self._by_ssrc.get(ssrc)
        return None if found is None or found[1] else found[0]

    def report_blocks(self, now: float) -> list[tuple[int, ReportBlock]]:
        return [b for b in (layer.report_block(now) for layer in self.layers) if b is not None]

    def report_block(self, now: float) -> tuple[int, ReportBlock] | None:
        blocks = self.report_blocks(now)
        return blocks[0] if blocks else None

    def bitrate_estimate(self) -> int | None:
        """The REMB we send the publisher for this track. Without simulcast: the lowest
        bitrate any subscriber's receiver estimated, if known. With simulcast: what all
        its layers may use (a weak subscriber takes a lower layer instead of holding every
        layer down). Browsers take a REMB in their first seconds as their start estimate,
        so the layers come at once instead of after a slow climb; unwanted layers are
        switched off by `layers` messages, not by REMB. A publisher without that channel
        (`layers_by_remb`, WHIP) gets a REMB for the active layers only: an encoder that
        allocates its simulcast bitrate by the estimate (libwebrtc, OBS) then drops the
        layers nobody watches, and a needed one returns as its estimate climbs again."""
        if self.simulcast:
            indexes = (sorted(self.activity.active) if self.layers_by_remb
                       else range(len(self.layers)))
            return sum(SIMULCAST_REMB_BPS[min(i, len(SIMULCAST_REMB_BPS) - 1)]
                       for i in indexes)
        values = [d.remb for d in self._members if getattr(d, "remb", None)]
        return min(values) if values else None
