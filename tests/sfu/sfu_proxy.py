"""A UDP relay between a client and the SFU that can lose chosen packets.

Real loss on the wire, no hooks: the SFU's answer is rewritten to name the relay's
address (like a NAT would), ICE runs through it, and SRTP headers are in the clear,
so the relay can pick a packet by payload type and sequence number.
"""

from __future__ import annotations

import asyncio
import re
import struct
from collections.abc import Callable


class _Side(asyncio.DatagramProtocol):
    def __init__(self, on_data: Callable[[bytes, tuple], None]) -> None:
        self.on_data = on_data
        self.transport: asyncio.DatagramTransport | None = None

    def connection_made(self, transport) -> None:  # type: ignore[override]
        self.transport = transport

    def datagram_received(self, data: bytes, addr: tuple) -> None:
        self.on_data(data, addr)


class LossyRelay:
    """Front faces the client, back faces the SFU. `drop` judges client-to-SFU packets,
    `drop_to_client` SFU-to-client ones."""

    def __init__(self) -> None:
        self.drop: Callable[[bytes], bool] = lambda data: False
        self.drop_to_client: Callable[[bytes], bool] = lambda data: False
        self.dropped: list[bytes] = []
        self._client: tuple | None = None
        self._server: tuple | None = None
        self._front: _Side | None = None
        self._back: _Side | None = None

    async def start(self) -> None:
        loop = asyncio.get_running_loop()
        _, self._front = await loop.create_datagram_endpoint(
            lambda: _Side(self._from_client), local_addr=("127.0.0.1", 0))
        _, self._back = await loop.create_datagram_endpoint(
            lambda: _Side(self._from_server), local_addr=("127.0.0.1", 0))

    def route_answer(self, answer: str) -> str:
        """Point the client at the relay instead of the SFU's host candidate."""
        self._server, sdp = _reroute(answer, self._front)
        return sdp

    def route_client(self, sdp: str) -> str:
        """Point the SFU at the relay instead of the client's host candidate (both ways
        through the relay, so no direct path can be found)."""
        self._client, sdp = _reroute(sdp, self._back)
        return sdp

    def _from_client(self, data: bytes, addr: tuple) -> None:
        self._client = addr
        if self.drop(data):
            self.dropped.append(data)
            return
        if self._server is not None:
            self._back.transport.sendto(data, self._server)  # type: ignore[union-attr]

    def _from_server(self, data: bytes, addr: tuple) -> None:
        if self.drop_to_client(data):
            self.dropped.append(data)
            return
        if self._client is not None:
            self._front.transport.sendto(data, self._client)  # type: ignore[union-attr]

    def close(self) -> None:
        for side in (self._front, self._back):
            if side is not None and side.transport is not None:
                side.transport.close()


def _reroute(sdp: str, side: _Side | None) -> tuple[tuple[str, int], str]:
    match = re.search(r"a=candidate:\S+ 1 udp \d+ (127\.0\.0\.1) (\d+) typ host", sdp)
    assert match and side is not None, "no loopback host candidate in the SDP"
    real = (match.group(1), int(match.group(2)))
    port = side.transport.get_extra_info("sockname")[1]  # type: ignore[union-attr]
    return real, sdp.replace(f" {real[0]} {real[1]} typ host", f" 127.0.0.1 {port} typ host")


def rtp_header(data: bytes) -> tuple[int, int] | None:
    """(payload type, sequence number) of an SRTP packet, None for anything else."""
    if len(data) < 12 or not 128 <= data[0] < 192 or 192 <= data[1] <= 223:
        return None
    return data[1] & 0x7F, struct.unpack_from("!H", data, 2)[0]
