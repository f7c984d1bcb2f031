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
    def __init__(self) -> None:
        self.drop: Callable[[bytes], bool] = lambda data: False
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
        match = re.search(r"a=candidate:\S+ 1 udp \d+ (127\.0\.0\.1) (\d+) typ host", answer)
        assert match, "no loopback host candidate in the answer"
        self._server = (match.group(1), int(match.group(2)))
        port = self._front.transport.get_extra_info("sockname")[1]  # type: ignore[union-attr]
        return answer.replace(f" {self._server[0]} {self._server[1]} typ host",
                              f" 127.0.0.1 {port} typ host")

    def _from_client(self, data: bytes, addr: tuple) -> None:
        self._client = addr
        if self.drop(data):
            self.dropped.append(data)
            return
        if self._server is not None:
            self._back.transport.sendto(data, self._server)  # type: ignore[union-attr]

    def _from_server(self, data: bytes, addr: tuple) -> None:
        if self._client is not None:
            self._front.transport.sendto(data, self._client)  # type: ignore[union-attr]

    def close(self) -> None:
        for side in (self._front, self._back):
            if side is not None and side.transport is not None:
                side.transport.close()


def rtp_header(data: bytes) -> tuple[int, int] | None:
    """(payload type, sequence number) of an SRTP packet, None for anything else."""
    if len(data) < 12 or not 128 <= data[0] < 192 or 192 <= data[1] <= 223:
        return None
    return data[1] & 0x7F, struct.unpack_from("!H", data, 2)[0]
