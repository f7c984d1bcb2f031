"""CommandPost signalling for the load: publishers use WHIP, subscribers the WebSocket
protocol (docs/protocol.md), so each subscriber has one peer connection carrying every
publisher, as in Janus's multistream subscription."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any

import aiohttp
from aiortc import RTCPeerConnection

from bench import rtc

TOKEN_TTL_S = 3600
KEEPALIVE_S = 5.0
# Tile sizes the subscribers report (track_view), in turn, so the server's view and layer
# selection path is exercised as a real wall or meeting would (one layer is published, so
# every size ends on layer 0, unless --simulcast publishes three).
TILES = ((320, 180), (640, 360), (1280, 720))
# With --simulcast each subscriber moves on to the next tile size this often, so the SFU
# keeps switching layers (subscribers start at different sizes: different layers at once).
TILE_ROTATION_S = 2.0


class CommandPostSignaller:
    def __init__(self, base_url: str, secret: str, rotate_tiles: bool = False) -> None:
        self.base_url = base_url
        self.secret = secret
        self.rotate_tiles = rotate_tiles
        self.room_id = ""
        self._http: aiohttp.ClientSession | None = None
        self._whip: list[tuple[str, str]] = []  # (location, token)
        self._sockets: list[aiohttp.ClientWebSocketResponse] = []
        self._tasks: list[asyncio.Task[Any]] = []

    def _token(self, identity: str, grants: list[str]) -> str:
        from signaling.tokens import mint_token  # the server's own minting code
        return mint_token(self.secret, self.room_id, identity, grants, TOKEN_TTL_S)

    async def setup(self) -> None:
        self._http = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30))
        async with self._http.post(f"{self.base_url}/api/rooms",
                                   json={"name": "bench"}) as response:
            body = await response.json()
            if response.status != 201:
                raise RuntimeError(f"POST /api/rooms: {response.status} {body}")
        self.room_id = body["room_id"]

    async def publish(self, index: int, pc: RTCPeerConnection,
                      rewrite_offer: Callable[[str], str] | None = None) -> None:
        """WHIP; `rewrite_offer` turns aiortc's offer into what is sent (simulcast)."""
        assert self._http is not None
        token = self._token(f"pub{index}", ["join", "publish"])
        offer = await rtc.local_offer(pc)
        if rewrite_offer is not None:
            offer = rewrite_offer(offer)
        async with self._http.post(
                f"{self.base_url}/whip/{self.room_id}", data=offer.encode(),
                headers={"Content-Type": "application/sdp",
                         "Authorization": f"Bearer {token}"}) as response:
            answer = await response.text()
            if response.status != 201:
                raise RuntimeError(f"WHIP publish {index}: {response.status} {answer[:500]}")
            self._whip.append((response.headers["Location"], token))
        await rtc.apply_answer(pc, answer)

    async def subscribe(self, index: int, pc: RTCPeerConnection, tracks_wanted: int,
                        on_negotiated: Callable[[], None]) -> None:
        """Join over WebSocket and answer offers until one carries `tracks_wanted` tracks;
        later offers keep being answered in the background."""
        assert self._http is not None
        ws = await self._http.ws_connect(self.base_url.replace("http", "ws", 1) + "/ws",
                                         max_msg_size=16 * 1024 * 1024)
        self._sockets.append(ws)
        token = self._token(f"sub{index}", ["join", "subscribe"])
        await ws.send_str(json.dumps({"type": "join", "token": token, "name": f"sub{index}"}))
        complete = asyncio.get_running_loop().create_future()
        self._tasks.append(asyncio.create_task(
            self._answer_offers(ws, pc, index, tracks_wanted, on_negotiated, complete)))
        self._tasks.append(asyncio.create_task(self._keepalive(ws)))
        await complete

    async def _report_tiles(self, ws: aiohttp.ClientWebSocketResponse, index: int,
                            tracks: dict[str, Any]) -> None:
        await self._send_tiles(ws, TILES[index % len(TILES)], tracks)
        if self.rotate_tiles:
            self._tasks.append(asyncio.create_task(self._rotate_tiles(ws, index, tracks)))

    async def _rotate_tiles(self, ws: aiohttp.ClientWebSocketResponse, index: int,
                            tracks: dict[str, Any]) -> None:
        step = 0
        while not ws.closed:
            await asyncio.sleep(TILE_ROTATION_S)
            step += 1
            await self._send_tiles(ws, TILES[(index + step) % len(TILES)], tracks)

    async def _send_tiles(self, ws: aiohttp.ClientWebSocketResponse, size: tuple[int, int],
                          tracks: dict[str, Any]) -> None:
        width, height = size
        for track in tracks.values():
            if track.get("kind") == "video":
                await ws.send_str(json.dumps({"type": "track_view", "track_id": track["track_id"],
                                              "visible": True, "width": width,
                                              "height": height}))

    async def _answer_offers(self, ws: aiohttp.ClientWebSocketResponse, pc: RTCPeerConnection,
                             index: int, wanted: int, on_negotiated: Callable[[], None],
                             complete: asyncio.Future[None]) -> None:
        try:
            async for msg in ws:
                if msg.type is not aiohttp.WSMsgType.TEXT:
                    continue
                data = json.loads(msg.data)
                if data.get("type") == "error":
                    raise RuntimeError(f"server error: {data}")
                if data.get("type") != "offer":
                    continue
                answer = await rtc.answer_offer(pc, data["sdp"])
                on_negotiated()
                await ws.send_str(json.dumps({"type": "answer", "sdp": answer}))
                if len(data.get("tracks", {})) >= wanted and not complete.done():
                    await self._report_tiles(ws, index, data["tracks"])
                    complete.set_result(None)
            if not complete.done():
                complete.set_exception(ConnectionError(f"socket closed ({ws.close_code})"))
        except Exception as exc:  # noqa: BLE001 - handed to the waiting subscriber
            if not complete.done():
                complete.set_exception(exc)

    async def _keepalive(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        while not ws.closed:
            await asyncio.sleep(KEEPALIVE_S)
            await ws.send_str(json.dumps({"type": "ping", "t": 0}))

    async def close(self) -> None:
        for task in self._tasks:
            task.cancel()
        for ws in self._sockets:
            await ws.close()
        if self._http is not None:
            for location, token in self._whip:
                try:
                    async with self._http.delete(f"{self.base_url}{location}", headers={
                            "Authorization": f"Bearer {token}"}):
                        pass
                except aiohttp.ClientError:
                    pass
            await self._http.close()
