"""One decoded frame of a live video track, taken through this node's own WHEP endpoint.

The SFU forwards without decoding, so a picture of a track needs a decoder: we play the
track like any WHEP player (an aiortc peer connection that mints a short `subscribe` token
with the server secret), take the first frame aiortc decodes (in its own thread), convert it
to a numpy array in an executor and hang up. Stored as JPEG under the data directory.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import secrets
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import aiohttp
import cv2
import numpy as np
from aiortc import RTCSessionDescription
from sfu.aiortc_bridge import local_offer, new_peer_connection

from signaling.errors import SignalingError
from signaling.tokens import mint_token

from whiteboard.ids import SNAPSHOT_ID_RE
from whiteboard.store import snapshots_key

log = logging.getLogger(__name__)
TOKEN_TTL_S = 60
SNAPSHOT_IDENTITY = "wb-snapshot"


@dataclass(frozen=True)
class SnapshotInfo:
    snapshot_id: str
    room_id: str
    track_id: str
    width: int
    height: int
    taken_at: float  # unix seconds
    taken_by: str

    def json(self, url: str) -> dict[str, Any]:
        return {**asdict(self), "url": url}


async def grab_frame(base_url: str, secret: str, room_id: str, track_id: str,
                     timeout_s: float, ice_addresses: tuple[str, ...] = ()) -> np.ndarray:
    """The first decoded frame of `track_id` as a BGR array (WHEP over loopback)."""
    token = mint_token(secret, room_id, SNAPSHOT_IDENTITY, ["subscribe"], TOKEN_TTL_S)
    pc = new_peer_connection()
    pc.addTransceiver("video", direction="recvonly")
    frames: asyncio.Queue[Any] = asyncio.Queue(maxsize=1)

    @pc.on("track")
    def on_track(track: Any) -> None:
        if track.kind == "video":
            asyncio.ensure_future(_first_frame(track, frames))

    location = None
    async with aiohttp.ClientSession() as http:
        try:
            offer = await local_offer(pc, ice_addresses)
            location = await _post_offer(http, base_url, room_id, track_id, token, offer, pc)
            frame = await asyncio.wait_for(frames.get(), timeout_s)
        except asyncio.TimeoutError:
            raise SignalingError("unavailable", f"no video frame of track {track_id!r} "
                                 f"within {timeout_s:g} s") from None
        finally:
            await pc.close()
            if location is not None:
                with contextlib.suppress(aiohttp.ClientError, asyncio.TimeoutError):
                    await http.delete(base_url + location,
                                      headers={"Authorization": f"Bearer {token}"},
                                      timeout=aiohttp.ClientTimeout(total=5))
    loop = asyncio.get_running_loop()
    return await loop.run_in_executor(None, lambda: frame.to_ndarray(format="bgr24"))


async def _post_offer(http: aiohttp.ClientSession, base_url: str, room_id: str,
                      track_id: str, token: str, offer: str, pc: Any) -> str:
    async with http.post(f"{base_url}/whep/{room_id}/{track_id}", data=offer,
                         headers={"Authorization": f"Bearer {token}",
                                  "Content-Type": "application/sdp"},
                         timeout=aiohttp.ClientTimeout(total=15)) as response:
        body = await response.text()
        if response.status == 404:
            raise SignalingError("track_not_found", f"room has no track {track_id!r}")
        if response.status != 201:
            raise SignalingError("unavailable", f"WHEP answered {response.status}: "
                                 f"{body.strip()[:200]}")
        location = response.headers.get("Location", "")
    await pc.setRemoteDescription(RTCSessionDescription(body, "answer"))
    return location


async def _first_frame(track: Any, frames: asyncio.Queue[Any]) -> None:
    with contextlib.suppress(Exception):
        frame = await track.recv()
        frames.put_nowait(frame)


class SnapshotStore:
    """JPEG files under <data dir>/whiteboard/snapshots/<room_id>/ and their metadata in
    Redis (`cp:wb:{room}:snapshots`); the oldest go beyond max_per_room."""

    def __init__(self, redis: Any, data_dir: Path, max_per_room: int, quality: int) -> None:
        self.redis = redis
        self.root = data_dir / "whiteboard" / "snapshots"
        self.max_per_room = max_per_room
        self.quality = quality

    def path(self, room_id: str, snapshot_id: str) -> Path:
        return self.root / room_id / f"{snapshot_id}.jpg"

    async def save(self, room_id: str, track_id: str, frame: np.ndarray,
                   taken_by: str) -> SnapshotInfo:
        info = SnapshotInfo("s_" + secrets.token_hex(8), room_id, track_id,
                            int(frame.shape[1]), int(frame.shape[0]), round(time.time(), 6),
                            taken_by)
        path = self.path(room_id, info.snapshot_id)
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(None, _write_jpeg, path, frame, self.quality)
        await self.redis.hset(snapshots_key(room_id), info.snapshot_id,
                              json.dumps(asdict(info)))
        await self._prune(room_id)
        return info

    async def get(self, room_id: str, snapshot_id: str) -> SnapshotInfo | None:
        if not SNAPSHOT_ID_RE.fullmatch(snapshot_id):
            return None
        raw = await self.redis.hget(snapshots_key(room_id), snapshot_id)
        return SnapshotInfo(**json.loads(raw)) if raw else None

    async def _prune(self, room_id: str) -> None:
        entries = await self.redis.hgetall(snapshots_key(room_id))
        if len(entries) <= self.max_per_room:
            return
        ordered = sorted(entries.items(), key=lambda kv: json.loads(kv[1])["taken_at"])
        for snapshot_id, _ in ordered[:len(entries) - self.max_per_room]:
            await self.redis.hdel(snapshots_key(room_id), snapshot_id)
            self.path(room_id, snapshot_id).unlink(missing_ok=True)


def _write_jpeg(path: Path, frame: np.ndarray, quality: int) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    ok, data = cv2.imencode(".jpg", frame, [cv2.IMWRITE_JPEG_QUALITY, quality])
    if not ok:
        raise ValueError("JPEG encoding failed")
    tmp = path.with_suffix(".tmp")
    tmp.write_bytes(bytes(data))
    tmp.replace(path)
