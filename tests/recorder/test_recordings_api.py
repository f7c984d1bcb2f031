"""The recordings REST API without media: grants, rooms, path traversal, auto-record,
the WS start/stop of the host button and the state every member sees."""

from __future__ import annotations

from pathlib import Path

import aiohttp
import pytest
from yarl import URL

from recorder.store import RecordingStore


async def _start(server, room, token: str) -> tuple[int, dict]:
    status, body, _ = await server.request(
        "POST", f"/api/rooms/{room['room_id']}/recordings",
        headers={"Authorization": f"Bearer {token}"})
    return status, body


async def test_grants_are_required(rec_node) -> None:
    server = rec_node
    room = await server.create_room()
    rid_room = room["room_id"]
    guest = server.token(rid_room, "guest", ["join", "publish", "subscribe"])
    admin_only = server.token(rid_room, "adm", ["join", "admin"])
    status, body = await _start(server, room, guest)
    assert status == 403 and body["error"] == "forbidden", body
    status, body = await _start(server, room, admin_only)
    assert status == 403, "admin does not imply record"
    status, body, _ = await server.request("POST", f"/api/rooms/{rid_room}/recordings")
    assert status == 401 and body["error"] == "auth_failed"
    status, body = await _start(server, room, room["host_token"])
    assert status == 201 and body["state"] == "starting", body
    rid = body["recording_id"]
    status, again = await _start(server, room, room["host_token"])
    assert status == 409 and again["recording_id"] == rid, "one recording per room at a time"
    for method, path in (("GET", f"/api/recordings/{rid}"),
                         ("POST", f"/api/recordings/{rid}/stop"),
                         ("GET", f"/api/recordings/{rid}/files/manifest.json"),
                         ("DELETE", f"/api/recordings/{rid}"),
                         ("GET", f"/api/rooms/{rid_room}/recordings")):
        status, body, _ = await server.request(method, path,
                                               headers={"Authorization": f"Bearer {guest}"})
        assert status == 403, (method, path, status, body)
    # A recorder token of another room does not see this room's recordings.
    other = await server.create_room("Other")
    status, body, _ = await server.request(
        "GET", f"/api/recordings/{rid}",
        headers={"Authorization": f"Bearer {other['host_token']}"})
    assert status == 404 and body["error"] == "not_found"
    # Deleting a running recording is refused; stopping it is audited.
    host = {"Authorization": f"Bearer {room['host_token']}"}
    status, body, _ = await server.request("DELETE", f"/api/recordings/{rid}", headers=host)
    assert status == 409
    status, body, _ = await server.request("POST", f"/api/recordings/{rid}/stop", headers=host)
    assert status == 202 and body["state"] == "stopping"
    status, body, _ = await server.request("GET", f"/api/recordings/{rid}", headers=host)
    assert [a["action"] for a in body["audit"]] == ["started", "stopped", "viewed"]
    assert body["audit"][0]["actor"].startswith("host")


@pytest.mark.parametrize("raw_name", [
    "..%2F..%2Fsecret", "%2e%2e", "%2E%2E%2Fmanifest.json", "%2Fetc%2Fpasswd",
    "manifest.json%00", "..", "...", "%5C..%5Cx.webm", "a%2Fb.webm", "~root.webm",
    "..%252f..%252fsecret",
])
async def test_file_names_never_reach_the_disk_unchecked(rec_node, rec_dir: Path,
                                                         raw_name: str) -> None:
    server = rec_node
    room = await server.create_room()
    (rec_dir.parent / "secret").write_text("not for you")
    _, body = await _start(server, room, room["host_token"])
    rid = body["recording_id"]
    url = URL(f"{server.base_url}/api/recordings/{rid}/files/{raw_name}", encoded=True)
    async with aiohttp.ClientSession() as http:
        async with http.get(url, headers={"Authorization": f"Bearer {room['host_token']}"}
                            ) as response:
            text = await response.text()
            assert "not for you" not in text
            assert response.status == 400, (raw_name, response.status, text)
            body = await response.json()
            assert body["error"] == "bad_request" and body["message"], body


