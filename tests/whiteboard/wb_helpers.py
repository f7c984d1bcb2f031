"""Whiteboard test helpers: element builders, a joined drawer, a client-side replica."""

from __future__ import annotations

import itertools
import random
from typing import Any

from signal_client import WsClient

_ids = itertools.count(1)


def new_id(prefix: str = "el") -> str:
    return f"{prefix}{next(_ids):08d}"


def element(kind: str = "rect", points: list[list[float]] | None = None, *,
            element_id: str | None = None, version: int = 1, nonce: int | None = None,
            color: str = "#ff0000", width: float = 6, index: str = "a0",
            **extra: Any) -> dict[str, Any]:
    if points is None:
        points = {"text": [[0.1, 0.1]], "pen": [[0.1, 0.1], [0.2, 0.2], [0.3, 0.1]],
                  "highlighter": [[0.1, 0.1], [0.4, 0.1]]}.get(kind, [[0.1, 0.1], [0.4, 0.5]])
    out = {"id": element_id or new_id(), "type": kind, "points": points, "color": color,
           "width": width, "index": index, "version": version,
           "version_nonce": random.randint(0, 2**31 - 1) if nonce is None else nonce,
           "deleted": False, **extra}
    if kind in ("text", "sticky"):
        out.setdefault("text", "hello")
    return out


def upsert(board_id: str, *elements: dict[str, Any], ref: str | None = None) -> dict[str, Any]:
    msg = {"type": "wb_op", "board_id": board_id, "op": "upsert", "elements": list(elements)}
    if ref is not None:
        msg["ref"] = ref
    return msg


def op(board_id: str, kind: str, **fields: Any) -> dict[str, Any]:
    return {"type": "wb_op", "board_id": board_id, "op": kind, **fields}


def visible(elements: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {e["id"]: e for e in elements if not e.get("deleted")}


async def ack(client: WsClient, ref: str, timeout: float = 5.0) -> dict[str, Any]:
    return await client.recv("wb_ack", timeout, ref=ref)


async def rest_scene(local: Any, room: dict[str, Any], board_id: str) -> dict[str, Any]:
    status, body, _ = await local.request(
        "GET", f"/api/rooms/{room['room_id']}/boards/{board_id}",
        headers={"Authorization": f"Bearer {room['host_token']}"})
    assert status == 200, body
    return body


class Replica:
    """What a browser holds: the merge rule applied to every wb_scene / wb_elements."""

    def __init__(self) -> None:
        self.elements: dict[str, dict[str, Any]] = {}

    def merge(self, elements: list[dict[str, Any]]) -> None:
        for incoming in elements:
            current = self.elements.get(incoming["id"])
            if current is None or incoming["version"] > current["version"] or (
                    incoming["version"] == current["version"]
                    and incoming["version_nonce"] <= current["version_nonce"]):
                self.elements[incoming["id"]] = incoming

    def feed(self, client: WsClient, board_id: str) -> None:
        for msg in client.messages:
            if msg.get("board_id") == board_id and msg.get("type") in ("wb_scene",
                                                                       "wb_elements"):
                self.merge(msg["elements"])


# --- a camera with a known picture, published over a real aiortc peer connection ---------

PATTERN_SIZE = (320, 240)
LEFT_BGR = (40, 40, 220)  # red-ish left half
RIGHT_BGR = (60, 200, 60)  # green-ish right half


def pattern_frame() -> Any:
    import numpy as np

    w, h = PATTERN_SIZE
    frame = np.zeros((h, w, 3), np.uint8)
    frame[:, : w // 2] = LEFT_BGR
    frame[:, w // 2:] = RIGHT_BGR
    return frame


def pattern_camera(frozen: bool = False) -> Any:
    """A camera sending `pattern_frame()`; `frozen`: one that never delivers a frame."""
    import asyncio

    import av
    from aiortc.mediastreams import VideoStreamTrack

    class PatternCamera(VideoStreamTrack):
        """Every frame the same two-colour picture, so a snapshot's pixels are known."""

        async def recv(self) -> av.VideoFrame:
            if frozen:
                await asyncio.Event().wait()
            pts, time_base = await self.next_timestamp()
            frame = av.VideoFrame.from_ndarray(pattern_frame(), format="bgr24")
            frame.pts, frame.time_base = pts, time_base
            return frame

    return PatternCamera()


async def publish_pattern(client: WsClient, frozen: bool = False) -> tuple[Any, str]:
    """Publish the pattern camera on a joined client; returns (peer connection, track id)."""
    from aiortc import RTCConfiguration, RTCPeerConnection, RTCSessionDescription
    from sfu.aiortc_bridge import restrict_ice_addresses

    pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
    pc.addTransceiver(pattern_camera(frozen), direction="sendonly")
    restrict_ice_addresses(pc, ["127.0.0.1"])
    await pc.setLocalDescription(await pc.createOffer())
    mid = pc.getTransceivers()[0].mid
    await client.send({"type": "publish", "sdp": pc.localDescription.sdp,
                       "sources": {mid: "camera"}})
    answer = await client.recv("answer", timeout=10)
    await pc.setRemoteDescription(RTCSessionDescription(answer["sdp"], "answer"))
    while True:
        tracks = (await client.recv("tracks", timeout=10))["tracks"]
        video = [t for t in tracks if t.get("kind") == "video"]
        if video:
            return pc, video[0]["track_id"]
