"""Signalling for bench/relay_server.py: WHIP/WHEP-like SDP over HTTP POST."""

from __future__ import annotations

from collections.abc import Callable

import aiohttp
from aiortc import RTCPeerConnection

from bench import rtc


class RelaySignaller:
    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self._http: aiohttp.ClientSession | None = None

    async def setup(self) -> None:
        self._http = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=60))

    async def _exchange(self, path: str, offer: str) -> str:
        assert self._http is not None
        async with self._http.post(f"{self.base_url}{path}", data=offer.encode(),
                                   headers={"Content-Type": "application/sdp"}) as response:
            answer = await response.text()
            if response.status != 201:
                raise RuntimeError(f"POST {path}: {response.status} {answer[:500]}")
        return answer

    async def publish(self, index: int, pc: RTCPeerConnection) -> None:
        answer = await self._exchange("/publish", await rtc.local_offer(pc))
        await rtc.apply_answer(pc, answer)

    async def subscribe(self, index: int, pc: RTCPeerConnection, tracks_wanted: int,
                        on_negotiated: Callable[[], None]) -> None:
        for _ in range(tracks_wanted // 2):
            pc.addTransceiver("audio", direction="recvonly")
            pc.addTransceiver("video", direction="recvonly")
        answer = await self._exchange("/subscribe", await rtc.local_offer(pc))
        await rtc.apply_answer(pc, answer)
        on_negotiated()

    async def close(self) -> None:
        if self._http is not None:
            await self._http.close()
