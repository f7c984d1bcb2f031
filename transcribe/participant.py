"""The transcriber's hidden participant: a signalling WebSocket and one aiortc subscribe
peer connection that receives every speaker's audio track on its own m-section.

It publishes nothing. `on_audio(mid, track)` is called once per received audio track;
`speakers[mid]` says whose track a mid currently carries (the SFU may reuse an m-section for
another track after a renegotiation), and `visible` the participants present."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable, Iterable
from typing import Any

import aiohttp
from aiortc import MediaStreamTrack, RTCConfiguration, RTCPeerConnection, RTCSessionDescription

from sfu.aiortc_bridge import restrict_ice_addresses

log = logging.getLogger(__name__)

JOIN_TIMEOUT_S = 10.0
MAX_REDIRECTS = 3


class JoinError(Exception):
    """The server refused the join; `code` is its error code (room_not_found, ...)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code


def ice_addresses_for(configured: Iterable[str], sfu_addresses: Iterable[str]) -> list[str]:
    """Where to gather ICE candidates: `transcribe.ice_addresses`, else the SFU's own
    `sfu.ice_host_addresses` (a worker beside the server), else aioice's default (every
    non-loopback interface, which is what the SFU uses then too)."""
    return list(configured) or list(sfu_addresses)


class HiddenParticipant:
    def __init__(self, base_url: str, room_id: str, token: str, name: str,
                 ice_addresses: Iterable[str],
                 on_audio: Callable[[str, MediaStreamTrack], None]) -> None:
        self.base_url = base_url.rstrip("/")
        self.room_id = room_id
        self.token = token
        self.name = name
        self.ice_addresses = list(ice_addresses)
        self.on_audio = on_audio
        self.participant_id = ""
        self.speakers: dict[str, dict[str, Any]] = {}  # mid -> track info of the last offer
        self.visible: dict[str, str] = {}  # participant id -> name
        self.closed = asyncio.Event()
        self._http: aiohttp.ClientSession | None = None
        self._ws: aiohttp.ClientWebSocketResponse | None = None
        self._pc: RTCPeerConnection | None = None
        self._reader: asyncio.Task[None] | None = None

    async def join(self) -> None:
        """Connect and join (following `wrong_node` to the room's node); raises JoinError."""
        self._http = aiohttp.ClientSession()
        url = self.base_url
        for _ in range(MAX_REDIRECTS + 1):
            self._ws = await self._http.ws_connect(url.replace("http", "ws", 1) + "/ws",
                                                   heartbeat=None, max_msg_size=16 << 20)
            await self._ws.send_json({"type": "join", "token": self.token, "name": self.name,
                                      "room_id": self.room_id})
            reply = await self._first_reply()
            if reply.get("type") == "joined":
                self._joined(reply)
                self._reader = asyncio.create_task(self._read())
                return
            await self._ws.close()
            if reply.get("code") == "wrong_node" and reply.get("url"):
                url = str(reply["url"]).rstrip("/")
                continue
            raise JoinError(str(reply.get("code", "error")), str(reply.get("message", "")))
        raise JoinError("wrong_node", "too many redirects between nodes")

    async def _first_reply(self) -> dict[str, Any]:
        assert self._ws is not None
        async with asyncio.timeout(JOIN_TIMEOUT_S):
            async for msg in self._ws:
                if msg.type is aiohttp.WSMsgType.TEXT:
                    data = json.loads(msg.data)
                    if data.get("type") in ("joined", "error"):
                        return data
        raise JoinError("closed", "the server closed the socket before answering the join")

    def _joined(self, msg: dict[str, Any]) -> None:
        self.participant_id = msg["participant_id"]
        self.visible = {p["id"]: p.get("name", "") for p in msg.get("participants", [])}

    async def _read(self) -> None:
        assert self._ws is not None
        try:
            async for msg in self._ws:
                if msg.type is aiohttp.WSMsgType.TEXT:
                    await self._handle(json.loads(msg.data))
        except Exception:
            log.exception("room %s: signalling reader failed", self.room_id)
        finally:
            self.closed.set()

    async def _handle(self, msg: dict[str, Any]) -> None:
        kind = msg.get("type")
        if kind == "offer":
            await self._answer(msg)
        elif kind == "participant_joined":
            person = msg.get("participant", {})
            self.visible[person.get("id", "")] = person.get("name", "")
        elif kind == "participant_left":
            self.visible.pop(msg.get("participant_id", ""), None)
        elif kind == "error":
            log.warning("room %s: server error %s: %s", self.room_id, msg.get("code"),
                        msg.get("message"))

    async def _answer(self, msg: dict[str, Any]) -> None:
        assert self._ws is not None
        if self._pc is None:
            self._pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
            self._pc.on("track", self._on_track)
        self.speakers = dict(msg.get("tracks", {}))
        try:
            await self._pc.setRemoteDescription(RTCSessionDescription(msg["sdp"], "offer"))
            restrict_ice_addresses(self._pc, self.ice_addresses)
            await self._pc.setLocalDescription(await self._pc.createAnswer())
        except Exception as exc:
            log.warning("room %s: cannot apply the subscribe offer: %s", self.room_id, exc)
            await self._pc.close()
            self._pc = None
            await self._ws.send_json({"type": "offer_failed", "error": str(exc)[:200]})
            return
        await self._ws.send_json({"type": "answer", "sdp": self._pc.localDescription.sdp})

    def _on_track(self, track: MediaStreamTrack) -> None:
        if track.kind != "audio" or self._pc is None:
            return
        mid = next((t.mid for t in self._pc.getTransceivers() if t.receiver.track is track),
                   None)
        if mid is not None:
            self.on_audio(mid, track)

    async def leave(self) -> None:
        if self._ws is not None and not self._ws.closed:
            try:
                await self._ws.send_json({"type": "leave"})
            except Exception:  # the socket may already be gone
                pass
            await self._ws.close()
        if self._reader is not None:
            self._reader.cancel()
        if self._pc is not None:
            await self._pc.close()
        if self._http is not None:
            await self._http.close()
        self.closed.set()
