"""The recorder's limits with a worker process: max_tracks, max_jobs, idle_stop_s; and the
config rule heartbeat_s < claim_idle_s."""

from __future__ import annotations

from pathlib import Path

import pytest

from rec_helpers import RecorderProcess, wait_until
from recorder.config import RecorderConfig
from recorder.store import RecordingStore
from rtc_peer import MediaPeer
from signaling.config_fields import ConfigError


def test_heartbeat_must_be_below_claim_idle() -> None:
    with pytest.raises(ConfigError, match="heartbeat_s .* must be below claim_idle_s"):
        RecorderConfig(heartbeat_s=5.0, claim_idle_s=5.0)


async def test_max_tracks_max_jobs_and_idle_stop(rec_node, rec_dir: Path, recorders,
                                                 tmp_path: Path) -> None:
    server = rec_node
    store = RecordingStore(server.redis)
    RecorderProcess.start(recorders, server, rec_dir, tmp_path, {
        "COMMANDPOST_RECORDER_MAX_TRACKS": "1", "COMMANDPOST_RECORDER_MAX_JOBS": "1",
        "COMMANDPOST_RECORDER_IDLE_STOP_S": "2"})
    busy, empty = await server.create_room("Busy"), await server.create_room("Empty")
    ws, _ = await server.joined_client(busy, "Alice", host=True)
    peer = MediaPeer(ws)
    await peer.publish()  # two tracks: microphone and camera
    await ws.send({"type": "recording_start"})
    first = await ws.recv("recording", timeout=30, state="recording")
    status, body, _ = await server.request(
        "POST", f"/api/rooms/{empty['room_id']}/recordings",
        headers={"Authorization": f"Bearer {empty['host_token']}"})
    assert status == 201, body
    second = body["recording_id"]

    async def one_file() -> bool:
        status, info, _ = await server.request(
            "GET", f"/api/recordings/{first['recording_id']}",
            headers={"Authorization": f"Bearer {busy['host_token']}"})
        return len(info["files"]) == 1
    await wait_until(one_file, 20, "the first track's file")
    # max_jobs = 1: the other room waits while this worker records the first.
    assert (await store.get(second)).state == "starting"  # type: ignore[union-attr]
    await peer.close()
    await ws.close()  # the room is empty: idle_stop_s later the recording ends

    async def finished(rid: str) -> bool:
        recording = await store.get(rid)
        return recording is not None and recording.state == "stopped"
    await wait_until(lambda: finished(first["recording_id"]), 30, "the idle stop")
    await wait_until(lambda: finished(second), 30, "the second room's turn")
    status, info, _ = await server.request(
        "GET", f"/api/recordings/{first['recording_id']}",
        headers={"Authorization": f"Bearer {busy['host_token']}"})
    assert len(info["files"]) == 1, "max_tracks = 1"
    done = [a for a in info["audit"] if a["action"] == "finished"]
    assert done and done[0]["detail"]["reason"] == "the room stayed empty"
    audit = await store.audit_log(second)
    assert audit[-1]["action"] == "finished"
    assert audit[-1]["detail"]["reason"] == "the room stayed empty"
