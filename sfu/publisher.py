"""A participant's publish connection: the client offers, we answer and receive."""

from __future__ import annotations

import asyncio
import logging
import random
import secrets
import time
from collections.abc import Callable
from typing import Any

from sfu import aiortc_bridge as bridge
from sfu import sdp_guard, sdp_simulcast
from sfu.codecs import CodecSpec, primary_codec, rtx_payload_type
from sfu.errors import SdpError
from sfu.published_track import PublishedTrack
from sfu.sdp_candidates import add_public_candidates
from sfu.sdp_guard import MediaSummary, SdpSummary
from sfu.settings import SfuSettings
from sfu.tasks import TaskSet
from sfu.tracks import TrackInfo

logger = logging.getLogger(__name__)

DEFAULT_SOURCES = {"audio": "microphone", "video": "camera"}
RTCP_INTERVAL_S = 1.0
LAYER_TICK_S = 0.5  # simulcast: bitrates, arriving layers, layers to switch off


def new_track_id() -> str:
    return "t_" + secrets.token_hex(6)


class PublisherConnection:
    def __init__(self, participant_id: str, name: str, settings: SfuSettings,
                 on_gone: Callable[["PublisherConnection"], None],
                 on_active_layers: Callable[[PublishedTrack, list[str]], None] | None = None,
                 layers_by_remb: bool = False) -> None:
        self.participant_id = participant_id
        self.layers_by_remb = layers_by_remb
        self.on_active_layers = on_active_layers
        self.name = name
        self.lock = asyncio.Lock()
        self.tracks: dict[str, PublishedTrack] = {}  # mid -> track
        self.closed = False
        self.gone = False  # the peer vanished; close() follows
        self._settings = settings
        self._on_gone = on_gone
        self._pc = bridge.new_peer_connection()
        self._summary: SdpSummary | None = None
        self._codecs: dict[str, CodecSpec] = {}  # mid -> codec fixed at first use
        self._tapped: set[str] = set()
        self._tasks = TaskSet()
        self._rtcp_loop: asyncio.Task[None] | None = None
        self._layer_loop: asyncio.Task[None] | None = None
        bridge.on_connection_state(self._pc, self._on_state)

    @property
    def negotiated(self) -> bool:
        return self._summary is not None

    async def negotiate(self, offer: str, sources: dict[str, str],
                        muted_kinds: set[str]) -> tuple[str, list[PublishedTrack],
                                                         list[PublishedTrack]]:
        """Apply an offer; return our answer and the tracks added and removed."""
        settings = self._settings
        summary = sdp_guard.check_sdp(offer, what="offer", max_bytes=settings.max_sdp_bytes,
                                      max_m_sections=settings.max_m_sections)
        if self._summary is not None:
            sdp_guard.check_same_sections(self._summary, summary)
        plan = self._plan(summary, bridge.preflight(offer))
        await bridge.set_remote(self._pc, offer, "offer")
        try:
            for media in summary.media:
                self._prepare_transceiver(media, plan.get(media.mid))
            answer = await bridge.local_answer(self._pc, settings.ice_host_addresses)
            answer = sdp_simulcast.answer_with_rids(
                answer, {m.mid: m.rids for m in summary.media if m.rids and m.sends})
        except Exception as exc:  # noqa: BLE001 - aiortc failing on input it accepted
            logger.exception("answering a publish offer failed")
            raise SdpError(f"could not answer the offer: {type(exc).__name__}: {exc}") from None
        self._summary = summary
        added, removed = self._update_tracks(summary, plan, sources, muted_kinds)
        if self._rtcp_loop is None:
            self._rtcp_loop = self._tasks.spawn(self._send_reports())
        if self._layer_loop is None:
            self._layer_loop = self._tasks.spawn(self._watch_layers())
        return add_public_candidates(answer, settings.ice_public_addresses), added, removed

    def _plan(self, summary: SdpSummary, common: dict[str, list[CodecSpec]]) -> dict[str, CodecSpec]:
        """The codec each sending m-section will carry, checked before anything changes."""
        plan: dict[str, CodecSpec] = {}
        for media in summary.media:
            if not media.sends:
                continue
            codecs = common.get(media.mid, [])
            fixed = self._codecs.get(media.mid)
            if fixed is not None:
                chosen = next((c for c in codecs if c.payload_type == fixed.payload_type
                               and c.mime_type.lower() == fixed.mime_type.lower()), None)
                if chosen is None:
                    raise SdpError(f"m-section {media.index} ({media.kind}): the codec cannot "
                                   f"change from {fixed.label} during a call")
            else:
                chosen = primary_codec(codecs)
                if chosen is None:
                    names = ", ".join(c.name for c in codecs if not c.is_rtx)
                    raise SdpError(f"m-section {media.index} ({media.kind}): no codec we can "
                                   f"forward (opus, VP8, H264 packetization-mode=1); "
                                   f"offered: {names}")
            plan[media.mid] = chosen
        return plan

    def _prepare_transceiver(self, media: MediaSummary, codec: CodecSpec | None) -> None:
        transceiver = bridge.transceiver_for_mid(self._pc, media.mid)
        if transceiver is None:
            return
        codecs = bridge.negotiated_codecs(transceiver)
        if codec is not None:
            rtx = rtx_payload_type(codecs, codec.payload_type)
            bridge.keep_codecs(transceiver, {codec.payload_type} | ({rtx} if rtx else set()))
            self._codecs.setdefault(media.mid, codec)
        if media.rids:
            bridge.accept_header_extensions(self._pc, transceiver, sdp_simulcast.RID_URIS)
        ssrcs = list(media.ssrcs) + list(media.rtx.values())
        bridge.route_ssrcs(transceiver, ssrcs)
        if media.mid not in self._tapped:
            self._tapped.add(media.mid)
            bridge.tap_receiver_of(transceiver, self._rtp_handler(media.mid),
                                   self._rtcp_handler(media.mid),
                                   on_rtp_now=self._rtp_now(media.mid))

    def _update_tracks(self, summary: SdpSummary, plan: dict[str, CodecSpec],
                       sources: dict[str, str], muted_kinds: set[str]
                       ) -> tuple[list[PublishedTrack], list[PublishedTrack]]:
        added: list[PublishedTrack] = []
        removed: list[PublishedTrack] = []
        for media in summary.media:
            current = self.tracks.get(media.mid)
            source = sources.get(media.mid) or DEFAULT_SOURCES[media.kind]
            if current is not None and (not media.sends or current.info.source != source):
                removed.append(self.tracks.pop(media.mid))
                current.close()
                current = None
            if media.sends and current is None:
                track = self._new_track(media, plan[media.mid], source)
                track.set_muted(media.kind in muted_kinds)
                self.tracks[media.mid] = track
                added.append(track)
        return added, removed

    def _new_track(self, media: MediaSummary, codec: CodecSpec, source: str) -> PublishedTrack:
        transceiver = bridge.transceiver_for_mid(self._pc, media.mid)
        assert transceiver is not None
        info = TrackInfo(track_id=new_track_id(), participant_id=self.participant_id,
                         name=self.name, kind=media.kind, source=source, codec=codec.label)
        rtx = rtx_payload_type(bridge.negotiated_codecs(transceiver), codec.payload_type)
        rtcp_ssrc = bridge.sender_ssrcs(transceiver)[0]
        media_ssrc = media.ssrcs[0] if media.ssrcs else None
        track = PublishedTrack(info, codec, rtx, self._settings, self._send_rtcp, rtcp_ssrc,
                               media_ssrc, rids=media.rids, sim_ssrcs=media.sim_ssrcs,
                               rtx_ssrcs=media.rtx, rid_sizes=media.rid_sizes)
        track.mid = media.mid
        track.on_active_layers = self.on_active_layers
        track.layers_by_remb = self.layers_by_remb
        return track

    def _rtp_handler(self, mid: str) -> Callable[[Any, int], Any]:
        async def handle(packet: Any, arrival_time_ms: int) -> None:
            track = self.tracks.get(mid)
            if track is None:
                return
            try:
                await track.on_rtp(packet)
            except Exception:  # noqa: BLE001 - never let a bad packet kill the transport
                logger.exception("handling RTP from %s failed", self.participant_id)
        return handle

    def _rtp_now(self, mid: str) -> Callable[[Any], None]:
        """The same, called synchronously from the transport's fast receive path."""
        def handle(packet: Any) -> None:
            track = self.tracks.get(mid)
            if track is None:
                return
            try:
                track.receive(packet)
            except Exception:  # noqa: BLE001 - never let a bad packet kill the transport
                logger.exception("handling RTP from %s failed", self.participant_id)
        return handle

    def _rtcp_handler(self, mid: str) -> Callable[[Any], None]:
        def handle(event: Any) -> None:
            track = self.tracks.get(mid)
            if track is not None:
                track.on_rtcp(event)
        return handle

    def _send_rtcp(self, data: bytes) -> None:
        transceivers = [bridge.transceiver_for_mid(self._pc, m) for m in self._tapped]
        transceiver = next((t for t in transceivers if t is not None), None)
        if transceiver is not None and not self.closed:
            self._tasks.spawn(bridge.send(bridge.transport(transceiver), data))

    async def _send_reports(self) -> None:
        """Receiver reports (and REMB) upstream, about once a second (RFC 3550 6.2)."""
        while not self.closed:
            await asyncio.sleep(RTCP_INTERVAL_S * random.uniform(0.8, 1.2))
            now = time.monotonic()
            tracks = list(self.tracks.values())
            blocks = [b for t in tracks for b in t.report_blocks(now)]
            if not blocks:
                continue
            rtcp_ssrc = tracks[0].rtcp_ssrc
            data = bridge.receiver_report(rtcp_ssrc, blocks)
            for track in tracks:
                estimate = track.bitrate_estimate()
                ssrcs = [layer.media_ssrc for layer in track.layers
                         if layer.media_ssrc is not None]
                if estimate and ssrcs:
                    data += bridge.remb(rtcp_ssrc, estimate, ssrcs)
            self._send_rtcp(data)

    async def _watch_layers(self) -> None:
        while not self.closed:
            await asyncio.sleep(LAYER_TICK_S)
            now = time.monotonic()
            for track in list(self.tracks.values()):
                try:
                    track.tick(now)
                except Exception:  # noqa: BLE001 - keep ticking the other tracks
                    logger.exception("layer tick of %s failed", track.info.track_id)

    def _on_state(self, state: str) -> None:
        if state in ("failed", "closed") and not self.closed and not self.gone:
            logger.info("publish connection of %s is %s", self.participant_id, state)
            self.gone = True
            self._on_gone(self)

    async def close(self) -> list[PublishedTrack]:
        """Close the connection; return the tracks that went away."""
        if self.closed:
            return []
        self.closed = True
        gone = list(self.tracks.values())
        for track in gone:
            track.close()
        self.tracks.clear()
        await self._tasks.cancel_all()
        await bridge.close(self._pc)
        return gone
