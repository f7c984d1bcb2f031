"""aiortc plumbing of the load generator and the relay server; the only bench module touching aiortc internals
(pinned 1.16.0, the same hooks sfu/aiortc_bridge/ documents)."""

from __future__ import annotations

import asyncio
import fcntl
import struct
from collections.abc import Callable
from typing import Any

from aiortc import RTCConfiguration, RTCPeerConnection, RTCSessionDescription
from aiortc.rtcconfiguration import RTCBundlePolicy
from aiortc.rtcrtpreceiver import RTCRtpReceiver
from aiortc.rtcrtpsender import RTCRtpSender

LOOPBACK = "127.0.0.1"
SIOCGSTAMPNS = 0x8907  # linux/sockios.h: receive time of the socket's last datagram


def janus_address() -> str:
    """Janus (libnice) never gathers on a loopback interface (src/ice.c skips IFF_LOOPBACK)
    and pins its sockets to their interface (IP_UNICAST_IF), so its peers must use a local
    non-loopback address; traffic to it is still delivered inside this machine."""
    from aioice.ice import get_host_addresses
    addresses = get_host_addresses(use_ipv4=True, use_ipv6=False)
    if not addresses:
        raise RuntimeError("Janus needs a non-loopback IPv4 address on this machine")
    return addresses[0]


def new_pc() -> RTCPeerConnection:
    return RTCPeerConnection(RTCConfiguration(iceServers=[],
                                              bundlePolicy=RTCBundlePolicy.MAX_BUNDLE))


def restrict_addresses(pc: RTCPeerConnection, address: str = LOOPBACK) -> None:
    """Gather host candidates on `address` only (aioice would take every interface except
    loopback). Call before setLocalDescription."""
    for transceiver in pc.getTransceivers():
        connection = transceiver.receiver.transport.transport.iceGatherer._connection
        if getattr(connection, "_bench_address", None):
            continue
        original = connection.get_component_candidates

        async def only(component: int, addresses: list[str], timeout: int = 5,
                       _original: Any = original) -> Any:
            return await _original(component=component, addresses=[address], timeout=timeout)

        connection.get_component_candidates = only
        connection._bench_address = address


async def local_offer(pc: RTCPeerConnection, address: str = LOOPBACK) -> str:
    restrict_addresses(pc, address)
    await pc.setLocalDescription(await pc.createOffer())
    return pc.localDescription.sdp


async def answer_offer(pc: RTCPeerConnection, offer: str, address: str = LOOPBACK) -> str:
    await pc.setRemoteDescription(RTCSessionDescription(sdp=offer, type="offer"))
    restrict_addresses(pc, address)
    await pc.setLocalDescription(await pc.createAnswer())
    return pc.localDescription.sdp


async def apply_answer(pc: RTCPeerConnection, answer: str) -> None:
    await pc.setRemoteDescription(RTCSessionDescription(sdp=answer, type="answer"))


async def wait_connected(pc: RTCPeerConnection, timeout_s: float) -> None:
    deadline = asyncio.get_running_loop().time() + timeout_s
    while pc.connectionState != "connected":
        if pc.connectionState in ("failed", "closed"):
            raise ConnectionError(f"peer connection {pc.connectionState}")
        if asyncio.get_running_loop().time() > deadline:
            raise TimeoutError(f"peer connection still {pc.connectionState} after {timeout_s} s")
        await asyncio.sleep(0.05)


def tap_send(pc: RTCPeerConnection, on_rtp_payload: Callable[[str, bytes], None]) -> None:
    """Call `on_rtp_payload(kind, payload)` for each RTP packet the publisher sends, just
    before SRTP protection (the transport is shared by the bundled senders)."""
    transport = pc.getTransceivers()[0].sender.transport
    if getattr(transport, "_bench_tapped", False):
        return
    original = transport._send_rtp
    kinds = {t.sender._ssrc: t.kind for t in pc.getTransceivers()}

    async def send(data: bytes) -> None:
        if len(data) > 12 and not 192 <= data[1] <= 223:  # RTP, not RTCP
            offset = 12 + 4 * (data[0] & 0x0F)
            if data[0] & 0x10:
                offset += 4 + 4 * int.from_bytes(data[offset + 2:offset + 4], "big")
            on_rtp_payload(kinds.get(int.from_bytes(data[8:12], "big"), "?"), data[offset:])
        await original(data)

    transport._send_rtp = send
    transport._bench_tapped = True


def add_audio_level(sender: RTCRtpSender, level_dbov: int) -> None:
    """Pre-encoded Opus carries no audio level; give each packet one so the SFU's
    ssrc-audio-level path (active speaker) does its real work."""
    original = sender._next_encoded_frame

    async def with_level(codec: Any) -> Any:
        frame = await original(codec)
        if frame is not None:
            frame.audio_level = -level_dbov
        return frame

    sender._next_encoded_frame = with_level


def tap_receiver(receiver: RTCRtpReceiver, on_packet: Callable[[Any], None]) -> None:
    """Count packets before the jitter buffer and drop them: nothing is decoded."""
    if getattr(receiver, "_bench_tapped", False):
        return

    async def handle(packet: Any, arrival_time_ms: int) -> None:
        on_packet(packet)

    receiver._handle_rtp_packet = handle
    receiver._bench_tapped = True


class Stamped(bytes):
    """A received datagram carrying its kernel receive time (seconds, time.time() clock)."""

    stamp: float | None = None


def stamp_arrivals(pc: RTCPeerConnection) -> Callable[[], float | None]:
    """Record the kernel receive time of every datagram of `pc`'s (bundled) transport, so
    latency excludes the time the load generator's own event loop takes to get to a packet.
    Returns a function giving the time of the datagram being handled right now."""
    dtls = pc.getTransceivers()[0].receiver.transport
    ice = dtls.transport
    connection = ice._connection
    if getattr(ice, "_bench_stamped", None):
        return ice._bench_stamped
    original_received = connection.data_received
    original_recv = ice._recv
    current: list[float | None] = [None]

    def data_received(data: bytes, component: int) -> None:
        stamped = Stamped(data)
        protocols = connection._protocols
        if len(protocols) == 1 and protocols[0].transport is not None:
            fd = protocols[0].transport.get_extra_info("socket").fileno()
            try:
                sec, nsec = struct.unpack("qq", fcntl.ioctl(fd, SIOCGSTAMPNS, bytes(16)))
                stamped.stamp = sec + nsec / 1e9
            except OSError:  # no timestamp yet (the first datagram turns stamping on)
                pass
        original_received(stamped, component)

    async def recv() -> bytes:
        data = await original_recv()
        current[0] = getattr(data, "stamp", None)
        return data

    connection.data_received = data_received
    ice._recv = recv
    ice._bench_stamped = lambda: current[0]
    return ice._bench_stamped
