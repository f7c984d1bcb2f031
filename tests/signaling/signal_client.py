"""Test-side signalling client: a real aiohttp WebSocket with a background reader.

The reader answers server pings (unless `autoping=False`, which plays a client whose network
vanished) and keeps every message, so tests can wait for one type and still inspect the
rest.
"""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import aiohttp


class WsClient:
    def __init__(self, http: aiohttp.ClientSession, ws: aiohttp.ClientWebSocketResponse,
                 owns_http: bool) -> None:
        self.http = http
        self.ws = ws
        self._owns_http = owns_http
        self.messages: list[dict[str, Any]] = []
        self._cursor: dict[str, int] = {}
        self._changed = asyncio.Condition()
        self.close_code: int | None = None
        self.closed = asyncio.Event()
        self._reader = asyncio.create_task(self._read())

    @classmethod
    async def connect(cls, base_url: str, autoping: bool = True,
                      max_msg_size: int = 16 * 1024 * 1024) -> WsClient:
        http = aiohttp.ClientSession()
        ws = await http.ws_connect(base_url.replace("http", "ws", 1) + "/ws",
                                   autoping=autoping, max_msg_size=max_msg_size)
        return cls(http, ws, owns_http=True)

    async def _read(self) -> None:
        try:
            async for msg in self.ws:
                if msg.type is aiohttp.WSMsgType.TEXT:
                    async with self._changed:
                        self.messages.append(json.loads(msg.data))
                        self._changed.notify_all()
        finally:
            self.close_code = self.ws.close_code
            self.closed.set()
            async with self._changed:
                self._changed.notify_all()

    async def send(self, message: dict[str, Any]) -> None:
        await self.ws.send_str(json.dumps(message))

    async def send_raw(self, text: str) -> None:
        await self.ws.send_str(text)

    def of_type(self, kind: str) -> list[dict[str, Any]]:
        return [m for m in self.messages if m.get("type") == kind]

    async def recv(self, kind: str, timeout: float = 5.0, **match: Any) -> dict[str, Any]:
        """The next not-yet-returned message of `kind` whose fields equal `match`."""
        key = kind + repr(sorted(match.items()))
        deadline = time.monotonic() + timeout
        async with self._changed:
            while True:
                start = self._cursor.get(key, 0)
                for index in range(start, len(self.messages)):
                    msg = self.messages[index]
                    if msg.get("type") == kind and all(msg.get(k) == v for k, v in match.items()):
                        self._cursor[key] = index + 1
                        return msg
                self._cursor[key] = len(self.messages)
                remaining = deadline - time.monotonic()
                if remaining <= 0 or self.closed.is_set():
                    seen = [m.get("type") for m in self.messages[-20:]]
                    raise AssertionError(f"no {kind} {match or ''} within {timeout} s "
                                         f"(closed={self.closed.is_set()}, last seen {seen})")
                try:
                    await asyncio.wait_for(self._changed.wait(), remaining)
                except asyncio.TimeoutError:
                    pass

    async def error(self, code: str, timeout: float = 5.0) -> dict[str, Any]:
        return await self.recv("error", timeout, code=code)

    async def join(self, code: str | None = None, token: str | None = None,
                   name: str = "Tester", resume: str | None = None) -> dict[str, Any]:
        message: dict[str, Any] = {"type": "join", "name": name}
        if code is not None:
            message["code"] = code
        if token is not None:
            message["token"] = token
        if resume is not None:
            message["resume"] = resume
        await self.send(message)
        return await self.recv("joined")

    async def wait_closed(self, timeout: float = 5.0) -> int | None:
        await asyncio.wait_for(self.closed.wait(), timeout)
        return self.close_code

    async def close(self) -> None:
        if not self.ws.closed:
            await self.ws.close()
        self._reader.cancel()
        if self._owns_http:
            await self.http.close()
