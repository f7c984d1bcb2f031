"""A subscriber-side stream (Galène's down track): one per subscriber transceiver.

It keeps one SSRC and one continuous sequence/timestamp space while the published
track behind it changes, withholds video until a keyframe, answers the subscriber's
NACKs from the publisher's history, forwards its PLI/FIR upstream and writes sender
reports derived from the publisher's.
"""

from __future__ import annotations

import logging
import random
import struct
import time
from typing import Any

from sfu import aiortc_bridge as bridge
from sfu.codecs import CodecSpec, output_codec, rtx_payload_type
from sfu.interfaces import RtpPacketLike, UpTrackLike
from sfu.rtcp_events import KeyframeRequest, Nack, Remb, RtcpEvent
from sfu.resend_budget import ResendBudget
from sfu.rtcp_stats import derive_sender_report
from sfu.rtp_rewriter import StreamRewriter, patch_header
from sfu.layer_selector import arriving_layer, wanted_layer
from sfu.tracks import LayerInfo, TrackView
from sfu.up_layer import UpLayer
from sfu.vp8_descriptor import PictureIdRewriter, Vp8Fields, parse_fields, rtp_header_length

logger = logging.getLogger(__name__)

MAX_NACKED_PER_PACKET = 64
RESEND_GUARD_S = 0.02  # one retransmission per packet per 20 ms, whatever the NACK rate


