"""The recorder's signalling WebSocket: join as a hidden participant, read room messages.

A worker may run on another machine: it reaches the room like any client, over
`<server>/ws`, and follows a `wrong_node` error to the node that serves the room.
"""

from __future__ import annotations

import json
from typing import Any

import aiohttp

MAX_MESSAGE_BYTES = 16 * 1024 * 1024
MAX_REDIRECTS = 3


class JoinError(RuntimeError):
    """The room refused the recorder (code and message of the server's error)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code


class RoomSocket:
    def __init__(self, http: aiohttp.ClientSession, ws: aiohttp.ClientWebSocketResponse,
                 joined: dict[str, Any]) -> None:
        self.http = http
        self.ws = ws
        self.joined = joined

    @classmethod
    async def join(cls, base_url: str, token: str, name: str) -> RoomSocket:
        http = aiohttp.ClientSession()
        try:
            url = base_url
            for _ in range(MAX_REDIRECTS + 1):
                ws = await http.ws_connect(url.rstrip("/").replace("http", "ws", 1) + "/ws",
                                           max_msg_size=MAX_MESSAGE_BYTES, heartbeat=None)
                await ws.send_str(json.dumps({"type": "join", "token": token, "name": name}))
                reply = await _first_reply(ws)
                if reply.get("type") == "joined":
                    return cls(http, ws, reply)
                await ws.close()
                if reply.get("code") == "wrong_node" and reply.get("url"):
                    url = str(reply["url"])
                    continue
                raise JoinError(str(reply.get("code", "closed")), str(reply.get("message", "")))
            raise JoinError("wrong_node", "too many redirects")
        except BaseException:
            await http.close()
            raise

    async def send(self, message: dict[str, Any]) -> None:
        await self.ws.send_str(json.dumps(message))

    async def messages(self) -> Any:
        """The server's messages until the socket closes."""
        async for msg in self.ws:
            if msg.type is aiohttp.WSMsgType.TEXT:
                try:
                    yield json.loads(msg.data)
                except ValueError:
                    continue

    async def close(self) -> None:
        try:
            await self.ws.close()
        finally:
            await self.http.close()


async def _first_reply(ws: aiohttp.ClientWebSocketResponse) -> dict[str, Any]:
    async for msg in ws:
        if msg.type is aiohttp.WSMsgType.TEXT:
            data = json.loads(msg.data)
            if data.get("type") in ("joined", "error"):
                return dict(data)
    return {"type": "error", "code": "closed", "message": "the server closed the socket"}
