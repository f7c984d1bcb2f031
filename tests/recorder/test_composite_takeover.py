"""A recorder worker process SIGKILLed in the middle of a composite build: its build child
dies with it, and another worker process claims the job and builds the composite once."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
import redis.asyncio as aioredis
from composite_helpers import Person, Tone, chain_manifest, make_recording

from rec_helpers import RecorderProcess, wait_until
from recorder.composite.job import enqueue_composite
from recorder.manifest import verify_chain
from recorder.store import RecordingStore

SLOW_BUILD = {"COMMANDPOST_RECORDER_COMPOSITE_WIDTH": "1280",
              "COMMANDPOST_RECORDER_COMPOSITE_HEIGHT": "720",
              "COMMANDPOST_RECORDER_COMPOSITE_FPS": "30"}


def build_children(rid: str) -> list[int]:
    """Pids of running `python -m recorder.composite` processes for recording `rid`."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().split(b"\0")
            state = (entry / "stat").read_text().split(") ", 1)[1][0]
        except OSError:
            continue
        if b"recorder.composite" in cmdline and any(rid.encode() in a for a in cmdline) \
                and state != "Z":
            found.append(int(entry.name))
    return found


@pytest.mark.slow
async def test_killed_worker_takes_its_build_along_and_another_finishes(
        rec_node, rec_dir: Path, recorders, redis_url: str, tmp_path: Path) -> None:
    client = aioredis.Redis.from_url(redis_url, decode_responses=True)
    store = RecordingStore(client)
    try:
        recording, _ = await store.create("room1", "host")
        rid = recording.recording_id
        people = [Person("pa", "甲", 0, 30_000, color=(40, 40, 200),
                         tones=[Tone(0, 30_000, 440, 0.3)]),
                  Person("pb", "乙", 0, 30_000, color=(200, 60, 40))]
        directory = make_recording(rec_dir / rid, people, recording_id=rid)
        await store.finish(recording, "stopped")
        await store.set_fields(rid, chain_head=chain_manifest(directory))

        first = RecorderProcess.start(recorders, rec_node, rec_dir, tmp_path, SLOW_BUILD)
        await enqueue_composite(store, rid, "tester")

        async def building() -> list[int]:
            state = await client.hget(f"cp:rec:{rid}", "composite_state")
            return build_children(rid) if state == "building" else []

        children = await wait_until(building, 60, "a build to start", interval=0.1)
        first.kill()

        async def gone() -> bool:
            return not any(Path(f"/proc/{pid}").exists() and pid in build_children(rid)
                           for pid in children)

        await wait_until(gone, 10, "the build child to die with its worker")
        assert not list(directory.glob("composite-*.mp4"))

        second = RecorderProcess.start(recorders, rec_node, rec_dir, tmp_path, SLOW_BUILD)

        async def done() -> str | None:
            state = await client.hget(f"cp:rec:{rid}", "composite_state")
            assert state != "failed", await client.hget(f"cp:rec:{rid}", "composite_error")
            return state if state == "done" else None

        try:
            await wait_until(done, 240, "the second worker's composite", interval=0.5)
        except AssertionError:
            raise AssertionError(second.log()[-3000:]) from None
        manifest = json.loads((directory / "manifest.json").read_text())
        composites = [f["name"] for f in manifest["files"] if f["kind"] == "composite"]
        assert composites == ["composite-01.mp4"]
        assert verify_chain(manifest["chain"]) is None
        assert not [p for p in os.listdir(directory) if p.endswith(".partial")]
        log = await store.audit_log(rid)
        composited = [a for a in log if a["action"] == "composited"]
        assert len(composited) == 1 and first.proc.pid != second.proc.pid
        assert str(second.proc.pid) in composited[0]["actor"]
    finally:
        await client.aclose()