async def test_auto_record_setting_and_late_joiners(rec_node) -> None:
    server = rec_node
    room = await server.create_room()
    room_id = room["room_id"]
    host = {"Authorization": f"Bearer {room['host_token']}"}
    status, body, _ = await server.request("PUT", f"/api/rooms/{room_id}/recording-settings",
                                           headers=host, json={"auto_record": "yes"})
    assert status == 400 and body["error"] == "bad_request"
    status, body, _ = await server.request("PUT", f"/api/rooms/{room_id}/recording-settings",
                                           headers=host, json={"auto_record": True})
    assert status == 200 and body["auto_record"] is True
    # The room opens with the first member: a recording starts, and members hear of it.
    ws, _ = await server.joined_client(room, "Guest")
    message = await ws.recv("recording", timeout=10)
    assert message["state"] == "starting" and message["active"] is True
    status, listed, _ = await server.request("GET", f"/api/rooms/{room_id}/recordings",
                                             headers=host)
    assert listed["auto_record"] is True and len(listed["recordings"]) == 1
    assert listed["recordings"][0]["started_by"] == "auto (room setting)"


async def test_host_button_over_websocket(rec_node) -> None:
    server = rec_node
    room = await server.create_room()
    host_ws, _ = await server.joined_client(room, "Host", host=True)
    guest_ws, _ = await server.joined_client(room, "Guest")
    await guest_ws.send({"type": "recording_start"})
    assert (await guest_ws.error("forbidden"))["code"] == "forbidden"
    await host_ws.send({"type": "recording_start"})
    started = await guest_ws.recv("recording", timeout=10)
    assert started["state"] == "starting"
    await host_ws.send({"type": "recording_start"})
    await host_ws.error("conflict")
    await host_ws.send({"type": "recording_stop"})
    stopping = await guest_ws.recv("recording", timeout=10, state="stopping")
    assert stopping["recording_id"] == started["recording_id"]
    store = RecordingStore(server.redis)
    audit = await store.audit_log(started["recording_id"])
    assert [a["action"] for a in audit] == ["started", "stopped"]


async def test_feeds_are_recorded_always_on(redis_url: str, tmp_path: Path, rec_dir: Path
                                            ) -> None:
    """recorder.record_feeds: a WHIP feed publishing into a room starts a recording."""
    from aiortc import RTCSessionDescription
    from local_node import start_node, stop_node
    from rec_helpers import node_env, wait_until
    from rtc_peer import LOOPBACK, SyntheticCamera, new_pc
    from sfu.aiortc_bridge import restrict_ice_addresses

    server = await start_node(redis_url, tmp_path / "feeds-node",
                              node_env(rec_dir, COMMANDPOST_RECORDER_RECORD_FEEDS="true"))
    drone = new_pc()
    try:
        room = await server.create_room()
        drone.addTransceiver(SyntheticCamera(), direction="sendonly")
        restrict_ice_addresses(drone, LOOPBACK)
        await drone.setLocalDescription(await drone.createOffer())
        token = server.token(room["room_id"], "drone-1", ["publish"], name="Drone 1")
        status, answer, _ = await server.request(
            "POST", f"/whip/{room['room_id']}", data=drone.localDescription.sdp.encode(),
            headers={"Content-Type": "application/sdp", "Authorization": f"Bearer {token}"})
        assert status == 201, answer
        await drone.setRemoteDescription(RTCSessionDescription(answer, "answer"))
        store = RecordingStore(server.redis)
        recording = await wait_until(lambda: store.active(room["room_id"]), 15,
                                     "a recording of the feed's room")
        assert recording.started_by == "auto (feed)"
        assert [a["action"] for a in await store.audit_log(recording.recording_id)] == \
            ["started"]
    finally:
        await drone.close()
        await stop_node(server)
