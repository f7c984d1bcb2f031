"""A published track (Galène's up track): receives the publisher's RTP, keeps the
history, asks for lost packets and keyframes upstream, and fans packets out to the
subscriber streams attached to it."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

from sfu import aiortc_bridge as bridge
from sfu.codecs import CodecSpec
from sfu.interfaces import DownTrackLike, RtpPacketLike
from sfu.keyframe import is_keyframe_start
from sfu.keyframe_limiter import KeyframeLimiter
from sfu.packet_history import PacketHistory
from sfu.rate_meter import RateMeter
from sfu.rtcp_events import RtcpEvent, SenderReport
from sfu.rtcp_stats import NackTracker, ReceiveStats, ReportBlock
from sfu.settings import SfuSettings
from sfu.speaker_detector import LevelMeter
from sfu.tracks import TrackInfo

logger = logging.getLogger(__name__)


class PublishedTrack:
    def __init__(self, info: TrackInfo, codec: CodecSpec, rtx_payload_type: int | None,
                 settings: SfuSettings, send_rtcp: Callable[[bytes], None],
                 rtcp_ssrc: int, media_ssrc: int | None = None) -> None:
        self.info = info
        self.kind = info.kind
        self.codec = codec
        self.rtx_payload_type = rtx_payload_type
        self.media_ssrc = media_ssrc
        self.muted = False
        self.closed = False
        self.sender_report: tuple[SenderReport, float] | None = None
        self.octets_received = 0  # media payload bytes, for the up-stream bit rate
        self._rate = RateMeter(window_s=1.0, smoothing=0.3)  # layer rates for the allocator
        self._send_rtcp = send_rtcp
        self.rtcp_ssrc = rtcp_ssrc
        self._history: PacketHistory[Any] = PacketHistory(settings.packet_history_ms)
        self._stats = ReceiveStats(codec.clock_rate)
        nack = self.kind == "video" and codec.has_feedback("nack")
        self._nacks = NackTracker() if nack else None
        self._keyframes = KeyframeLimiter(settings.keyframe_min_interval_s, self._send_pli)
        self._downs: list[DownTrackLike] = []
        # Audio only: the ssrc-audio-level byte of each packet, for the room's speaker detector.
        self.meter = LevelMeter() if self.kind == "audio" else None

    # --- subscribers -----------------------------------------------------------------

    def add_down(self, down: DownTrackLike) -> None:
        if down not in self._downs:
            self._downs.append(down)

    def remove_down(self, down: DownTrackLike) -> None:
        if down in self._downs:
            self._downs.remove(down)

    def packet(self, seq: int) -> Any:
        return self._history.get(seq)

    def request_keyframe(self) -> None:
        if self.kind == "video" and not self.closed:
            self._keyframes.request()

    @property
    def keyframe_requests_sent(self) -> int:
        return self._keyframes.sent

    def set_muted(self, muted: bool) -> None:
        if self.muted == muted:
            return
        self.muted = muted
        if not muted:
            for down in self._downs:
                down.resync()
            self.request_keyframe()

    def close(self) -> None:
        self.closed = True
        self._keyframes.close()
        for down in list(self._downs):
            down.source_gone()
        self._downs.clear()

    # --- from the publisher ----------------------------------------------------------

    async def on_rtp(self, packet: RtpPacketLike) -> None:
        now = time.monotonic()
        pt = packet.payload_type
        if pt == self.codec.payload_type:
            self.media_ssrc = packet.ssrc
            self._stats.add(packet.sequence_number, packet.timestamp, now)
            self.octets_received += len(packet.payload)
            if self.meter is not None:
                level = packet.extensions.audio_level
                if level is not None:
                    self.meter.add(level[1])
        elif pt == self.rtx_payload_type:
            if len(packet.payload) < 2 or self.media_ssrc is None:
                return  # padding-only bandwidth probe, or RTX before any media
            packet = bridge.unwrap_rtx(packet, self.codec.payload_type, self.media_ssrc)
        else:
            return
        if not self._history.add(packet.sequence_number, packet.timestamp, packet, now):
            return  # duplicate (a retransmission of something we already had)
        if self._nacks is not None:
            self._track_loss(packet.sequence_number, now)
        if self._downs and not self.muted and not self.closed:
            self._fan_out(packet)

    def on_rtcp(self, event: RtcpEvent) -> None:
        if isinstance(event, SenderReport):
            now = time.monotonic()
            self.sender_report = (event, now)
            self._stats.on_sender_report(event.ntp, now)

    def report_block(self, now: float) -> tuple[int, ReportBlock] | None:
        if self.media_ssrc is None:
            return None
        block = self._stats.report(now)
        return None if block is None else (self.media_ssrc, block)

    def bitrate_bps(self, now: float) -> int:
        """The publisher's media bit rate (payload), measured over the last second or so."""
        return self._rate.sample(self.octets_received, now)

    def bitrate_estimate(self) -> int | None:
        """The lowest bitrate any subscriber's receiver estimated (REMB), if known."""
        values = [d.remb for d in self._downs if getattr(d, "remb", None)]
        return min(values) if values else None

    def _track_loss(self, seq: int, now: float) -> None:
        assert self._nacks is not None
        if self._nacks.add(seq, now):
            self.request_keyframe()  # too much lost to repair packet by packet
        lost = self._nacks.due(now)
        if lost and self.media_ssrc is not None:
            self._send_rtcp(bridge.nack(self.rtcp_ssrc, self.media_ssrc, lost))

    def _fan_out(self, packet: RtpPacketLike) -> None:
        downs = tuple(self._downs)
        keyframe = False
        if self.kind == "video" and any(d.needs_keyframe for d in downs):
            keyframe = is_keyframe_start(self.codec.label, packet.payload)
            if not keyframe:
                self.request_keyframe()  # ask again (rate-limited) in case a PLI was lost
        cache: dict[Any, bytes] = {}
        for down in downs:
            try:
                down.write(packet, keyframe, cache)
            except Exception:  # noqa: BLE001 - one subscriber must not stop the others
                logger.exception("forwarding to a subscriber failed; detaching it")
                self.remove_down(down)

    def _send_pli(self) -> None:
        if self.media_ssrc is not None and not self.closed:
            self._send_rtcp(bridge.pli(self.rtcp_ssrc, self.media_ssrc))
