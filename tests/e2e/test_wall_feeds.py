"""Device feeds on the wall (Chromium, real server, ffmpeg RTMP push, an unreachable RTSP
camera): named tiles with the feed's configured position and marker, live video, red with
the reason when the feed is lost, gone when the feed is deleted."""

from __future__ import annotations

import json
import time
import urllib.request
from pathlib import Path

import pytest
from media_tools.cameras import end_process, free_port, rtmp_push
from media_tools.clips import make_clip

pytestmark = pytest.mark.slow
WALL = {"width": 1920, "height": 1080}
# The downlink estimate is pinned as in tests/signaling/test_feeds_media.py: these tests are
# about the wall, and bwe still reads the first low REMBs of a new subscriber as congestion.
PINNED_BWE = {f"COMMANDPOST_SFU_BWE_{key}_BPS": "50000000" for key in ("MIN", "START", "MAX")}


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_clip(tmp_path_factory.mktemp("clips") / "clip.mp4", seconds=20,
                     size="320x240", extra=["-profile:v", "baseline"])


def call(server, method: str, path: str, token: str, body: dict | None = None) -> tuple[int, dict]:
    request = urllib.request.Request(
        server.base_url + path, method=method,
        data=json.dumps(body).encode() if body is not None else None,
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as response:
        text = response.read()
        return response.status, json.loads(text) if text else {}


def tile(wall, name: str) -> dict | None:
    return next((t for t in wall.tiles() if t["name"] == name), None)


def test_feeds_on_the_wall_live_lost_and_removed(redis_url, start_commandpost, people, clip):
    server = start_commandpost(redis_url, PINNED_BWE)
    room = server.create_room("E2E wall feeds")
    feeds = f"/api/rooms/{room['room_id']}/feeds"
    host = room["host_token"]
    wall = people("Wall", viewport=WALL)
    wall.page.goto(f"{server.base_url}/wall/{room['share_code']}?operator=Operator Li")
    wall.wait_until("window.commandpost && commandpost.state === 'joined' && commandpost.layoutSource()", "wall joined", 15)

    _, drone = call(server, "POST", feeds, host, {"kind": "rtmp", "name": "Drone 7",
                                                  "location": {"lat": 31.2304, "lon": 121.4737}})
    closed_port = free_port()
    _, gate = call(server, "POST", feeds, host, {
        "kind": "rtsp", "name": "Gate camera", "url": f"rtsp://127.0.0.1:{closed_port}/stream1",
        "location": {"lat": 31.2281, "lon": 121.4690}})
    # Registered but not pushing yet: the tile is there, waiting, not red.
    first = wall.wait_for(lambda: tile(wall, "Drone 7"), "the drone's tile", 10)
    assert first["state"] == "connecting" and not first["lost"]
    assert "31.23040°N 121.47370°E" in first["label"]
    assert first["key"] == f"{drone['participant_id']}:feed"

    # The unreachable camera is lost, red, with the reason.
    lost = wall.wait_for(lambda: (t := tile(wall, "Gate camera")) and t["lost"] and t,
                         "the gate camera red", 20)
    assert lost["state"] == "lost" and "Signal lost: " in lost["label"]

    push = rtmp_push(clip, drone["ingest_url"], loop=True)
    try:
        live = wall.wait_for(lambda: (t := tile(wall, "Drone 7")) and t["state"] == "live"
                             and t["videoWidth"] == 320 and t, "the drone live on the wall", 25)
        assert not live["lost"]
        frames = live["frames"]
        wall.wait_for(lambda: tile(wall, "Drone 7")["frames"] > frames + 10, "frames rising", 5)
        markers = wall.page.eval_on_selector_all(
            ".map-marker-feed", "nodes => nodes.map(n => n.textContent).sort()")
        assert markers == ["Drone 7", "Gate camera"]
    finally:
        end_process(push)
    stopped = time.monotonic()
    wall.wait_for(lambda: tile(wall, "Drone 7")["lost"], "the drone red after its push ended", 10)
    print(f"drone tile red {time.monotonic() - stopped:.1f} s after the push ended")

    status, _ = call(server, "DELETE", f"{feeds}/{gate['feed_id']}", host)
    assert status == 204
    wall.wait_for(lambda: tile(wall, "Gate camera") is None, "the deleted feed's tile gone", 10)
    assert [m["name"] for m in wall.js("commandpost.map().markers")] == ["Drone 7"]
