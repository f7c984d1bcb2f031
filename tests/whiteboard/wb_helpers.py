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
