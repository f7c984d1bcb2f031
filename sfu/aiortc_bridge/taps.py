"""Taking RTP and RTCP from aiortc's receivers and senders before its jitter buffer and
encoder loops, the fast receive path, and routing of SSRCs aiortc does not know."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

from aiortc import clock, rtp
import pylibsrtp
from aiortc.rtcdtlstransport import RTCDtlsTransport, State
from aioice.ice import StunProtocol
from aiortc.rtcrtpreceiver import RTCRtpReceiver
from aiortc.rtcrtptransceiver import RTCRtpTransceiver

from sfu.aiortc_bridge.negotiation import transport
from sfu.rtcp_events import (Bye, KeyframeRequest, Nack, ReceiverReport, Remb,
                             RtcpEvent, SenderReport)

logger = logging.getLogger(__name__)

RtcpHandler = Callable[[RtcpEvent], None]


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
