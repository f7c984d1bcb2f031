"""The recorder's subscribe-only peer connection: the one recorder module that uses aiortc,
and only through the public functions of sfu/aiortc_bridge (which holds the private hooks
and the pinned aiortc version).

Each receiver is tapped before aiortc's jitter buffer and decoder (the decoder thread and
receiver-report loop are stopped): RTP packets reach `on_packet(mid, packet, arrival_ms)`
as they arrive, still encoded, with their wall-clock arrival time in ms. The connection
asks for keyframes (PLI) and tells the SFU by REMB that it wants every layer at full rate: a recorder is not a viewer on a weak link.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterable
from typing import Any

from sfu.aiortc_bridge import (close, local_answer, new_peer_connection, pli, remb, send,
                               set_remote, tap_receiver_of, transport)

PacketHandler = Callable[[str, Any, float], None]
REMB_BPS = 20_000_000
REMB_INTERVAL_S = 1.0
OUR_SSRC = 0x5EC0DE  # RTCP sender SSRC of the recorder's feedback


class SubscribeConnection:
    def __init__(self, on_packet: PacketHandler, addresses: Iterable[str] = ()) -> None:
        self.pc = new_peer_connection()
        self.addresses = list(addresses)
        self._on_packet = on_packet
        self._tapped: set[str] = set()
        self._media_ssrc: dict[str, int] = {}
        self._dtls: Any = None
        self._tasks: list[asyncio.Task[None]] = []

    async def answer(self, offer_sdp: str) -> str:
        """Apply the server's offer and return our answer (recvonly for every m-section)."""
        await set_remote(self.pc, offer_sdp, "offer")
        for transceiver in self.pc.getTransceivers():
            mid = transceiver.mid
            if mid is None or mid in self._tapped:
                continue
            self._tapped.add(mid)
            transceiver.direction = "recvonly"
            tap_receiver_of(transceiver, self._async_handler(mid),
                            on_rtp_now=self._sync_handler(mid))
            if self._dtls is None:
                self._dtls = transport(transceiver)
        sdp = await local_answer(self.pc, self.addresses)
        if not self._tasks:
            self._tasks.append(asyncio.create_task(self._remb_loop()))
        return sdp

    def _sync_handler(self, mid: str) -> Callable[[Any], None]:
        def handle(packet: Any) -> None:
            self._media_ssrc[mid] = packet.ssrc
            self._on_packet(mid, packet, time.time() * 1000.0)
        return handle

    def _async_handler(self, mid: str) -> Callable[[Any, int], Any]:
        sync = self._sync_handler(mid)

        async def handle(packet: Any, arrival_time_ms: int) -> bool:
            sync(packet)
            return False
        return handle

    def request_keyframe(self, mid: str) -> None:
        ssrc = self._media_ssrc.get(mid)
        if ssrc is not None and self._dtls is not None:
            self._tasks.append(asyncio.create_task(self._send(pli(OUR_SSRC, ssrc))))
            self._tasks = [t for t in self._tasks if not t.done()]

    async def _send(self, data: bytes) -> None:
        try:
            await send(self._dtls, data)
        except Exception:  # noqa: BLE001 - feedback is best effort
            pass

    async def _remb_loop(self) -> None:
        while True:
            await asyncio.sleep(REMB_INTERVAL_S)
            if self._dtls is not None and self._media_ssrc:
                await self._send(remb(OUR_SSRC, REMB_BPS, sorted(set(self._media_ssrc.values()))))

    async def close(self) -> None:
        for task in self._tasks:
            task.cancel()
        await close(self.pc)
