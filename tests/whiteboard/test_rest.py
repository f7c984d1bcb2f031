"""REST: list, scene, operations (same format as the live protocol), PNG and PDF exports."""

from __future__ import annotations

import re
import zlib
from typing import Any

import cv2
import numpy as np
from local_node import LocalServer
from wb_helpers import element, rest_scene

from whiteboard.pdf import build_pdf


def _auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def test_ops_over_rest_reach_the_room_and_the_scene(local: LocalServer) -> None:
    room = await local.create_room()
    watcher, _ = await local.joined_client(room, "Watcher")
    base = f"/api/rooms/{room['room_id']}/boards"
    rect = element("rect", [[10, 10], [90, 60]], color="#00ff00")
    status, ack, _ = await local.request("POST", f"{base}/main/ops", headers=_auth(
        room["host_token"]), json={"op": "upsert", "elements": [rect], "ref": "api-1"})
    assert status == 200, ack
    assert ack["applied"] == [rect["id"]] and ack["ref"] == "api-1" and ack["seq"] == 1
    pushed = await watcher.recv("wb_elements", board_id="main")
    assert pushed["elements"][0]["id"] == rect["id"]
    status, listing, _ = await local.request("GET", base, headers=_auth(room["host_token"]))
    assert status == 200
    assert listing["boards"][0]["board_id"] == "main" and listing["boards"][0]["elements"] == 1
    assert listing["permissions"]["mode"] == "everyone"
    scene = await rest_scene(local, room, "main")
    assert scene["kind"] == "board" and scene["elements"][0]["author_id"]
    status, ack, _ = await local.request("POST", f"{base}/main/ops", headers=_auth(
        room["host_token"]), json={"op": "undo"})
    assert status == 200 and ack["applied"] == [rect["id"]]
    assert (await rest_scene(local, room, "main"))["elements"][0]["deleted"] is True


async def test_rest_refusals(local: LocalServer) -> None:
    room = await local.create_room()
    base = f"/api/rooms/{room['room_id']}/boards"
    host = _auth(room["host_token"])
    cases = [
        ("POST", f"{base}/main/ops", {}, {"op": "upsert", "elements": [element("x")]}, 401,
         "auth_failed"),
        ("POST", f"{base}/main/ops", host, {"op": "upsert", "elements": [
            {**element("pen"), "points": [[1, float("nan")]]}]}, 400, "bad_request"),
        ("POST", f"{base}/main/ops", host, {"op": "teleport"}, 400, "bad_request"),
        ("POST", f"{base}/Bad%20Id/ops", host, {"op": "undo"}, 400, "bad_request"),
        ("GET", f"{base}/nothing", host, None, 404, "not_found"),
        ("GET", f"/api/rooms/r_doesnotexist00/boards", host, None, 403, "wrong_room"),
    ]
    for method, path, headers, body, status, code in cases:
        kwargs = {"headers": headers}
        if body is not None:
            kwargs["data"] = __import__("json").dumps(body)  # NaN survives as a JSON token
            kwargs["headers"] = {**headers, "Content-Type": "application/json"}
        got, answer, _ = await local.request(method, path, **kwargs)
        assert (got, answer["error"]) == (status, code), (path, answer)
    huge = b'{"op": "upsert", "elements": [' + b" " * 250_000 + b"]}"  # > 4 x max_op_bytes
    status, body, _ = await local.request("POST", f"{base}/main/ops", data=huge, headers={
        **host, "Content-Type": "application/json"})
    assert (status, body["error"]) == (413, "too_large")
    status, body, _ = await local.request("GET", base, headers=host)
    assert body["boards"] == []
    viewer = local.token(room["room_id"], "viewer", ["join", "subscribe"])
    status, _, _ = await local.request("POST", f"{base}/main/ops", headers=_auth(viewer),
                                       json={"op": "upsert", "elements": [element("pen")]})
    assert status == 200  # permission "everyone": any token of the room draws
    await local.request("POST", f"{base}/main/ops", headers=host, json={"op": "clear"})
    status, body, _ = await local.request("POST", f"{base}/main/ops", headers=_auth(viewer),
                                          json={"op": "clear"})
    assert status == 403 and body["error"] == "forbidden"


