"""Janus VideoRoom over its HTTP API: one session, a handle per publisher and subscriber,
events by long poll. Subscribers use Janus's multistream subscription (one peer connection
for every feed), and Janus offers while the subscriber answers."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Callable
from typing import Any

import aiohttp
from aiortc import RTCPeerConnection

from bench import rtc

ROOM = 4242


class JanusError(RuntimeError):
    pass


class JanusSession:
    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self.http = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=60))
        self.session_id = 0
        self._waiting: dict[str, asyncio.Future[dict[str, Any]]] = {}
        self._poller: asyncio.Task[None] | None = None

    async def _post(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        async with self.http.post(f"{self.base_url}{path}", json=body) as response:
            reply = await response.json(content_type=None)
        if reply.get("janus") == "error":
            raise JanusError(f"{body.get('janus')}: {reply.get('error')}")
        return reply

    async def start(self) -> None:
        reply = await self._post("/janus", {"janus": "create", "transaction": _tx()})
        self.session_id = reply["data"]["id"]
        self._poller = asyncio.create_task(self._poll())

    async def _poll(self) -> None:
        """Long poll: also keeps the session alive."""
        url = f"{self.base_url}/janus/{self.session_id}?maxev=50"
        while True:
            try:
                async with self.http.get(url) as response:
                    events = await response.json(content_type=None)
            except (aiohttp.ClientError, asyncio.TimeoutError):
                await asyncio.sleep(0.2)
                continue
            for event in events if isinstance(events, list) else [events]:
                future = self._waiting.pop(event.get("transaction", ""), None)
                if future is not None and not future.done():
                    future.set_result(event)

    async def attach(self) -> int:
        reply = await self._post(f"/janus/{self.session_id}", {
            "janus": "attach", "plugin": "janus.plugin.videoroom", "transaction": _tx()})
        return reply["data"]["id"]

    async def message(self, handle: int, body: dict[str, Any],
                      jsep: dict[str, Any] | None = None) -> dict[str, Any]:
        """Send a plugin request; returns the plugin's event (sync or async reply)."""
        tx = _tx()
        request: dict[str, Any] = {"janus": "message", "body": body, "transaction": tx}
        if jsep is not None:
            request["jsep"] = jsep
        future = asyncio.get_running_loop().create_future()
        self._waiting[tx] = future
        reply = await self._post(f"/janus/{self.session_id}/{handle}", request)
        if reply.get("janus") == "ack":
            reply = await asyncio.wait_for(future, 30)
        self._waiting.pop(tx, None)
        data = reply.get("plugindata", {}).get("data", {})
        if "error" in data:
            raise JanusError(f"{body.get('request')}: {data['error']}")
        return reply

    async def trickle_done(self, handle: int) -> None:
        await self._post(f"/janus/{self.session_id}/{handle}", {
            "janus": "trickle", "candidate": {"completed": True}, "transaction": _tx()})

    async def close(self) -> None:
        if self._poller is not None:
            self._poller.cancel()
        if self.session_id:
            try:
                await self._post(f"/janus/{self.session_id}",
                                 {"janus": "destroy", "transaction": _tx()})
            except (aiohttp.ClientError, JanusError, asyncio.TimeoutError):
                pass
        await self.http.close()


class JanusSignaller:
    def __init__(self, base_url: str, address: str) -> None:
        self.janus = JanusSession(base_url)
        self.address = address
        self.feeds: list[int] = []

    async def setup(self) -> None:
        await self.janus.start()
        handle = await self.janus.attach()
        # Janus's own defaults for extensions (audio level, transport-wide CC) stay on; it
        # also computes talking events, as CommandPost computes the active speaker.
        await self.janus.message(handle, {
            "request": "create", "room": ROOM, "publishers": 100, "bitrate": 0,
            "fir_freq": 0, "audiocodec": "opus", "videocodec": "vp8",
            "notify_joining": False, "audiolevel_event": True})

    async def publish(self, index: int, pc: RTCPeerConnection) -> None:
        handle = await self.janus.attach()
        joined = await self.janus.message(handle, {
            "request": "join", "ptype": "publisher", "room": ROOM, "display": f"pub{index}"})
        self.feeds.append(joined["plugindata"]["data"]["id"])
        offer = await rtc.local_offer(pc, self.address)
        reply = await self.janus.message(handle, {"request": "publish", "audio": True,
                                                  "video": True},
                                         jsep={"type": "offer", "sdp": offer})
        await self.janus.trickle_done(handle)
        await rtc.apply_answer(pc, reply["jsep"]["sdp"])

    async def subscribe(self, index: int, pc: RTCPeerConnection, tracks_wanted: int,
                        on_negotiated: Callable[[], None]) -> None:
        handle = await self.janus.attach()
        attached = await self.janus.message(handle, {
            "request": "join", "ptype": "subscriber", "room": ROOM,
            "streams": [{"feed": feed} for feed in self.feeds]})
        answer = await rtc.answer_offer(pc, attached["jsep"]["sdp"], self.address)
        on_negotiated()
        await self.janus.message(handle, {"request": "start"},
                                 jsep={"type": "answer", "sdp": answer})
        await self.janus.trickle_done(handle)

    async def close(self) -> None:
        await self.janus.close()


def _tx() -> str:
    return secrets.token_hex(6)
