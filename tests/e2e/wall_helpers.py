"""Cheap video sources for the wall tests: aiortc publishers on a background event loop.

Each source joins with a token that may publish but not subscribe (so sixteen of them do not
decode each other's video), publishes one small synthetic VP8 camera, and can freeze it (no
more frames, the connection stays up: what a camera that hangs looks like) and thaw it.
Sources may also send `location` messages like a field phone does.
"""

from __future__ import annotations

import asyncio
import sys
import threading
from pathlib import Path
from typing import Any

import av
import numpy as np
from aiortc import RTCPeerConnection, RTCSessionDescription
from aiortc.mediastreams import VideoStreamTrack

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "signaling"))

from signal_client import WsClient  # noqa: E402

from sfu.aiortc_bridge import restrict_ice_addresses  # noqa: E402
from signaling.tokens import mint_token  # noqa: E402


class FreezableCamera(VideoStreamTrack):
    """160x120 frames whose colour drifts; while frozen, recv waits and nothing is sent."""

    def __init__(self) -> None:
        super().__init__()
        self.running = asyncio.Event()
        self.running.set()
        self._count = 0

    async def recv(self) -> av.VideoFrame:
        await self.running.wait()
        pts, time_base = await self.next_timestamp()
        self._count += 1
        level = (self._count * 4) % 256
        data = np.full((120, 160, 3), (level, 128, 255 - level), dtype=np.uint8)
        frame = av.VideoFrame.from_ndarray(data, format="rgb24")
        frame.pts, frame.time_base = pts, time_base
        return frame


class Source:
    def __init__(self, ws: WsClient, pc: RTCPeerConnection, camera: FreezableCamera,
                 participant_id: str) -> None:
        self.ws, self.pc, self.camera, self.participant_id = ws, pc, camera, participant_id


class Sources:
    """Publishers living on their own event loop thread, driven from sync test code."""

    def __init__(self, server: Any, room: dict[str, Any]) -> None:
        self.server = server
        self.room = room
        self.by_name: dict[str, Source] = {}
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()

    def _run(self, coro: Any, timeout: float = 20) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def add(self, name: str, video: bool = True) -> str:
        """Join as `name` and publish a camera; returns the participant id."""
        return self._run(self._add(name, video))

    async def _add(self, name: str, video: bool) -> str:
        token = mint_token(self.server.secret, self.room["room_id"], "src-" + name,
                           ["join", "publish", "publish_data"], 600, name=name)
        ws = await WsClient.connect(self.server.base_url)
        joined = await ws.join(token=token, name=name)
        pc = RTCPeerConnection()
        camera = FreezableCamera()
        if video:
            pc.addTransceiver(camera, direction="sendonly")
            restrict_ice_addresses(pc, ["127.0.0.1"])
            await pc.setLocalDescription(await pc.createOffer())
            mid = pc.getTransceivers()[0].mid
            await ws.send({"type": "publish", "sdp": pc.localDescription.sdp,
                           "sources": {mid: "camera"}})
            answer = await ws.recv("answer", timeout=10)
            await pc.setRemoteDescription(RTCSessionDescription(answer["sdp"], "answer"))
        self.by_name[name] = Source(ws, pc, camera, joined["participant_id"])
        return joined["participant_id"]

    def freeze(self, name: str) -> None:
        self.loop.call_soon_threadsafe(self.by_name[name].camera.running.clear)

    def thaw(self, name: str) -> None:
        self.loop.call_soon_threadsafe(self.by_name[name].camera.running.set)

    def locate(self, name: str, lat: float, lon: float, accuracy_m: float = 10.0) -> None:
        """Send a `location` message as a field phone would."""
        self._run(self.by_name[name].ws.send({"type": "location", "lat": lat, "lon": lon,
                                              "accuracy_m": accuracy_m}))

    def remove(self, name: str) -> None:
        self._run(self._remove(self.by_name.pop(name)))

    async def _remove(self, source: Source) -> None:
        await source.ws.send({"type": "leave"})
        await source.pc.close()
        await source.ws.close()

    def close(self) -> None:
        for name in list(self.by_name):
            try:
                self.remove(name)
            except Exception:  # the server may already be gone; the loop still stops
                pass
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=5)


def solid_png(width: int, height: int, rgb: tuple[int, int, int]) -> bytes:
    """A valid PNG of one colour (what a tile server returns for open water)."""
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    row = b"\x00" + bytes(rgb) * width
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header)
            + chunk(b"IDAT", zlib.compress(row * height)) + chunk(b"IEND", b""))


class TileServer:
    """A slippy-map tile server on loopback (aiohttp, its own thread): every /{z}/{x}/{y}.png
    is a 256x256 PNG; requested paths are recorded."""

    def __init__(self) -> None:
        from aiohttp import web

        self.requested: list[tuple[int, int, int]] = []
        self.png = solid_png(256, 256, (40, 70, 90))
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()

        async def tile(request: web.Request) -> web.Response:
            z, x, y = (int(request.match_info[k]) for k in ("z", "x", "y"))
            self.requested.append((z, x, y))
            return web.Response(body=self.png, content_type="image/png")

        async def start() -> Any:
            app = web.Application()
            app.router.add_get(r"/{z:\d+}/{x:\d+}/{y:\d+}.png", tile)
            runner = web.AppRunner(app)
            await runner.setup()
            site = web.TCPSite(runner, "127.0.0.1", 0)
            await site.start()
            return runner, site._server.sockets[0].getsockname()[1]

        self.runner, self.port = asyncio.run_coroutine_threadsafe(start(), self.loop).result(10)
        self.template = f"http://127.0.0.1:{self.port}/{{z}}/{{x}}/{{y}}.png"

    def close(self) -> None:
        asyncio.run_coroutine_threadsafe(self.runner.cleanup(), self.loop).result(10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=5)


def post_report(server: Any, room: dict[str, Any], name: str, note: str,
                lat: float | None = None, lon: float | None = None) -> dict[str, Any]:
    """POST a photo report (multipart, like the field page) as `name`; returns its JSON."""
    import json
    import secrets
    import urllib.request

    token = mint_token(server.secret, room["room_id"], "reporter-" + name,
                       ["join", "publish_data"], 600, name=name)
    boundary = "----wall" + secrets.token_hex(8)
    fields = [("note", note)] + ([("lat", str(lat)), ("lon", str(lon))] if lat is not None else [])
    body = b""
    for key, value in fields:
        body += (f"--{boundary}\r\nContent-Disposition: form-data; name=\"{key}\"\r\n\r\n"
                 f"{value}\r\n").encode()
    body += (f"--{boundary}\r\nContent-Disposition: form-data; name=\"photo\"; "
             f"filename=\"photo.png\"\r\nContent-Type: image/png\r\n\r\n").encode()
    body += solid_png(320, 240, (200, 60, 40)) + f"\r\n--{boundary}--\r\n".encode()
    request = urllib.request.Request(
        f"{server.base_url}/api/rooms/{room['room_id']}/reports", data=body, method="POST",
        headers={"Authorization": f"Bearer {token}",
                 "Content-Type": f"multipart/form-data; boundary={boundary}"})
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status == 201
        return json.loads(response.read())
