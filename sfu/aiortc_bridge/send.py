"""Sending: SRTP-protect and hand datagrams to the nominated ICE socket (natively or in
Python), and the header-extension layouts forwarded packets are serialised with."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping
from typing import Any

from aiortc import rtp
from aiortc.rtcdtlstransport import RTCDtlsTransport, State
from aioice.ice import StunProtocol

from sfu import native_send
from sfu.rtp_rewriter import patched_copy

# Header extensions a forwarded packet may carry; the mid is per subscriber m-section,
# so it is left out and receivers demultiplex by the SSRCs our offer announces.
FORWARDED_EXTENSIONS = {
    "urn:ietf:params:rtp-hdrext:ssrc-audio-level",
    "http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time",
}


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