async def test_png_of_a_board_shows_its_marks(local: LocalServer) -> None:
    room = await local.create_room()
    host = _auth(room["host_token"])
    base = f"/api/rooms/{room['room_id']}/boards"
    marks = [element("rect", [[0, 0], [400, 200]], color="#0000ff", width=8),
             element("line", [[0, 300], [400, 300]], color="#ff0000", width=10, index="a1"),
             element("text", [[20, 50]], color="#000000", text="撤离 route", font_size=30,
                     index="a2")]
    await local.request("POST", f"{base}/main/ops", headers=host,
                        json={"op": "upsert", "elements": marks})
    async with local.http.get(local.base_url + f"{base}/main.png", headers=host) as response:
        assert response.status == 200 and response.content_type == "image/png"
        image = cv2.imdecode(np.frombuffer(await response.read(), np.uint8), cv2.IMREAD_COLOR)
    # the page 1600 x 900 and beyond it (points +- width/2 + 20 margin) x from -25 (line),
    # y from -24 (rectangle); drawn at scale 1: scene (x, y) is pixel (x + 25, y + 24)
    h, w = image.shape[:2]
    assert (w, h) == (1625, 924)
    assert tuple(image[24 + 100, 25 + 0]) == (255, 0, 0)  # left edge of the blue rectangle
    assert tuple(image[24 + 300, 25 + 200]) == (0, 0, 255)  # the red line
    assert tuple(image[24 + 100, 25 + 300]) == (255, 255, 255)  # inside: background
    text_area = image[24 + 50:24 + 90, 25 + 20:25 + 200]
    assert (text_area < 100).all(axis=2).sum() > 50  # dark glyph pixels (CJK via Pillow)


async def test_pdf_has_one_page_per_board(local: LocalServer) -> None:
    room = await local.create_room()
    host = _auth(room["host_token"])
    base = f"/api/rooms/{room['room_id']}/boards"
    for board_id in ("main", "map", "zz"):
        await local.request("POST", f"{base}/{board_id}/ops", headers=host, json={
            "op": "upsert", "elements": [element("ellipse", [[0, 0], [300, 100]])]})
    async with local.http.get(local.base_url + f"/api/rooms/{room['room_id']}/boards.pdf",
                              headers=host) as response:
        assert response.status == 200 and response.content_type == "application/pdf"
        pdf = await response.read()
    assert pdf.startswith(b"%PDF-1.4") and pdf.rstrip().endswith(b"%%EOF")
    assert b"/Count 3" in pdf and len(re.findall(rb"/Type /Page\b", pdf)) == 3
    check_xref(pdf)


def test_pdf_images_decode_back_to_the_pixels() -> None:
    image = np.zeros((20, 30, 3), np.uint8)
    image[:, :, 2] = 200  # red in BGR
    pdf = build_pdf([image], title="测试")
    check_xref(pdf)
    start = pdf.index(b"stream\n") + len(b"stream\n")
    length = int(re.search(rb"/Length (\d+) >>\nstream", pdf).group(1))
    rgb = np.frombuffer(zlib.decompress(pdf[start:start + length]), np.uint8).reshape(20, 30, 3)
    assert (rgb[:, :, 0] == 200).all() and (rgb[:, :, 1:] == 0).all()


def check_xref(pdf: bytes) -> None:
    """Every object offset in the cross-reference table points at its `n 0 obj`."""
    xref_at = int(pdf.rsplit(b"startxref\n", 1)[1].split(b"\n")[0])
    lines = pdf[xref_at:].split(b"\n")
    count = int(lines[1].split()[1])
    for number in range(1, count):
        offset = int(lines[2 + number].split()[0])
        assert pdf[offset:].startswith(b"%d 0 obj" % number)


async def test_operations_go_to_the_node_holding_the_room(start_local: Any) -> None:
    secret = {"COMMANDPOST_SERVER_SECRET": "s" * 40}
    a, b = await start_local(secret), await start_local(secret)
    room = await a.create_room()
    alice, _ = await a.joined_client(room, "Alice")  # the room lives on node a now
    path = f"/api/rooms/{room['room_id']}/boards/main/ops"
    status, body, headers = await b.request(
        "POST", path, headers=_auth(room["host_token"]), allow_redirects=False,
        json={"op": "upsert", "elements": [element("pen")]})
    assert status == 307 and headers["Location"] == a.base_url + path
    status, body, _ = await a.request("POST", path, headers=_auth(room["host_token"]),
                                      json={"op": "upsert", "elements": [element("pen")]})
    assert status == 200
    await alice.recv("wb_elements", board_id="main")
    # any node reads what is stored
    status, scene, _ = await b.request("GET", f"/api/rooms/{room['room_id']}/boards/main",
                                       headers=_auth(room["host_token"]))
    assert status == 200 and len(scene["elements"]) == 1
