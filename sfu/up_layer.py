"""One received RTP stream of a published track: the track itself, or one simulcast layer.

Each layer has its own SSRC (and RTX SSRC), so its own packet history, receive
statistics, NACK tracking, keyframe limiter and sender report. Its fan-out list holds
only the down tracks that forward this layer, so a layer nobody watches costs a history
insert and a few counters per packet. Down tracks switching to it wait in `waiting`
until its next keyframe.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from sfu import aiortc_bridge as bridge
from sfu.codecs import CodecSpec
from sfu.frame_size import frame_size
from sfu.interfaces import DownTrackLike, RtpPacketLike
from sfu.keyframe import is_keyframe_start
from sfu.keyframe_limiter import KeyframeLimiter
from sfu.packet_history import PacketHistory
from sfu.rate_meter import RateMeter
from sfu.rtcp_events import SenderReport
from sfu.rtcp_stats import NackTracker, ReceiveStats, ReportBlock
from sfu.settings import SfuSettings

logger = logging.getLogger(__name__)

LIVE_S = 1.5  # a layer with no packet for this long is not arriving (disabled or starved)


class UpLayer:
    def __init__(self, index: int, rid: str | None, codec: CodecSpec, settings: SfuSettings,
                 send_rtcp: Callable[[bytes], None], rtcp_ssrc: int,
                 media_ssrc: int | None = None, rtx_ssrc: int | None = None) -> None:
        self.index = index
        self.rid = rid
        self.codec = codec
        self.media_ssrc = media_ssrc
        self.rtx_ssrc = rtx_ssrc
        self.width: int | None = None
        self.height: int | None = None
        self.size_seen = False  # width/height read from a keyframe (else the SDP's or None)
        self.bitrate_bps = 0  # last measured while arriving; kept when it stops
        self.last_packet_at: float | None = None
        self.sender_report: tuple[SenderReport, float] | None = None
        self.downs: list[DownTrackLike] = []
        self.waiting: list[Any] = []  # down tracks switching here at the next keyframe
        self.closed = False
        self._video = codec.mime_type.lower().startswith("video/")
        self._label = codec.label
        self._send_rtcp = send_rtcp
        self._rtcp_ssrc = rtcp_ssrc
        self._history: PacketHistory[Any] = PacketHistory(settings.packet_history_ms)
        self._stats = ReceiveStats(codec.clock_rate)
        self._nacks = NackTracker() if self._video and codec.has_feedback("nack") else None
        self._keyframes = KeyframeLimiter(settings.keyframe_min_interval_s, self._send_pli)
        self.octets_received = 0  # media payload bytes
        self._rate = RateMeter(window_s=1.0, smoothing=0.3)  # 1 s windows: frame-size noise

    # --- fan-out membership ----------------------------------------------------------

    def add_down(self, down: DownTrackLike) -> None:
        if down not in self.downs:
            self.downs.append(down)

    def remove_down(self, down: DownTrackLike) -> None:
        if down in self.downs:
            self.downs.remove(down)

    def add_waiting(self, down: Any) -> None:
        if down not in self.waiting:
            self.waiting.append(down)

    def remove_waiting(self, down: Any) -> None:
        if down in self.waiting:
            self.waiting.remove(down)

    def packet(self, seq: int) -> Any:
        return self._history.get(seq)

    def request_keyframe(self) -> None:
        if self._video and not self.closed:
            self._keyframes.request()

    @property
    def keyframe_requests_sent(self) -> int:
        return self._keyframes.sent

    def live(self, now: float) -> bool:
        return self.last_packet_at is not None and now - self.last_packet_at < LIVE_S

    def close(self) -> None:
        self.closed = True
        self._keyframes.close()
        self.downs.clear()
        self.waiting.clear()

    # --- from the publisher ----------------------------------------------------------

    def on_media(self, packet: RtpPacketLike, now: float) -> bool:
        """A media packet (RTX already unwrapped); False for a duplicate."""
        if not self._history.add(packet.sequence_number, packet.timestamp, packet, now):
            return False
        self.last_packet_at = now
        self.octets_received += len(packet.payload)
        if self._nacks is not None:
            self._track_loss(packet.sequence_number, now)
        return True

    def count(self, packet: RtpPacketLike, now: float) -> None:
        """Receive statistics (for our receiver reports) of an original media packet."""
        self._stats.add(packet.sequence_number, packet.timestamp, now)

    def unwrap_rtx(self, packet: RtpPacketLike) -> Any:
        if len(packet.payload) < 2 or self.media_ssrc is None:
            return None  # padding-only bandwidth probe, or RTX before any media
        return bridge.unwrap_rtx(packet, self.codec.payload_type, self.media_ssrc)

    def on_sender_report(self, event: SenderReport, now: float) -> None:
        self.sender_report = (event, now)
        self._stats.on_sender_report(event.ntp, now)

    def report_block(self, now: float) -> tuple[int, ReportBlock] | None:
        if self.media_ssrc is None:
            return None
        block = self._stats.report(now)
        return None if block is None else (self.media_ssrc, block)

    def measure(self, now: float) -> int:
        """Update bitrate_bps (payload) while the layer arrives; a layer that stopped keeps
        its last rate, so a budget check does not mistake a switched-off layer for a
        cheap one."""
        if self.live(now):
            self.bitrate_bps = self._rate.sample(self.octets_received, now)
        return self.bitrate_bps

    def fan_out(self, packet: RtpPacketLike) -> None:
        downs = self.downs
        keyframe = False
        if self._video:
            wanted = bool(self.waiting) or any(d.needs_keyframe for d in downs)
            if wanted or not self.size_seen:
                keyframe = is_keyframe_start(self._label, packet.payload)
                if keyframe:
                    self._keyframe_seen(packet)
                elif wanted:
                    self.request_keyframe()  # ask again (rate-limited) in case a PLI was lost
        if not downs:
            return
        cache: dict[Any, Any] = {}
        for down in tuple(downs):
            try:
                down.write(packet, keyframe, cache)
            except Exception:  # noqa: BLE001 - one subscriber must not stop the others
                logger.exception("forwarding to a subscriber failed; detaching it")
                self.remove_down(down)

    def _keyframe_seen(self, packet: RtpPacketLike) -> None:
        size = frame_size(self._label, packet.payload)
        if size is not None:
            self.width, self.height = size
            self.size_seen = True
        for down in tuple(self.waiting):  # they switch here now, starting at this packet
            down.switch_layer(self)

    def _track_loss(self, seq: int, now: float) -> None:
        assert self._nacks is not None
        if self._nacks.add(seq, now):
            self.request_keyframe()  # too much lost to repair packet by packet
        lost = self._nacks.due(now)
        if lost and self.media_ssrc is not None:
            self._send_rtcp(bridge.nack(self._rtcp_ssrc, self.media_ssrc, lost))

    def _send_pli(self) -> None:
        if self.media_ssrc is not None and not self.closed:
            self._send_rtcp(bridge.pli(self._rtcp_ssrc, self.media_ssrc))
