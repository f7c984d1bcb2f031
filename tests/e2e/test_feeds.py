"""Device feeds in Chromium: a GStreamer RTSP camera and an ffmpeg RTMP push, registered over
REST on a real server, decode in a meeting page beside a camera-publishing participant."""

from __future__ import annotations

import json
import time
import urllib.request
from pathlib import Path

import pytest
from media_tools.cameras import RtspCamera, end_process, rtmp_push
from media_tools.clips import make_clip

pytestmark = pytest.mark.slow


def api(server, method: str, path: str, token: str, body: dict | None = None) -> dict:
    request = urllib.request.Request(
        server.base_url + path, method=method,
        data=json.dumps(body).encode() if body is not None else None,
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read() or b"{}")


def frames_from(person, participant_id: str) -> int:
    return sum(r["framesDecoded"] for r in person.inbound()
               if r["participantId"] == participant_id and r["kind"] == "video")


def test_rtsp_and_rtmp_feeds_decode_in_chromium(server, people, tmp_path: Path):
    clip = make_clip(tmp_path / "clip.mp4", seconds=40, size="320x240",
                     extra=["-profile:v", "baseline"])
    camera = RtspCamera(file=clip)
    camera.start()
    push = None
    try:
        room = server.create_room("E2E feeds")
        room_id, host = room["room_id"], room["host_token"]
        alice, wall = people("Alice"), people("Wall")
        alice_id = alice.join(room["join_url"])
        wall.join(room["join_url"])
        wall.wait_for(lambda: frames_from(wall, alice_id) > 0, "Alice's video", 20)

        cam = api(server, "POST", f"/api/rooms/{room_id}/feeds", host,
                  {"kind": "rtsp", "url": camera.url, "name": "Gate camera"})
        drone = api(server, "POST", f"/api/rooms/{room_id}/feeds", host,
                    {"kind": "rtmp", "name": "Drone 7"})
        push = rtmp_push(clip, drone["ingest_url"], loop=True)

        for feed in (cam, drone):
            pid = feed["participant_id"]
            wall.wait_for(lambda: frames_from(wall, pid) > 10, f"{feed['name']} decoded", 30)
            before = frames_from(wall, pid)
            time.sleep(1.5)
            assert frames_from(wall, pid) > before + 10, f"{feed['name']} stalled"
            wall.wait_for(lambda: any(t["participantId"] == pid and t["name"] == feed["name"]
                                      and t["videoWidth"] == 320 for t in wall.tiles()),
                          f"{feed['name']} tile showing 320x240", 10)
        listed = api(server, "GET", f"/api/rooms/{room_id}/feeds", host)["feeds"]
        assert [(f["name"], f["state"]) for f in listed] == [("Gate camera", "live"),
                                                             ("Drone 7", "live")]
        # the meeting itself goes on: Alice still arrives
        before = frames_from(wall, alice_id)
        wall.wait_for(lambda: frames_from(wall, alice_id) > before + 10, "Alice still", 5)
    finally:
        if push is not None:
            end_process(push)
        camera.stop()
