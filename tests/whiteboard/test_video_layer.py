"""A video layer exported over a real snapshot of the video: the mark lands on the right
pixels (a real aiortc camera with a known picture, decoded through the node's own WHEP)."""

from __future__ import annotations

from typing import Any

import cv2
import numpy as np
import pytest
from local_node import LocalServer
from wb_helpers import (LEFT_BGR, PATTERN_SIZE, RIGHT_BGR, ack, element, publish_pattern,
                        upsert)

pytestmark = pytest.mark.slow
TOLERANCE = 45  # VP8 at a low bitrate shifts flat colours a little


def near(pixel: np.ndarray, bgr: tuple[int, int, int]) -> bool:
    return bool(np.abs(pixel.astype(int) - np.array(bgr)).max() <= TOLERANCE)


async def test_annotation_over_a_video_snapshot_at_the_right_spot(local: LocalServer) -> None:
    room = await local.create_room()
    host, _ = await local.joined_client(room, "Host", host=True)
    pc, track_id = await publish_pattern(host)
    try:
        board = f"track:{track_id}"
        mark = element("rect", [[0.25, 0.25], [0.75, 0.75]], color="#ff00ff", width=25)
        await host.send(upsert(board, mark, ref="m"))
        await ack(host, "m")
        auth = {"Authorization": f"Bearer {room['host_token']}"}
        url = f"{local.base_url}/api/rooms/{room['room_id']}/boards/{board}.png?snapshot=1"
        async with local.http.get(url, headers=auth) as response:
            assert response.status == 200, await response.text()
            image = cv2.imdecode(np.frombuffer(await response.read(), np.uint8),
                                 cv2.IMREAD_COLOR)
        h, w = image.shape[:2]
        assert (w, h) == PATTERN_SIZE  # drawn at the video's own size
        magenta = (255, 0, 255)
        # the rectangle's edges at the scaled coordinates: stroke 25/1000 of H = 6 px
        for x, y in ((0.25, 0.5), (0.75, 0.4), (0.4, 0.25), (0.6, 0.75)):
            assert tuple(image[round(y * h), round(x * w)]) == magenta, (x, y)
        # elsewhere the video itself, each half its own colour (so not mirrored or shifted)
        assert near(image[round(0.5 * h), round(0.1 * w)], LEFT_BGR)
        assert near(image[round(0.5 * h), round(0.4 * w)], LEFT_BGR)  # inside the rectangle
        assert near(image[round(0.5 * h), round(0.6 * w)], RIGHT_BGR)
        assert near(image[round(0.1 * h), round(0.9 * w)], RIGHT_BGR)

        # a stored snapshot for other packages (dispatch attaches these to tasks)
        status, snap, _ = await local.request(
            "POST", f"/api/rooms/{room['room_id']}/snapshots", headers=auth,
            json={"track_id": track_id})
        assert status == 201, snap
        assert (snap["width"], snap["height"]) == PATTERN_SIZE
        assert snap["url"] == f"/api/rooms/{room['room_id']}/snapshots/{snap['snapshot_id']}"
        async with local.http.get(local.base_url + snap["url"], headers=auth) as response:
            assert response.status == 200 and response.content_type == "image/jpeg"
            jpeg = cv2.imdecode(np.frombuffer(await response.read(), np.uint8),
                                cv2.IMREAD_COLOR)
        assert near(jpeg[120, 20], LEFT_BGR) and near(jpeg[120, 300], RIGHT_BGR)
        status, meta, _ = await local.request("GET", snap["url"] + ".json", headers=auth)
        assert meta["track_id"] == track_id and meta["taken_at"] == snap["taken_at"]
    finally:
        await pc.close()


async def test_snapshot_refusals(local: LocalServer) -> None:
    room = await local.create_room()
    auth = {"Authorization": f"Bearer {room['host_token']}"}
    path = f"/api/rooms/{room['room_id']}/snapshots"
    status, body, _ = await local.request("POST", path, headers=auth,
                                          json={"track_id": "t_nothere0000"})
    assert (status, body["error"]) == (404, "track_not_found")
    status, body, _ = await local.request("POST", path, headers=auth,
                                          json={"track_id": "../../x"})
    assert (status, body["error"]) == (400, "bad_request")
    status, body, _ = await local.request("GET", path + "/s_0123456789abcdef", headers=auth)
    assert (status, body["error"]) == (404, "not_found")


async def test_a_snapshot_of_an_audio_track_is_refused(local: LocalServer) -> None:
    from rtc_peer import MediaPeer

    room = await local.create_room()
    host, _ = await local.joined_client(room, "Host", host=True)
    peer = MediaPeer(host)
    try:
        await peer.publish(video=False, audio=True)
        tracks: list = []
        while not tracks:
            tracks = (await host.recv("tracks", timeout=10))["tracks"]
        status, body, _ = await local.request(
            "POST", f"/api/rooms/{room['room_id']}/snapshots",
            headers={"Authorization": f"Bearer {room['host_token']}"},
            json={"track_id": tracks[0]["track_id"]})
        assert (status, body["error"]) == (400, "bad_request")
        assert "not a video track" in body["message"]
    finally:
        await peer.close()


async def test_no_frame_within_the_snapshot_timeout(start_local: Any) -> None:
    local = await start_local({"COMMANDPOST_WHITEBOARD_SNAPSHOT_TIMEOUT_S": "1"})
    room = await local.create_room()
    host, _ = await local.joined_client(room, "Host", host=True)
    pc, track_id = await publish_pattern(host, frozen=True)
    try:
        status, body, _ = await local.request(
            "POST", f"/api/rooms/{room['room_id']}/snapshots",
            headers={"Authorization": f"Bearer {room['host_token']}"},
            json={"track_id": track_id})
        assert (status, body["error"]) == (503, "unavailable")
        assert "within 1 s" in body["message"]
    finally:
        await pc.close()


async def test_a_participant_in_the_room_may_snapshot_with_the_joined_token(
        local: LocalServer) -> None:
    """A wall that joined by share code holds only the `joined` REST token (publish_data):
    while it is in the room with subscribe it may take snapshots; once it left it may not."""
    room = await local.create_room()
    guest, joined = await local.joined_client(room, "Wall")
    assert "subscribe" in joined["grants"]
    auth = {"Authorization": f"Bearer {joined['token']}"}
    path = f"/api/rooms/{room['room_id']}/snapshots"
    status, body, _ = await local.request("POST", path, headers=auth,
                                          json={"track_id": "t_nothere0000"})
    assert (status, body["error"]) == (404, "track_not_found")  # past the grant check
    stranger = local.token(room["room_id"], "p_000000000000", ["publish_data"])
    status, body, _ = await local.request("POST", path, json={"track_id": "t_nothere0000"},
                                          headers={"Authorization": f"Bearer {stranger}"})
    assert (status, body["error"]) == (403, "forbidden")
    await guest.send({"type": "leave"})
    assert await guest.wait_closed() == 1000
    status, body, _ = await local.request("POST", path, headers=auth,
                                          json={"track_id": "t_nothere0000"})
    assert (status, body["error"]) == (403, "forbidden")
