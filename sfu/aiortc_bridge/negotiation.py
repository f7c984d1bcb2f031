"""Peer connections, offers and answers, transceivers and their codecs and header
extensions (aiortc's negotiation, with the few private fields it does not expose)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterable
from typing import Any

from aiortc import RTCConfiguration, RTCPeerConnection, RTCRtpSender, RTCSessionDescription
from aiortc import sdp
from aiortc.codecs import CODECS
from aiortc.rtcconfiguration import RTCBundlePolicy
from aiortc.rtcdtlstransport import RTCDtlsTransport
from aiortc.rtcpeerconnection import find_common_codecs
from aiortc.rtcrtpparameters import RTCRtpCodecParameters, RTCRtpHeaderExtensionParameters
from aiortc.rtcrtptransceiver import RTCRtpTransceiver

from sfu.codecs import CodecSpec, forwardable
from sfu.errors import SdpError

logger = logging.getLogger(__name__)

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


def cname(pc: RTCPeerConnection) -> str:
    """The CNAME aiortc puts on our a=ssrc lines; our SDES must repeat it."""
    return pc._RTCPeerConnection__cname
