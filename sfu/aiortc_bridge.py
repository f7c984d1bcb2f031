"""The only module that touches aiortc and aioice internals (aiortc pinned to 1.16.0).

What it relies on, all read from aiortc 1.16 source:
- RTCDtlsTransport routes parsed RTP to `receiver._handle_rtp_packet(packet,
  arrival_time_ms=...)` and RTCP to `_handle_rtcp_packet(packet)` of receivers (SR, BYE)
  and senders (RR/SR blocks, PLI/FIR/NACK, REMB). Instance attributes override them, so
  packets are taken before the jitter buffer and nothing is decoded.
- RTCRtpSender.send() starts `self._run_rtp(codec)` and `self._run_rtcp()`; we replace
  both per instance (they would encode and send bogus SRs) and set the name-mangled
  started/exited events so `stop()` does not hang.
- `RTCDtlsTransport._send_rtp(bytes)` SRTP-protects and sends RTP or RTCP; its
  `_rtp_router.ssrc_table` maps SSRCs to receivers.
- `RtpRouter.route_rtp(packet)` picks the receiver by SSRC, else by payload type when
  only one receiver has it; `mid_table` maps each mid to its receiver. Simulcast SSRCs are
  not in the SDP and share payload types, so we route them by the sdes:mid extension.
- The transport parses the rid/repaired-rid/mid extensions of every URI in
  `transceiver._headerExtensions`, which also makes aiortc's answer list them.
- aioice `Connection.get_component_candidates(component=, addresses=)` binds the host
  candidates; overriding it per connection restricts the addresses ICE uses.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping
from typing import Any

from aiortc import (RTCConfiguration, RTCPeerConnection, RTCRtpSender,
                    RTCSessionDescription)
from aiortc import clock, rtp, sdp
from aiortc.codecs import CODECS
from aiortc.rtcconfiguration import RTCBundlePolicy
import pylibsrtp
from aiortc.rtcdtlstransport import RTCDtlsTransport, State
from aioice.ice import StunProtocol
from aiortc.rtcpeerconnection import find_common_codecs
from aiortc.rtcrtpparameters import (RTCRtpCodecParameters,
                                     RTCRtpHeaderExtensionParameters)
from aiortc.rtcrtpreceiver import RTCRtpReceiver
from aiortc.rtcrtptransceiver import RTCRtpTransceiver

from sfu import native_send
from sfu.codecs import CodecSpec, forwardable
from sfu.errors import SdpError
from sfu.rtcp_events import (Bye, KeyframeRequest, Nack, ReceiverReport, Remb,
                             RtcpEvent, SenderReport)
from sfu.rtcp_stats import ReportBlock
from sfu.rtp_rewriter import patched_copy

logger = logging.getLogger(__name__)

RtcpHandler = Callable[[RtcpEvent], None]

# Header extensions a forwarded packet may carry; the mid is per subscriber m-section,
# so it is left out and receivers demultiplex by the SSRCs our offer announces.
FORWARDED_EXTENSIONS = {
    "urn:ietf:params:rtp-hdrext:ssrc-audio-level",
    "http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time",
}


# --- peer connections and negotiation -------------------------------------------------

def new_peer_connection() -> RTCPeerConnection:
    """No STUN servers (aiortc's default would query Google) and one transport."""
    return RTCPeerConnection(RTCConfiguration(
        iceServers=[], bundlePolicy=RTCBundlePolicy.MAX_BUNDLE))


def on_connection_state(pc: RTCPeerConnection, callback: Callable[[str], None]) -> None:
    pc.on("connectionstatechange", lambda: callback(pc.connectionState))


def restrict_ice_addresses(pc: RTCPeerConnection, addresses: Iterable[str]) -> None:
    """Gather host candidates only on `addresses` (empty: aioice's default, every
    non-loopback interface). Call before the local description is set."""
    chosen = list(addresses)
    if not chosen:
        return
    for transceiver in pc.getTransceivers():
        connection = transceiver.receiver.transport.transport.iceGatherer._connection
        if getattr(connection, "_cp_addresses", None) is not None:
            continue
        original = connection.get_component_candidates

        async def restricted(component: int, addresses: list[str], timeout: int = 5,
                             _original: Any = original) -> Any:
            return await _original(component=component, addresses=chosen, timeout=timeout)

        connection.get_component_candidates = restricted
        connection._cp_addresses = chosen


def preflight(sdp_text: str) -> dict[str, list[CodecSpec]]:
    """Parse with aiortc's own parser and compute, per mid, the codecs aiortc would
    negotiate; aiortc raises OperationError half-way through setRemoteDescription when
    an m-section has none, so that case is refused here, before any state changes."""
    try:
        description = sdp.SessionDescription.parse(sdp_text)
    except Exception as exc:  # noqa: BLE001 - any parser failure is a bad SDP
        raise SdpError(f"SDP parser failed: {type(exc).__name__}: {exc}") from None
    result: dict[str, list[CodecSpec]] = {}
    for index, media in enumerate(description.media):
        common = find_common_codecs(CODECS[media.kind], media.rtp.codecs)
        if not common:
            offered = ", ".join(sorted({c.name for c in media.rtp.codecs})) or "none"
            raise SdpError(f"m-section {index} ({media.kind}): no codec in common "
                           f"(offered: {offered})")
        result[media.rtp.muxId] = [_codec_spec(c) for c in common]
    return result


async def set_remote(pc: RTCPeerConnection, sdp_text: str, kind: str) -> None:
    try:
        await pc.setRemoteDescription(RTCSessionDescription(sdp=sdp_text, type=kind))
    except Exception as exc:  # noqa: BLE001 - aiortc raises many types on bad input
        raise SdpError(f"{kind} rejected: {type(exc).__name__}: {exc}") from None


async def local_answer(pc: RTCPeerConnection, addresses: Iterable[str] = ()) -> str:
    restrict_ice_addresses(pc, addresses)
    await pc.setLocalDescription(await pc.createAnswer())
    return pc.localDescription.sdp


async def local_offer(pc: RTCPeerConnection, addresses: Iterable[str] = ()) -> str:
    restrict_ice_addresses(pc, addresses)
    await pc.setLocalDescription(await pc.createOffer())
    return pc.localDescription.sdp


async def close(pc: RTCPeerConnection) -> None:
    # Shielded: a caller cancelled while a second close() waits would cancel aiortc's
    # internal "closed" future, and the first close() then fails on set_result.
    try:
        await asyncio.shield(pc.close())
    except Exception:  # noqa: BLE001 - closing must never fail the caller
        logger.exception("closing a peer connection failed")


# --- transceivers ---------------------------------------------------------------------

def transceiver_for_mid(pc: RTCPeerConnection, mid: str) -> RTCRtpTransceiver | None:
    return next((t for t in pc.getTransceivers() if t.mid == mid), None)


def add_send_transceiver(pc: RTCPeerConnection, kind: str) -> RTCRtpTransceiver:
    transceiver = pc.addTransceiver(kind, direction="sendonly")
    offer_forwardable_codecs(transceiver)
    return transceiver


def offer_forwardable_codecs(transceiver: RTCRtpTransceiver) -> None:
    """Subscriber offers list only what we forward, in aiortc's fixed payload types, so
    every subscriber shares one header profile."""
    capabilities = RTCRtpSender.getCapabilities(transceiver.kind).codecs
    keep = [c for c in capabilities if c.mimeType.lower() == f"{transceiver.kind}/rtx"
            or forwardable(CodecSpec(0, c.mimeType, c.clockRate, c.channels, c.parameters))]
    transceiver.setCodecPreferences(keep)


def negotiated_codecs(transceiver: RTCRtpTransceiver) -> list[CodecSpec]:
    return [_codec_spec(c) for c in transceiver._codecs]


def keep_codecs(transceiver: RTCRtpTransceiver, payload_types: set[int]) -> None:
    """Answer only these codecs, so the publisher sends exactly the one we forward."""
    transceiver._codecs = [c for c in transceiver._codecs if c.payloadType in payload_types]


def negotiated_extensions(transceiver: RTCRtpTransceiver) -> dict[str, int]:
    return {ext.uri: ext.id for ext in transceiver._headerExtensions}


def accept_header_extensions(pc: RTCPeerConnection, transceiver: RTCRtpTransceiver,
                             uris: Iterable[str]) -> None:
    """Negotiate these extensions too (aiortc answers only the ones it implements
    itself), with the ids the offer gave them; call between the offer and our answer."""
    description = pc.remoteDescription
    if description is None:
        return
    media = next((m for m in sdp.SessionDescription.parse(description.sdp).media
                  if m.rtp.muxId == transceiver.mid), None)
    if media is None:
        return
    have = {ext.uri for ext in transceiver._headerExtensions}
    for ext in media.rtp.headerExtensions:
        if ext.uri in uris and ext.uri not in have:
            transceiver._headerExtensions.append(
                RTCRtpHeaderExtensionParameters(id=ext.id, uri=ext.uri))


def set_direction(transceiver: RTCRtpTransceiver, value: str) -> None:
    transceiver.direction = value


def current_direction(transceiver: RTCRtpTransceiver) -> str | None:
    return transceiver.currentDirection


def label_sender(transceiver: RTCRtpTransceiver, stream_id: str, track_id: str) -> None:
    """The a=msid of our offer: a stream per publisher, so browsers lip-sync its audio
    and video, and our track id."""
    transceiver.sender._stream_id = stream_id
    transceiver.sender._track_id = track_id


def sender_label(transceiver: RTCRtpTransceiver) -> tuple[str, str]:
    """The (stream id, track id) our offer's a=msid will carry."""
    return transceiver.sender._stream_id, transceiver.sender._track_id


def sender_ssrcs(transceiver: RTCRtpTransceiver) -> tuple[int, int]:
    return transceiver.sender._ssrc, transceiver.sender._rtx_ssrc


def transport(transceiver: RTCRtpTransceiver) -> RTCDtlsTransport:
    return transceiver.sender.transport


def is_connected(dtls: RTCDtlsTransport) -> bool:
    return dtls.state == "connected"


def _codec_spec(codec: RTCRtpCodecParameters) -> CodecSpec:
    return CodecSpec(
        payload_type=codec.payloadType, mime_type=codec.mimeType,
        clock_rate=codec.clockRate, channels=codec.channels,
        parameters=dict(codec.parameters),
        feedback=tuple((f.type, f.parameter) for f in codec.rtcpFeedback))


# --- taps -----------------------------------------------------------------------------

def tap_receiver(receiver: RTCRtpReceiver, on_rtp: Callable[[Any, int], Awaitable[None]],
                 on_rtcp: RtcpHandler | None = None, *, passthrough: bool = False,
                 on_rtp_now: Callable[[Any], None] | None = None) -> None:
    """Take the receiver's RTP (and RTCP) before aiortc's jitter buffer.

    With passthrough (test clients only) aiortc still depacketizes and decodes after
    `on_rtp` returns True; without it the decoder thread and RR loop are stopped.
    `on_rtp_now` (synchronous, must not fail) turns on the fast receive path of the
    receiver's transport (see `_fast_receive`); RTP then reaches it instead of `on_rtp`.
    """
    original_rtp = receiver._handle_rtp_packet
    original_rtcp = receiver._handle_rtcp_packet
    original_receive = receiver.receive

    async def handle_rtp(packet: Any, arrival_time_ms: int) -> None:
        keep = await on_rtp(packet, arrival_time_ms)
        if passthrough and keep:
            await original_rtp(packet, arrival_time_ms=arrival_time_ms)

    async def handle_rtcp(packet: Any) -> None:
        if on_rtcp is not None:
            _deliver(packet, on_rtcp)
        if passthrough:
            await original_rtcp(packet)

    async def receive(parameters: Any) -> None:
        await original_receive(parameters)
        if not passthrough:
            receiver._handle_disconnect()  # stop the decoder thread: we never decode
        for ssrc in getattr(receiver, "_cp_ssrcs", ()):
            receiver.transport._rtp_router.ssrc_table[ssrc] = receiver
        _route_by_mid(receiver.transport)
        if on_rtp_now is not None and not passthrough:
            _fast_receive(receiver.transport)

    receiver._cp_rtp_now = None if passthrough else on_rtp_now
    if not passthrough:
        receiver._run_rtcp = _idle_loop(receiver, "_RTCRtpReceiver__rtcp")
    receiver._handle_rtp_packet = handle_rtp
    receiver._handle_rtcp_packet = handle_rtcp
    receiver.receive = receive


def tap_receiver_of(transceiver: RTCRtpTransceiver, on_rtp: Callable[[Any, int], Awaitable[Any]],
                    on_rtcp: RtcpHandler | None = None, *, passthrough: bool = False,
                    on_rtp_now: Callable[[Any], None] | None = None) -> None:
    tap_receiver(transceiver.receiver, on_rtp, on_rtcp, passthrough=passthrough,
                 on_rtp_now=on_rtp_now)


def _fast_receive(dtls: RTCDtlsTransport) -> None:
    """SRTP packets straight from the UDP socket's callback to the receiver, once DTLS is
    up: no STUN parse attempt, no aioice queue, no DTLS task woken per datagram, no
    `datetime.now()` (aiortc's arrival time, unused by the SFU). Everything else (STUN,
    DTLS, SRTCP) keeps aiortc's path. Per protocol instance, so only this connection's
    sockets change; protocols created later (ICE restart) simply keep the normal path."""
    if getattr(dtls, "_cp_fast", False):
        return
    dtls._cp_fast = True
    router = dtls._rtp_router

    def ingest(data: bytes) -> None:
        try:
            plain = dtls._rx_srtp.unprotect(data)
            packet = rtp.RtpPacket.parse(plain, dtls._rtp_header_extensions_map)
        except (pylibsrtp.Error, ValueError):
            return  # as aiortc: a packet that fails authentication or parsing is dropped
        receiver = router.route_rtp(packet)
        if receiver is None:
            return
        handler = getattr(receiver, "_cp_rtp_now", None)
        if handler is not None:
            handler(packet)
        else:
            asyncio.ensure_future(receiver._handle_rtp_packet(
                packet, arrival_time_ms=clock.current_ms()))

    connection = dtls.transport._connection
    queued = connection._queue  # aioice's: datagrams still waiting for the DTLS task
    for protocol in connection._protocols:
        if type(protocol) is not StunProtocol:
            continue
        original = protocol.datagram_received

        def datagram_received(data: bytes, addr: Any, _original: Any = original) -> None:
            # 128-191: RTP or RTCP (RFC 7983); RTCP told apart as aiortc's is_rtcp does.
            # While the DTLS task still has datagrams queued, this one queues behind them
            # (else a packet could overtake older ones, e.g. just after this is set up).
            if (len(data) > 12 and 127 < data[0] < 192 and not 191 < data[1] < 209
                    and dtls._rx_srtp is not None and dtls._state is State.CONNECTED
                    and queued.empty()):
                ingest(data)
            else:
                _original(data, addr)

        protocol.datagram_received = datagram_received


def route_ssrcs(transceiver: RTCRtpTransceiver, ssrcs: Iterable[int]) -> None:
    """Route these SSRCs (media and RTX) to this transceiver's receiver. aiortc only
    learns the media SSRC, and routes unknown SSRCs by payload type, which fails for
    RTX when two video m-sections share the RTX payload type."""
    receiver = transceiver.receiver
    receiver._cp_ssrcs = tuple(ssrcs)
    table = receiver.transport._rtp_router.ssrc_table
    for ssrc in receiver._cp_ssrcs:
        table[ssrc] = receiver


def _route_by_mid(dtls: RTCDtlsTransport) -> None:
    """An SSRC not in the SDP (simulcast) goes to the receiver of the packet's mid; the
    SSRC is remembered, as browsers stop sending the mid once we report on it."""
    router = dtls._rtp_router
    if getattr(router, "_cp_by_mid", False):
        return
    original = router.route_rtp
    ssrc_table, mid_table = router.ssrc_table, router.mid_table

    def route_rtp(packet: Any) -> Any:
        if packet.ssrc not in ssrc_table:
            mid = packet.extensions.mid
            receiver = mid_table.get(mid) if mid is not None else None
            if receiver is not None:
                ssrc_table[packet.ssrc] = receiver
                return receiver
        return original(packet)

    router.route_rtp = route_rtp
    router._cp_by_mid = True


def prepare_sender(transceiver: RTCRtpTransceiver, on_rtcp: RtcpHandler,
                   on_started: Callable[[], None]) -> None:
    """Make the sender ours: no encoder loop, no aiortc SRs; RTCP feedback to on_rtcp."""
    sender = transceiver.sender

    async def run_rtp(codec: Any) -> None:
        sender._RTCRtpSender__rtp_started.set()
        sender._RTCRtpSender__rtp_exited.set()
        on_started()

    async def handle_rtcp(packet: Any) -> None:
        _deliver(packet, on_rtcp)

    sender._run_rtp = run_rtp
    sender._run_rtcp = _idle_loop(sender, "_RTCRtpSender__rtcp")
    sender._handle_rtcp_packet = handle_rtcp


def route_sender_ssrcs(transceiver: RTCRtpTransceiver, ssrcs: Iterable[int]) -> None:
    """RTCP feedback about these SSRCs reaches this sender (a test client that sends
    streams aiortc does not know, e.g. simulcast layers)."""
    router = transport(transceiver)._rtp_router
    for ssrc in ssrcs:
        router.register_sender(transceiver.sender, ssrc)


def tap_sender_rtcp(transceiver: RTCRtpTransceiver, on_rtcp: RtcpHandler) -> None:
    """Observe RTCP feedback reaching a sender that aiortc still runs (test clients)."""
    sender = transceiver.sender
    original = sender._handle_rtcp_packet

    async def handle_rtcp(packet: Any) -> None:
        _deliver(packet, on_rtcp)
        await original(packet)

    sender._handle_rtcp_packet = handle_rtcp


def _idle_loop(owner: Any, prefix: str) -> Callable[[], Awaitable[None]]:
    async def run() -> None:
        getattr(owner, f"{prefix}_started").set()
        getattr(owner, f"{prefix}_exited").set()
    return run


def _deliver(packet: Any, on_rtcp: RtcpHandler) -> None:
    """An exception here would end the peer's DTLS loop: log it instead."""
    try:
        for event in _events(packet):
            on_rtcp(event)
    except Exception:  # noqa: BLE001
        logger.exception("handling RTCP failed")


def rtcp_events(data: bytes) -> list[RtcpEvent]:
    """Parse a (compound) RTCP datagram into events; aiortc's parser raises ValueError on
    a malformed one."""
    events: list[RtcpEvent] = []
    for packet in rtp.RtcpPacket.parse(data):
        events.extend(_events(packet))
    return events


def _events(packet: Any) -> list[RtcpEvent]:
    if isinstance(packet, rtp.RtcpSrPacket):
        info = packet.sender_info
        events: list[RtcpEvent] = [SenderReport(packet.ssrc, info.ntp_timestamp,
                                                info.rtp_timestamp, info.packet_count,
                                                info.octet_count)]
        return events + [_report(r) for r in packet.reports]
    if isinstance(packet, rtp.RtcpRrPacket):
        return [_report(r) for r in packet.reports]
    if isinstance(packet, rtp.RtcpRtpfbPacket) and packet.fmt == rtp.RTCP_RTPFB_NACK:
        return [Nack(packet.media_ssrc, tuple(packet.lost))]
    if isinstance(packet, rtp.RtcpPsfbPacket):
        if packet.fmt in (rtp.RTCP_PSFB_PLI, rtp.RTCP_PSFB_FIR):
            return [KeyframeRequest(packet.media_ssrc, packet.fmt == rtp.RTCP_PSFB_FIR)]
        if packet.fmt == rtp.RTCP_PSFB_APP:
            try:
                bitrate, ssrcs = rtp.unpack_remb_fci(packet.fci)
            except ValueError:
                return []
            return [Remb(bitrate, tuple(ssrcs))]
    if isinstance(packet, rtp.RtcpByePacket):
        return [Bye(tuple(packet.sources))]
    return []


def _report(r: Any) -> ReceiverReport:
    return ReceiverReport(r.ssrc, r.fraction_lost, r.packets_lost, r.highest_sequence,
                          r.jitter, r.lsr, r.dlsr)


# --- sending --------------------------------------------------------------------------

async def send(dtls: RTCDtlsTransport, data: bytes) -> bool:
    """SRTP-protect and send RTP or RTCP; False when the transport is not connected."""
    try:
        await dtls._send_rtp(data)
    except ConnectionError:
        return False
    return True


class RtpWriter:
    """One subscriber's synchronous RTP send for the forwarding path: SRTP-protect and
    hand the datagram to the nominated UDP socket, without aiortc's five nested
    coroutines per packet. Anything but a plain UDP pair goes through aiortc's own path.

    `write` sends a shared serialised packet with this copy's header (and VP8 picture
    id) patched in; with `native` it is one C call (sfu/native_send.py), else Python.
    The nominated pair's socket, address and SRTP session are looked up again only when
    the pair (or the session) changes, not for every packet. Both return False when the
    transport is not connected (or the kernel had no room for the datagram)."""

    def __init__(self, dtls: RTCDtlsTransport, native: bool = True) -> None:
        self._dtls = dtls
        self._native_wanted = native
        self._pair: Any = None
        self._session: Any = None
        self._udp: Any = None  # the pair's datagram transport, when it is plain UDP
        self._addr: Any = None
        self._protect: Any = None
        self.native: Any = None  # sfu._fastsend.Route of the current pair, if any

    def _ready(self) -> bool:
        dtls = self._dtls
        if dtls._state is not State.CONNECTED:
            return False
        pair = dtls.transport._connection._nominated.get(1)
        if pair is None:
            return False
        if pair is not self._pair or dtls._tx_srtp is not self._session:
            self._reroute(pair)
        udp = self._udp
        return udp is None or not udp.is_closing()

    def _reroute(self, pair: Any) -> None:
        dtls = self._dtls
        self._pair, self._session = pair, dtls._tx_srtp
        protocol = pair.protocol
        plain = protocol.transport is not None and type(protocol) is StunProtocol
        self._udp = protocol.transport if plain else None
        self._addr = pair.remote_addr
        self._protect = self._session.protect
        self.native = None
        if plain and self._native_wanted:
            sock = protocol.transport.get_extra_info("socket")
            if sock is not None:
                self.native = native_send.route(sock.fileno(), self._addr[0],
                                                self._addr[1], self._session)

    def send(self, data: bytes) -> bool:
        """A packet in its final form (retransmissions)."""
        if not self._ready():
            return False
        native = self.native
        if native is not None:
            return native.send_raw(data)
        udp = self._udp
        if udp is not None:
            try:
                protected = self._protect(data)
            except ValueError:  # longer than pylibsrtp's buffer: dropped, as natively
                return False
            udp.sendto(protected, self._addr)
        else:
            asyncio.ensure_future(send(self._dtls, data))
        return True

    def write(self, data: bytes, header_len: int, payload_type: int, seq: int, ts: int,
              ssrc: int, pid_at: int, pid_bits: int, pid: int, tl0_at: int,
              tl0: int) -> bool:
        """`data` (shared by every copy) with this copy's payload type, sequence number,
        timestamp and SSRC, and VP8 picture id / TL0PICIDX at these payload offsets
        (-1: none)."""
        native, dtls = self.native, self._dtls
        # The per-copy common case, checked inline: same pair, same keys, socket open.
        if (native is not None and dtls._state is State.CONNECTED
                and dtls.transport._connection._nominated.get(1) is self._pair
                and dtls._tx_srtp is self._session and not self._udp.is_closing()):
            return native.send(data, header_len, payload_type, seq, ts, ssrc, pid_at,
                               pid_bits, pid, tl0_at, tl0)
        if not self._ready():
            return False
        if self.native is not None:
            return self.native.send(data, header_len, payload_type, seq, ts, ssrc, pid_at,
                                    pid_bits, pid, tl0_at, tl0)
        return self.send(patched_copy(data, header_len, payload_type, seq, ts, ssrc,
                                      pid_at, pid_bits, pid, tl0_at, tl0))


class HeaderProfile:
    """The header-extension layout of a group of subscribers (one serialisation each)."""

    def __init__(self, extensions: Mapping[str, int]) -> None:
        kept = {uri: ext_id for uri, ext_id in extensions.items()
                if uri in FORWARDED_EXTENSIONS}
        self.key = tuple(sorted(kept.items()))
        self._map = rtp.HeaderExtensionsMap()
        self._map.configure(_Extensions(kept))
        self._abs_send_time = any("abs-send-time" in uri for uri in kept)

    def serialize(self, packet: Any) -> bytes:
        if self._abs_send_time:
            # 6.18 fixed-point seconds of the NTP clock, mod 64 s. NTP's epoch is a
            # multiple of 64 s before Unix's, so Unix time gives the same value without
            # aiortc's datetime round trip.
            packet.extensions.abs_send_time = int(time.time() * 262144) & 0xFFFFFF
        return packet.serialize(self._map)


class _Extensions:
    def __init__(self, kept: Mapping[str, int]) -> None:
        self.headerExtensions = [_Ext(uri, ext_id) for uri, ext_id in kept.items()]


class _Ext:
    def __init__(self, uri: str, ext_id: int) -> None:
        self.uri, self.id = uri, ext_id


def unwrap_rtx(packet: Any, payload_type: int, ssrc: int) -> Any:
    return rtp.unwrap_rtx(packet, payload_type=payload_type, ssrc=ssrc)


def rtp_packet(payload_type: int, sequence_number: int, timestamp: int, ssrc: int,
               marker: bool, payload: bytes) -> Any:
    """A packet we originate (ingest feeds), shaped like the ones the transports parse."""
    return rtp.RtpPacket(payload_type=payload_type, marker=int(marker),
                         sequence_number=sequence_number & 0xFFFF,
                         timestamp=timestamp & 0xFFFFFFFF, ssrc=ssrc, payload=payload)


def parse_rtp(data: bytes) -> Any:
    """A serialized RTP packet (no header extensions kept)."""
    try:
        return rtp.RtpPacket.parse(data)
    except ValueError as exc:
        raise ValueError(f"not an RTP packet: {exc}") from None


def wrap_rtx(packet: Any, payload_type: int, sequence_number: int, ssrc: int) -> Any:
    return rtp.wrap_rtx(packet, payload_type=payload_type,
                        sequence_number=sequence_number, ssrc=ssrc)


def sender_report(ssrc: int, ntp: int, rtp_ts: int, packets: int, octets: int,
                  cname: str) -> bytes:
    sr = rtp.RtcpSrPacket(ssrc=ssrc, sender_info=rtp.RtcpSenderInfo(
        ntp_timestamp=ntp, rtp_timestamp=rtp_ts, packet_count=packets & 0xFFFFFFFF,
        octet_count=octets & 0xFFFFFFFF))
    sdes = rtp.RtcpSdesPacket(chunks=[rtp.RtcpSourceInfo(
        ssrc=ssrc, items=[(1, cname.encode("utf8"))])])
    return bytes(sr) + bytes(sdes)


def receiver_report(ssrc: int, blocks: list[tuple[int, ReportBlock]]) -> bytes:
    out = b""
    for start in range(0, len(blocks), 31):  # the report count field has 5 bits
        reports = [rtp.RtcpReceiverInfo(
            ssrc=media_ssrc, fraction_lost=b.fraction_lost, packets_lost=b.packets_lost,
            highest_sequence=b.highest_sequence, jitter=b.jitter, lsr=b.lsr, dlsr=b.dlsr)
            for media_ssrc, b in blocks[start:start + 31]]
        out += bytes(rtp.RtcpRrPacket(ssrc=ssrc, reports=reports))
    return out


def pli(ssrc: int, media_ssrc: int) -> bytes:
    return bytes(rtp.RtcpPsfbPacket(fmt=rtp.RTCP_PSFB_PLI, ssrc=ssrc, media_ssrc=media_ssrc))


def nack(ssrc: int, media_ssrc: int, lost: list[int]) -> bytes:
    packet = rtp.RtcpRtpfbPacket(fmt=rtp.RTCP_RTPFB_NACK, ssrc=ssrc, media_ssrc=media_ssrc)
    packet.lost = sorted(lost)
    return bytes(packet)


def remb(ssrc: int, bitrate: int, media_ssrcs: list[int]) -> bytes:
    return bytes(rtp.RtcpPsfbPacket(fmt=rtp.RTCP_PSFB_APP, ssrc=ssrc, media_ssrc=0,
                                    fci=rtp.pack_remb_fci(bitrate, media_ssrcs)))


def cname(pc: RTCPeerConnection) -> str:
    """The CNAME aiortc puts on our a=ssrc lines; our SDES must repeat it."""
    return pc._RTCPeerConnection__cname
