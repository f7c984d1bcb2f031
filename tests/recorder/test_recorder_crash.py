"""SIGKILL of the recorder process mid-meeting: what it wrote plays, and another worker
process takes the job over and continues the recording in a new segment."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest

from rec_helpers import RecorderProcess, decode_all, demuxed, wait_until
from recorder.manifest import read_manifest, sha256_file, verify_chain
from rtc_peer import MediaPeer

pytestmark = pytest.mark.slow


async def test_killed_recorder_leaves_playable_files_and_is_replaced(
        rec_node, rec_dir: Path, recorders, tmp_path: Path) -> None:
    server = rec_node
    room = await server.create_room()
    auth = {"Authorization": f"Bearer {room['host_token']}"}
    ws, me = await server.joined_client(room, "Alice", host=True)
    peer = MediaPeer(ws)
    await peer.publish()
    first = RecorderProcess.start(recorders, server, rec_dir, tmp_path)
    status, body, _ = await server.request("POST", f"/api/rooms/{room['room_id']}/recordings",
                                           headers=auth)
    assert status == 201, body
    rid = body["recording_id"]
    await ws.recv("recording", timeout=30, state="recording")
    await asyncio.sleep(5)
    first.kill()
    killed_ms = (time.time() - float(body["started_at"])) * 1000

    # What the dead worker wrote plays: every packet decodes, at most ~2 s are missing.
    manifest = read_manifest(rec_dir / rid)
    assert manifest is not None and manifest["state"] == "recording"
    dead = [f for f in manifest["files"] if f["segment"] == 1]
    assert {f["kind"] for f in dead} == {"audio", "video"}, dead
    for entry in dead:
        path = rec_dir / rid / entry["name"]
        assert decode_all(path) > 0
        last_ms = demuxed(path)[-1][0]
        assert killed_ms - last_ms < 2000, (entry["name"], killed_ms, last_ms)
        assert last_ms - demuxed(path)[0][0] > 3000, "the first seconds are there"

    second = RecorderProcess.start(recorders, server, rec_dir, tmp_path)

    async def resumed() -> bool:
        data = read_manifest(rec_dir / rid)
        return bool(data) and any(f["segment"] == 2 and f["kind"] == "video"
                                  for f in data["files"])
    await wait_until(resumed, 30, f"segment 2 of {rid}\n{second.log()}")
    await asyncio.sleep(2)
    status, body, _ = await server.request("POST", f"/api/recordings/{rid}/stop", headers=auth)
    assert status == 202, body
    await ws.recv("recording", timeout=30, state="stopped")
    await peer.close()

    status, info, _ = await server.request("GET", f"/api/recordings/{rid}", headers=auth)
    assert status == 200 and info["state"] == "stopped", info
    assert info["custody"]["chain_ok"], info["custody"]
    segments = {s["segment"]: s for s in info["segments"]}
    assert segments[1]["end"] == "worker lost" and segments[2]["end"] == "stopped"
    for entry in info["files"]:
        path = rec_dir / rid / entry["name"]
        assert entry["sha256"] == sha256_file(path), entry
        decode_all(path)
    seg1_end = max(f["end_ms"] for f in info["files"] if f["segment"] == 1)
    seg2_start = min(f["start_ms"] for f in info["files"] if f["segment"] == 2)
    assert seg2_start >= seg1_end, "the new segment continues on the same clock"
    actions = [a["action"] for a in info["audit"]]
    assert actions[:4] == ["started", "resumed", "stopped", "finished"], actions
    data = read_manifest(rec_dir / rid)
    assert data is not None and verify_chain(data["chain"]) is None
    assert second.terminate() == 0