class DownTrack:
    def __init__(self, kind: str, ssrc: int, rtx_ssrc: int, transport: Any,
                 cname: str, native_send: bool = True) -> None:
        self.kind = kind
        self.ssrc = ssrc
        self.rtx_ssrc = rtx_ssrc
        self.source: UpTrackLike | None = None
        self.needs_keyframe = False
        self.remb: int | None = None
        self.paused = False  # not fed at all: off screen (view) or no bandwidth (bwe)
        self.view_paused = False
        self.bw_paused = False
        self.view_width: int | None = None  # the subscriber's tile, in device pixels
        self.view_height: int | None = None
        self.budget_bps: int | None = None  # the most this down track may use (bwe)
        self.desired_layer = 0  # what size and budget ask for
        self.target_layer = 0  # what we switch to: desired, or the best layer arriving
        self.current_layer = 0  # the layer being forwarded
        self.layer_switches = 0
        self._layer: UpLayer | None = None  # in this layer's fan-out list
        self._pending: UpLayer | None = None  # waiting for this layer's next keyframe
        self.packets_sent = 0
        self.octets_sent = 0
        self.retransmitted = 0
        self.retransmitted_octets = 0  # whole packets: they load the link like media does
        self._resend_budget = ResendBudget()
        self.writer = bridge.RtpWriter(transport, native=native_send)
        self._send = self.writer.send
        self._write = self.writer.write
        self._cname = cname
        self._ready = False
        self._profile: bridge.HeaderProfile | None = None
        self._codecs: list[CodecSpec] = []
        self._out_pt: int | None = None
        self._out_rtx_pt: int | None = None
        self._rewriter = StreamRewriter(random.getrandbits(15), random.getrandbits(32))
        self._rtx_seq = random.getrandbits(15)
        self._last_sent_at: float | None = None
        self._resent: dict[int, float] = {}
        self._vp8: PictureIdRewriter | None = None

    # --- set-up ----------------------------------------------------------------------

    def configure(self, codecs: list[CodecSpec], extensions: dict[str, int]) -> None:
        """Apply what the subscriber's answer negotiated."""
        self._codecs = codecs
        self._profile = bridge.HeaderProfile(extensions)
        self._choose_payload_types()

    def attach(self, source: UpTrackLike) -> None:
        if self.source is source:
            return
        self.detach()
        self.source = source
        self._rewriter.unanchor()
        self.needs_keyframe = self.kind == "video"
        self._choose_payload_types()
        self._vp8 = (self._vp8 or PictureIdRewriter()) if source.codec.label == "VP8" else None
        source.add_down(self)
        self.reselect()

    def detach(self) -> None:
        source = self.source
        if source is not None:
            source.remove_down(self)
            self._leave_layers()
            source.wanted_changed()
        self.source = None
        self._rewriter.unanchor()

    def set_view(self, view: TrackView | None) -> None:
        """How the subscriber shows the current source (None: on screen, size unknown).

        A paused video down track leaves its layer's fan-out list, so it costs nothing per
        packet. Resuming is a source switch: it waits for a keyframe (asked for through the
        layer's rate limiter) and re-bases numbering, so the output has no sequence gap.
        The tile size picks the simulcast layer.
        """
        view = view or TrackView()
        self.view_width, self.view_height = view.width, view.height
        self.view_paused = self.kind == "video" and not view.visible
        self._update_paused()

    def set_bw_paused(self, paused: bool) -> None:
        """The bandwidth allocator pauses (or resumes) this video, like an off-screen tile."""
        self.bw_paused = self.kind == "video" and bool(paused)
        self._update_paused()

    def set_budget(self, bps: int | None) -> None:
        """The most this down track may use (None: unlimited); may change the layer."""
        if bps is not None and (isinstance(bps, bool) or not isinstance(bps, int) or bps < 0):
            raise ValueError(f"budget must be a non-negative integer or None, got {bps!r}")
        if bps != self.budget_bps:
            self.budget_bps = bps
            self.reselect()

    def layers_available(self) -> list[LayerInfo]:
        """The source's layers, lowest first (one for a video track without simulcast;
        none for audio)."""
        if self.source is None or self.kind != "video":
            return []
        return self.source.layer_infos()

    def _update_paused(self) -> None:
        paused = self.view_paused or self.bw_paused
        if paused == self.paused:
            self.reselect()  # the size may have changed
            return
        self.paused = paused
        if paused:
            self._leave_layers()
            if self.source is not None:
                self.source.wanted_changed()
            return
        self.resync()
        self.reselect()
        if self.source is not None:
            self.source.wanted_changed()  # its layer may have been switched off meanwhile

    def reselect(self) -> None:
        """Pick the layer for the current tile size, budget and arriving layers, and
        join it (first time or after a pause) or start switching to it (on its next
        keyframe; until then the current layer keeps flowing)."""
        source = self.source
        if source is None:
            return
        layers = source.layers
        if self._layer is not None:
            self.current_layer = self._layer.index  # the source may have re-ordered them
        desired = wanted_layer(source.layer_infos(), self.view_width, self.view_height,
                               self.budget_bps)
        changed = desired != self.desired_layer
        self.desired_layer = desired
        self.target_layer = arriving_layer(desired, source.live_layers(time.monotonic()))
        if changed:
            source.wanted_changed()
        if self.paused:
            return
        target = layers[self.target_layer]
        if self._layer is None:
            self._join(target)
        elif self._layer is target:
            self._cancel_pending()
        elif self._pending is not target:
            self._cancel_pending()
            self._pending = target
            target.add_waiting(self)
            if self._ready:
                target.request_keyframe()

    def switch_layer(self, layer: UpLayer) -> None:
        """Called by `layer` at its keyframe: forward it from this packet on."""
        logger.debug("down track %d: layer %s -> %s (%sx%s)", self.ssrc, self.current_layer,
                     layer.index, layer.width, layer.height)
        if self._layer is not None:
            self._layer.remove_down(self)
        layer.remove_waiting(self)
        self._pending = None
        self._layer = layer
        self.current_layer = layer.index
        self.layer_switches += 1
        self._rewriter.unanchor()
        self.needs_keyframe = self.kind == "video"
        layer.add_down(self)

    def _join(self, layer: UpLayer) -> None:
        self._layer = layer
        self.current_layer = layer.index
        layer.add_down(self)
        if self._ready:
            layer.request_keyframe()

    def _cancel_pending(self) -> None:
        if self._pending is not None:
            self._pending.remove_waiting(self)
            self._pending = None

    def _leave_layers(self) -> None:
        self._cancel_pending()
        if self._layer is not None:
            self._layer.remove_down(self)
            self._layer = None

    def set_ready(self) -> None:
        """The transport is connected and the answer applied: packets may flow."""
        if not self._ready:
            self._ready = True
            if self._layer is not None:
                self._layer.request_keyframe()
            if self._pending is not None:
                self._pending.request_keyframe()

    def source_gone(self) -> None:
        self.source = None
        self._layer = self._pending = None
        self._rewriter.unanchor()

    def resync(self) -> None:
        """The source resumes after a pause (unmute): start again at a keyframe."""
        self._rewriter.unanchor()
        self.needs_keyframe = self.kind == "video"

    def _choose_payload_types(self) -> None:
        self._out_pt = self._out_rtx_pt = None
        if self.source is None or not self._codecs:
            return
        chosen = output_codec(self.source.codec, self._codecs)
        if chosen is None:
            logger.warning("subscriber did not accept %s; track %s is not forwarded",
                           self.source.codec.label, self.source.info.track_id)
            return
        self._out_pt = chosen.payload_type
        self._out_rtx_pt = rtx_payload_type(self._codecs, chosen.payload_type)

    # --- forwarding ------------------------------------------------------------------

    def write(self, packet: RtpPacketLike, keyframe: bool, cache: dict[Any, Any]) -> None:
        profile, out_pt = self._profile, self._out_pt
        if not self._ready or profile is None or out_pt is None:
            return
        rewriter = self._rewriter
        now = time.monotonic()
        if not rewriter.anchored:
            if self.needs_keyframe and not keyframe:
                return
            rewriter.switch_source(packet.sequence_number, packet.timestamp,
                                   self._timestamp_gap(now))
            self.needs_keyframe = False
            if self._vp8 is not None:
                self._vp8.anchor(packet.payload, _vp8_values(packet, cache)[0])
        mapped = rewriter.rewrite(packet.sequence_number, packet.timestamp)
        if mapped is None:
            return
        serialised = cache.get(profile.key)
        if serialised is None:  # once per header layout, shared by the other subscribers
            data = profile.serialize(packet)
            serialised = cache[profile.key] = (data, rtp_header_length(data))
        vp8 = self._vp8
        if vp8 is None:
            sent = self._write(serialised[0], serialised[1], out_pt, mapped[0], mapped[1],
                               self.ssrc, -1, 0, 0, -1, 0)
        else:
            fields, pid, tl0 = _vp8_values(packet, cache)
            pid, tl0 = vp8.next_values(pid, fields.picture_id_bits, tl0)
            sent = self._write(serialised[0], serialised[1], out_pt, mapped[0], mapped[1],
                               self.ssrc, fields.picture_id_at, fields.picture_id_bits, pid,
                               fields.tl0_at, tl0)
        if sent:
            self.packets_sent += 1
            self.octets_sent += len(packet.payload)
            self._last_sent_at = now

    def _timestamp_gap(self, now: float) -> int:
        if self._last_sent_at is None or self.source is None:
            return 1
        return int((now - self._last_sent_at) * self.source.codec.clock_rate)

    # --- feedback from the subscriber ------------------------------------------------

    def on_rtcp(self, event: RtcpEvent) -> None:
        if isinstance(event, Nack) and event.media_ssrc == self.ssrc:
            self._retransmit(event.lost[:MAX_NACKED_PER_PACKET])
        elif isinstance(event, KeyframeRequest) and event.media_ssrc == self.ssrc:
            for layer in (self._layer, self._pending):
                if layer is not None:
                    layer.request_keyframe()
        elif isinstance(event, Remb) and self.ssrc in event.ssrcs:
            self.remb = event.bitrate

    def _retransmit(self, lost: tuple[int, ...]) -> None:
        source, profile, out_pt = self._layer, self._profile, self._out_pt
        if source is None or profile is None or out_pt is None or not self._ready:
            return
        if self.paused:
            return  # paused for lack of bandwidth (or off screen): repairs would cost the same
        now = time.monotonic()
        if len(self._resent) > 1024:
            self._resent.clear()
        for out_seq in lost:
            out_seq &= 0xFFFF
            if now - self._resent.get(out_seq, -1.0) < RESEND_GUARD_S:
                continue
            seq = self._rewriter.source_seq(out_seq)
            packet = None if seq is None else source.packet(seq)
            if packet is None:
                continue
            self._resent[out_seq] = now
            out_ts = self._rewriter.output_ts(packet.timestamp)
            data = self._resend_bytes(packet, out_seq, out_ts)
            if not self._resend_budget.allow(len(data), self.octets_sent, now):
                return
            if self._send(data):
                self.retransmitted += 1
                self.retransmitted_octets += len(data)

    def _resend_bytes(self, packet: Any, out_seq: int, out_ts: int) -> bytes:
        assert self._profile is not None and self._out_pt is not None
        if self._out_rtx_pt is None:
            data = self._profile.serialize(packet)
            buf = bytearray(data)
            patch_header(buf, self._out_pt, out_seq, out_ts, self.ssrc)
            base = rtp_header_length(data)
        else:
            rtx = bridge.wrap_rtx(packet, self._out_rtx_pt, self._rtx_seq, self.rtx_ssrc)
            rtx.payload = struct.pack("!H", out_seq) + packet.payload
            rtx.timestamp = out_ts
            self._rtx_seq = (self._rtx_seq + 1) & 0xFFFF
            data = self._profile.serialize(rtx)
            buf = bytearray(data)
            base = rtp_header_length(data) + 2  # after the original sequence number
        if self._vp8 is not None:
            self._vp8.rewrite(buf, base, parse_fields(packet.payload), remember=False)
        return bytes(buf)

    # --- reports ---------------------------------------------------------------------

    def sender_report(self, now: float) -> bytes | None:
        """Our SR: the publisher's NTP/RTP pairing moved through our timestamp offset."""
        layer = self._layer
        if (layer is None or layer.sender_report is None or not self._ready
                or not self.packets_sent or not self._rewriter.anchored):
            return None
        report, received = layer.sender_report
        ntp, rtp_ts = derive_sender_report(report.ntp, report.rtp, received, now,
                                           layer.codec.clock_rate, self._rewriter.ts_offset)
        return bridge.sender_report(self.ssrc, ntp, rtp_ts, self.packets_sent,
                                    self.octets_sent, self._cname)


def _vp8_values(packet: RtpPacketLike, cache: dict[Any, Any]) -> tuple[Vp8Fields, int, int]:
    """The packet's VP8 descriptor offsets, its own picture id (0 when absent) and
    TL0PICIDX (-1 when absent), parsed once per packet for every subscriber."""
    values = cache.get("vp8")
    if values is None:
        payload = packet.payload
        fields = parse_fields(payload)
        pid = fields.picture_id(payload)
        tl0 = payload[fields.tl0_at] if fields.tl0_at >= 0 else -1
        values = cache["vp8"] = (fields, 0 if pid is None else pid, tl0)
    return values
