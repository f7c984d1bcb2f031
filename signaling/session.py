"""One signalling WebSocket: limits, validation, join, and dispatch to the room.

Outgoing messages go through a queue drained by one writer task, so the room never waits on
a slow client and messages keep their order. A malformed message costs the client an `error`
reply, never the session; only sustained abuse closes the socket (1008).
"""

from __future__ import annotations

import asyncio
import json
import logging
import secrets
import time
from typing import Any

from aiohttp import WSMsgType, web
from aiohttp.http_websocket import WebSocketError

from signaling import messages
from signaling.errors import SignalingError
from signaling.extensions import WsContext
from signaling.node import Node
from signaling.participant import Member
from signaling.ratelimit import AbuseMeter, TokenBucket
from signaling.room import Room
from signaling.rooms import clean_name
from signaling.tokens import Claims, verify_token

log = logging.getLogger(__name__)
OUTBOX_LIMIT = 1024
RATE_ERROR_INTERVAL_S = 1.0
ABUSE_WINDOW_S = 10.0
_SIGNS_OF_LIFE = (WSMsgType.TEXT, WSMsgType.BINARY, WSMsgType.PING, WSMsgType.PONG)


class Session:
    def __init__(self, ws: web.WebSocketResponse, node: Node) -> None:
        self.ws = ws
        self.node = node
        limits = node.services.config.limits
        self.limits = limits
        self.room: Room | None = None
        self.member: Member | None = None
        self._bucket = TokenBucket(limits.ws_messages_per_second, limits.ws_message_burst)
        self._abuse = AbuseMeter(limits.ws_message_burst, ABUSE_WINDOW_S)
        self._last_rate_error = 0.0
        self._outbox: asyncio.Queue[Any] = asyncio.Queue()
        self._ended = False  # the server ended it: nothing left to clean up
        self._writer: asyncio.Task[None] | None = None

    # outgoing
    def send(self, message: dict[str, Any]) -> None:
        self.send_encoded(json.dumps(message, separators=(",", ":")))

    def send_encoded(self, text: str) -> None:
        """Send a message already encoded as JSON text (one encoding for a whole room)."""
        if self._ended:
            return
        if self._outbox.qsize() >= OUTBOX_LIMIT:
            log.warning("closing a client that does not read its messages")
            self.close(1008, "client is not reading its messages")
            return
        self._outbox.put_nowait(text)

    def close(self, code: int, reason: str) -> None:
        """Close after the queued messages are written (so `kicked` arrives before the close)."""
        if not self._ended:
            self._ended = True
            self._outbox.put_nowait((code, reason))

    def error(self, code: str, message: str, ref: str | None = None, **extra: Any) -> None:
        self.send({"type": "error", "code": code, "message": message, "ref": ref, **extra})

    async def _write(self) -> None:
        while True:
            item = await self._outbox.get()
            if isinstance(item, tuple):
                try:
                    await self.ws.close(code=item[0], message=item[1].encode())
                except (ConnectionError, RuntimeError):
                    pass
                return
            try:
                await self.ws.send_str(item)
            except (ConnectionError, RuntimeError):
                return

    # incoming
    async def run(self) -> None:
        self._writer = asyncio.create_task(self._write())
        join_timer = asyncio.get_running_loop().call_later(
            self.limits.join_timeout_s, self._join_timeout)
        clean = False
        try:
            clean = await self._read()
        finally:
            join_timer.cancel()
            # A socket the server chose to close (flooding, slow reader) leaves at once.
            await self._finish(clean or self._ended)

    async def _read(self) -> bool:
        """Handle frames until the socket ends; True if the client closed it properly."""
        while True:
            msg = await self.ws.receive()
            if msg.type in _SIGNS_OF_LIFE:
                self._alive()
            if msg.type is WSMsgType.TEXT:
                await self._on_text(msg.data)
            elif msg.type is WSMsgType.BINARY:
                self._refuse("bad_message", "binary frames are not accepted", None)
            elif msg.type is WSMsgType.PING:
                try:
                    await self.ws.pong(msg.data)
                except (ConnectionError, RuntimeError):
                    return False
            elif msg.type is WSMsgType.CLOSE:
                return msg.data != messages.CLIENT_LOST_CLOSE  # the front lost the client
            elif msg.type is WSMsgType.ERROR and isinstance(msg.data, WebSocketError):
                return True  # protocol violation (e.g. a frame over the hard size cap)
            elif msg.type in (WSMsgType.CLOSED, WSMsgType.CLOSING, WSMsgType.ERROR):
                return False

    def _alive(self) -> None:
        if self.member is not None:
            self.member.last_alive = time.time()

    async def _finish(self, clean: bool) -> None:
        if self.member is not None and self.room is not None:
            self.room.client_gone(self.member, self, clean)
        self.close(1000, "")
        if self._writer is not None:
            try:
                await asyncio.wait_for(self._writer, timeout=2)
            except (asyncio.TimeoutError, Exception):
                self._writer.cancel()

    def _join_timeout(self) -> None:
        if self.member is None and not self._ended:
            self.error("join_timeout", f"no join within {self.limits.join_timeout_s:g} s")
            self.close(1008, "join timeout")

    async def _on_text(self, text: str) -> None:
        max_bytes = self.limits.ws_max_message_bytes
        if len(text) > max_bytes or len(text.encode("utf-8", "surrogatepass")) > max_bytes:
            self._refuse("too_large", f"message is larger than {max_bytes} bytes", None)
            return
        if not self._bucket.take():
            self._rate_limited()
            return
        ref = None
        try:
            data = messages.decode(text)
            ref = messages.message_type(data)
            msg = messages.validate(data, self.node.services.extensions.schemas())
        except SignalingError as exc:
            self._refuse(exc.code, exc.message, ref)
            return
        await self._dispatch(msg)

    def _refuse(self, code: str, message: str, ref: str | None) -> None:
        self.error(code, message, ref)
        self._strike()

    def _rate_limited(self) -> None:
        now = time.monotonic()
        if now - self._last_rate_error >= RATE_ERROR_INTERVAL_S:
            self._last_rate_error = now
            self.error("rate_limited", f"more than {self.limits.ws_messages_per_second:g} "
                       f"messages per second (burst {self.limits.ws_message_burst})")
        self._strike()

    def _strike(self) -> None:
        if self._abuse.strike() and not self._ended:
            log.warning("closing a flooding client")
            self.close(1008, "too many refused messages")

    async def _dispatch(self, msg: dict[str, Any]) -> None:
        kind = msg["type"]
        try:
            if kind == "ping":
                self.send({"type": "pong", "t": msg.get("t")})
            elif kind == "join":
                await self._join(msg)
            elif kind == "leave" and self.member is None:
                self.close(1000, "left")
            elif self.member is None or self.room is None:
                raise SignalingError("not_joined", "send join first")
            else:
                await self._joined_message(self.room, self.member, msg)
        except SignalingError as exc:
            self.error(exc.code, exc.message, kind, **exc.extra)
        except Exception:
            log.exception("%s message failed", kind)
            self.error("internal", "the server failed to handle this message", kind)

    async def _joined_message(self, room: Room, member: Member, msg: dict[str, Any]) -> None:
        kind = msg["type"]
        if kind in ("mute", "kick", "lock", "revoke_share") and not member.allows("admin"):
            raise SignalingError("forbidden", f"{kind} needs the admin grant")
        if kind == "publish":
            answer = await room.publish(member, msg["sdp"], msg.get("sources", {}))
            self.send({"type": "answer", "sdp": answer})
        elif kind == "answer":
            await room.subscribe_answer(member, msg["sdp"])
        elif kind == "offer_failed":
            await room.subscribe_offer_failed(member, msg.get("error", ""))
        elif kind == "state":
            await room.set_state(member, msg.get("audio"), msg.get("video"))
        elif kind == "mute":
            await room.mute(member, msg["participant_id"], msg["kind"])
        elif kind == "kick":
            await room.kick(member, msg["participant_id"])
        elif kind == "track_view":
            room.set_track_view(member, msg["track_id"], msg["visible"], msg.get("width"),
                                msg.get("height"))
        elif kind == "location":
            await room.set_location(member, msg)
        elif kind == "lock":
            await room.set_locked(msg["locked"])
        elif kind == "revoke_share":
            await self.node.services.shares.revoke(room.room_id, msg["code"])
            self.send({"type": "share_revoked", "code": msg["code"]})
        elif kind == "leave":
            self.member = None
            self.close(1000, "left")
            await room.remove(member.id, "left")
        elif kind == "join":
            raise SignalingError("already_joined", "this connection has already joined")
        else:
            await self._extension_message(room, member, msg)

    async def _extension_message(self, room: Room, member: Member, msg: dict[str, Any]) -> None:
        kind = msg["type"]
        spec = self.node.services.extensions.ws_message(kind)
        if spec is None:  # validate() knew it, so only a core type can land here
            raise SignalingError("bad_message", f"unknown message type {kind!r}")
        if spec.grant is not None and not member.allows(spec.grant):
            raise SignalingError("forbidden", f"{kind} needs the {spec.grant} grant")
        await spec.handle(WsContext(self.node, room, member, self), msg)

    async def _join(self, msg: dict[str, Any]) -> None:
        if self.member is not None:
            raise SignalingError("already_joined", "this connection has already joined")
        claims = await self._credentials(msg)
        if "room_id" in msg and msg["room_id"] != claims.room_id:
            raise SignalingError("wrong_room", "the credentials are for another room")
        if not claims.allows("join"):
            raise SignalingError("forbidden", "your grants do not include join")
        try:
            name = clean_name(msg.get("name"), claims.name, "name")
        except SignalingError as exc:
            raise SignalingError("bad_message", exc.message) from None
        async with self.node.using(claims.room_id) as room:
            member = await room.admit(self, claims, name, msg.get("resume"))
            self.room, self.member = room, member

    async def _credentials(self, msg: dict[str, Any]) -> Claims:
        services = self.node.services
        if "token" in msg:
            return verify_token(services.identity.secret, msg["token"])
        share = await services.shares.resolve(msg["code"])
        return Claims(room_id=share.room_id, identity="guest_" + secrets.token_hex(4),
                      name="Guest", grants=share.grants, expires_at=int(share.expires_at))
