"""One client WebSocket on the front, piped to the worker that serves its room.

Until the client has joined, each `join` it sends is resolved to its room's worker (switching
the upstream socket if an earlier try went elsewhere); after `joined`, frames are piped both
ways without parsing. Pings, pongs and close codes pass through too, so the worker sees the
client's own signs of life (presence) and the client sees the worker's close codes (1008...).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Mapping

import aiohttp
from aiohttp import WSMsgType, web
from aiohttp.http_websocket import WebSocketError

from signaling.errors import SignalingError
from signaling.messages import CLIENT_LOST_CLOSE
from signaling.room_router import RoomRouter
from signaling.workers import Worker

log = logging.getLogger(__name__)
_ENDS = (WSMsgType.CLOSE, WSMsgType.CLOSING, WSMsgType.CLOSED, WSMsgType.ERROR)
_SENDABLE_CLOSE = set(range(1000, 1004)) | set(range(1007, 1015)) | set(range(3000, 5000))
Socket = web.WebSocketResponse | aiohttp.ClientWebSocketResponse


def close_code(code: int | None) -> int:
    """A code we may put in a close frame (1005/1006 only describe what happened)."""
    return code if code in _SENDABLE_CLOSE else 1000


async def forward(msg: aiohttp.WSMessage, dst: Socket) -> bool:
    """Send one data/ping/pong frame on; False if `dst` is gone."""
    try:
        if msg.type is WSMsgType.TEXT:
            await dst.send_str(msg.data)
        elif msg.type is WSMsgType.BINARY:
            await dst.send_bytes(msg.data)
        elif msg.type is WSMsgType.PING:
            await dst.ping(msg.data)
        elif msg.type is WSMsgType.PONG:
            await dst.pong(msg.data)
    except (ConnectionError, RuntimeError):
        return False
    return True


class WsBridge:
    def __init__(self, client: web.WebSocketResponse, router: RoomRouter,
                 http: aiohttp.ClientSession, join_timeout_s: float,
                 headers: Mapping[str, str]) -> None:
        self.client = client
        self.router = router
        self.http = http
        self.join_timeout_s = join_timeout_s
        self.headers = dict(headers)
        self.upstream: aiohttp.ClientWebSocketResponse | None = None
        self.worker: Worker | None = None
        self.joined = False
        self._pumps: set[asyncio.Task[None]] = set()

    async def run(self) -> None:
        try:
            first = await asyncio.wait_for(self.client.receive(), self.join_timeout_s)
        except asyncio.TimeoutError:
            await self._refuse("join_timeout", f"no join within {self.join_timeout_s:g} s",
                               1008, "join timeout", ref=None)
            return
        if first.type in _ENDS:
            return
        try:
            if await self._route(first) and await forward(first, self.upstream):
                await self._client_to_upstream()
        finally:
            await self._finish()

    async def _route(self, msg: aiohttp.WSMessage) -> bool:
        """Point the upstream at the worker for this message's room; False if none."""
        try:
            room_id = None
            if msg.type is WSMsgType.TEXT:
                room_id = await self.router.room_of_join(msg.data)
            worker = await self.router.for_room(room_id, assign=True)
            if worker is self.worker and self.upstream is not None:
                return True
            upstream = await self.http.ws_connect(
                worker.url + "/ws", autoping=False, autoclose=True, max_msg_size=0,
                headers=self.headers)
        except SignalingError as exc:
            await self._refuse(exc.code, exc.message, 1013, "try again later")
            return False
        except (aiohttp.ClientError, asyncio.TimeoutError) as exc:
            log.warning("cannot reach worker for a WebSocket: %s", exc)
            await self._refuse("unavailable", "the room's SFU worker is not reachable; try "
                               "again shortly", 1013, "try again later")
            return False
        except Exception:  # e.g. Redis unreachable: what a worker would answer, too
            log.exception("routing a WebSocket join failed")
            await self._refuse("internal", "the server failed to handle this message", 1011,
                               "internal error")
            return False
        old, self.upstream, self.worker = self.upstream, upstream, worker
        pump = asyncio.create_task(self._upstream_to_client(upstream))
        self._pumps.add(pump)
        pump.add_done_callback(self._pumps.discard)
        if old is not None:
            await old.close()
        return True

    async def _client_to_upstream(self) -> None:
        while True:
            msg = await self.client.receive()
            if msg.type in _ENDS:
                if self.upstream is not None and not self.upstream.closed:
                    code, reason = _upstream_close(msg)
                    await self.upstream.close(code=code, message=reason.encode())
                return
            if msg.type is WSMsgType.TEXT and not self.joined and '"join"' in msg.data:
                if not await self._route(msg):
                    return
            assert self.upstream is not None
            if not await forward(msg, self.upstream):
                return

    async def _upstream_to_client(self, upstream: aiohttp.ClientWebSocketResponse) -> None:
        while True:
            msg = await upstream.receive()
            if msg.type in _ENDS:
                break
            if msg.type is WSMsgType.TEXT and not self.joined and '"joined"' in msg.data:
                self.joined = _is_joined(msg.data)
            if not await forward(msg, self.client):
                return
        if upstream is self.upstream and not self.client.closed:
            # The worker's own close code is in its CLOSE frame; `close_code` may say 1006
            # when aiohttp's automatic reply to that close failed (the worker had already
            # dropped the connection), which is not a dead worker.
            code = msg.data if msg.type is WSMsgType.CLOSE else upstream.close_code
            reason = msg.extra if isinstance(msg.extra, str) else ""
            if code in (None, 1006):  # the worker died: 1012 "service restart", come back
                code, reason = 1012, "SFU worker restarting"
            await self.client.close(code=close_code(code), message=reason.encode())

    async def _refuse(self, code: str, message: str, close: int, reason: str,
                      ref: str | None = "join") -> None:
        """The same `error` message (and close) a worker's session would send."""
        with contextlib.suppress(ConnectionError, RuntimeError):
            await self.client.send_str(json.dumps(
                {"type": "error", "code": code, "message": message, "ref": ref},
                separators=(",", ":")))
            await self.client.close(code=close, message=reason.encode())

    async def _finish(self) -> None:
        """Let the worker's close (and anything before it) reach the client, then tidy up."""
        if self._pumps:
            await asyncio.wait(set(self._pumps), timeout=2)
        for pump in set(self._pumps):
            pump.cancel()
        if self.upstream is not None and not self.upstream.closed:
            await self.upstream.close()
        if not self.client.closed:
            await self.client.close()


def _upstream_close(msg: aiohttp.WSMessage) -> tuple[int, str]:
    """How to close the worker's socket when the client's ends: as the client did (a close
    frame, or a protocol error the front refused), after our own close (1000), or, for a
    connection that just vanished, `CLIENT_LOST_CLOSE` so the worker keeps the participant
    for a `resume` exactly as when a socket dies on it directly."""
    if msg.type is WSMsgType.CLOSE:
        return close_code(msg.data), msg.extra if isinstance(msg.extra, str) else ""
    if msg.type is WSMsgType.CLOSING or (msg.type is WSMsgType.ERROR
                                         and isinstance(msg.data, WebSocketError)):
        return 1000, ""
    return CLIENT_LOST_CLOSE, "client connection lost"


def _is_joined(text: str) -> bool:
    try:
        data = json.loads(text)
    except ValueError:
        return False
    return isinstance(data, dict) and data.get("type") == "joined"
