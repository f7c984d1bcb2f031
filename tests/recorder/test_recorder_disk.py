"""Disk full (a real 2 MiB tmpfs) and retention, with recorder worker processes."""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from rec_helpers import RecorderProcess, decode_all, wait_until
from recorder.store import RecordingStore
from rtc_peer import MediaPeer


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 2 MiB tmpfs, mostly filled: about 300 KiB stay free for the recording."""
    mount = tmp_path / "small"
    mount.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(mount)], check=True)
    try:
        (mount / "filler").write_bytes(b"\0" * (1740 * 1024))
        (mount / "recordings").mkdir()
        yield mount / "recordings"
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


@pytest.mark.slow
@pytest.mark.parametrize("min_free", [128 * 1024, 0], ids=["below-floor", "enospc"])
async def test_disk_full_stops_cleanly_and_tells_the_room(
        redis_url: str, tmp_path: Path, small_disk: Path, recorders, min_free: int) -> None:
    from local_node import start_node, stop_node
    from rec_helpers import node_env

    server = await start_node(redis_url, tmp_path / "node", node_env(small_disk))
    try:
        room = await server.create_room()
        ws, _ = await server.joined_client(room, "Host", host=True)
        peer = MediaPeer(ws)
        await peer.publish()
        worker = RecorderProcess.start(recorders, server, small_disk, tmp_path, {
            "COMMANDPOST_RECORDER_MIN_FREE_BYTES": str(min_free)})
        await ws.send({"type": "recording_start"})
        message = await ws.recv("recording", timeout=90, state="stopped_disk_full")
        assert message["active"] is False
        rid = message["recording_id"]
        await peer.close()
        status, info, _ = await server.request(
            "GET", f"/api/recordings/{rid}",
            headers={"Authorization": f"Bearer {room['host_token']}"})
        assert status == 200 and info["state"] == "stopped_disk_full", info
        files = sorted((small_disk / rid).glob("*.webm"))
        assert files, "something was recorded"
        for path in files:
            assert decode_all(path) > 0  # what fit on the disk plays
        assert worker.proc.poll() is None, "the worker keeps running"
    finally:
        await stop_node(server)


async def test_retention_deletes_old_recordings(rec_node, rec_dir: Path, recorders,
                                                tmp_path: Path) -> None:
    server = rec_node
    store = RecordingStore(server.redis)
    room = await server.create_room()
    old, _ = await store.create(room["room_id"], "host")
    await store.finish(old, "stopped")
    await store.set_fields(old.recording_id, stopped_at=time.time() - 3 * 86400)
    await server.redis.delete(f"cp:rec:active:{room['room_id']}")
    fresh, _ = await store.create(room["room_id"], "host")
    await store.finish(fresh, "stopped")
    for recording in (old, fresh):
        (rec_dir / recording.recording_id).mkdir()
        (rec_dir / recording.recording_id / "s001-0001-p_1-camera-video.webm").write_bytes(b"x")
    await server.redis.delete("cp:rec:jobs")  # the jobs of these hand-made recordings
    RecorderProcess.start(recorders, server, rec_dir, tmp_path, {
        "COMMANDPOST_RECORDER_RETENTION_DAYS": "2",
        "COMMANDPOST_RECORDER_RETENTION_SWEEP_S": "0.5"})

    async def deleted() -> bool:
        current = await store.get(old.recording_id)
        return current is not None and current.state == "deleted"
    await wait_until(deleted, 30, "the old recording to be deleted")
    assert not (rec_dir / old.recording_id).exists()
    assert (rec_dir / fresh.recording_id).is_dir()
    assert (await store.get(fresh.recording_id)).state == "stopped"  # type: ignore[union-attr]
    audit = await store.audit_log(old.recording_id)
    assert audit[-1]["action"] == "deleted" and audit[-1]["actor"] == "retention"
    assert audit[-1]["detail"] == {"retention_days": 2.0}
    listed = [r.recording_id for r in await store.list_room(room["room_id"])]
    assert listed == [fresh.recording_id]
    assert os.path.isdir(rec_dir)
