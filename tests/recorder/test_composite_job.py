"""Composite jobs on a real Redis: a worker takes the job, builds in a child process, links
the MP4 into the manifest's hash chain; the time limit kills a build; running or tampered
recordings are refused; the REST route queues builds for the `record` grant only."""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib
import json
import subprocess
from pathlib import Path

import pytest
import redis.asyncio as aioredis
from composite_helpers import Person, Tone, chain_manifest, make_recording

from recorder.composite.job import GROUP, JOBS, CompositeWorker, enqueue_composite, \
    run_composite_job
from recorder.config import RecorderConfig
from recorder.manifest import entry_hash, verify_chain
from recorder.store import RecordingStore

SMALL = RecorderConfig(composite_width=320, composite_height=180, composite_fps=5,
                       heartbeat_s=0.5, claim_idle_s=3)
PEOPLE = [Person("pa", "王芳", 0, 4000, color=(40, 40, 200), tones=[Tone(0, 4000, 440, 0.4)]),
          Person("pb", "Li", 1000, 4000, color=(200, 60, 40), tones=[Tone(1000, 4000, 900, 0.4)])]


@pytest.fixture
async def store(redis_url: str):
    client = aioredis.Redis.from_url(redis_url, decode_responses=True)
    yield RecordingStore(client)
    await client.aclose()


async def stopped_recording(store: RecordingStore, root: Path,
                            people: list[Person] = PEOPLE) -> tuple[str, Path]:
    """A stopped recording in Redis whose directory holds real tracks and a chained
    manifest, as the recorder leaves it."""
    recording, _ = await store.create("room1", "host")
    rid = recording.recording_id
    directory = make_recording(root / rid, people, recording_id=rid)
    head = chain_manifest(directory)
    await store.finish(recording, "stopped")
    await store.set_fields(rid, chain_head=head)
    return rid, directory


async def field(store: RecordingStore, rid: str, name: str) -> str | None:
    return await store.redis.hget(f"cp:rec:{rid}", name)


async def wait_state(store: RecordingStore, rid: str, states: tuple[str, ...],
                     timeout: float = 90) -> str:
    for _ in range(int(timeout * 10)):
        state = await field(store, rid, "composite_state")
        if state in states:
            return state
        await asyncio.sleep(0.1)
    raise AssertionError(f"composite of {rid} still {state!r} after {timeout} s")


async def test_worker_builds_the_queued_composite_into_the_chain(store, tmp_path: Path) -> None:
    rid, directory = await stopped_recording(store, tmp_path)
    stop = asyncio.Event()
    worker = asyncio.create_task(CompositeWorker(store, tmp_path, SMALL, "w1").run(stop))
    try:
        await enqueue_composite(store, rid, "tester")
        assert await wait_state(store, rid, ("done", "failed")) == "done", \
            await field(store, rid, "composite_error")
    finally:
        stop.set()
        await asyncio.wait_for(worker, 10)
    manifest = json.loads((directory / "manifest.json").read_text())
    entry = manifest["files"][-1]
    assert entry["name"] == "composite-01.mp4" == await field(store, rid, "composite_file")
    assert entry["kind"] == "composite" and (entry["start_ms"], entry["end_ms"]) == (0, 4000)
    data = (directory / entry["name"]).read_bytes()
    assert entry["sha256"] == hashlib.sha256(data).hexdigest() and entry["bytes"] == len(data)
    assert verify_chain(manifest["chain"]) is None
    assert manifest["chain"][-1] == entry
    assert await field(store, rid, "chain_head") == manifest["chain_head"] == entry["entry_hash"]
    duration = subprocess.run(["ffprobe", "-v", "error", "-show_entries", "format=duration",
                               "-of", "default=nw=1:nk=1", str(directory / entry["name"])],
                              capture_output=True, text=True, check=True).stdout
    assert abs(float(duration) - 4.0) < 0.5
    actions = [a["action"] for a in await store.audit_log(rid)]
    assert actions[-2:] == ["composite_queued", "composited"]
    assert (await store.redis.xpending(JOBS, GROUP))["pending"] == 0
    assert not list(directory.glob(".*partial"))


async def test_build_over_the_time_limit_is_killed(store, tmp_path: Path) -> None:
    """composite_timeout_s: a build of two minutes of meeting cannot finish in 1 s."""
    long = [Person("pa", "A", 0, 120_000, tones=[Tone(0, 120_000, 300, 0.3)])]
    rid, directory = await stopped_recording(store, tmp_path, long)
    before = (directory / "manifest.json").read_text()
    config = dataclasses.replace(SMALL, composite_width=1280, composite_height=720,
                                 composite_fps=30, composite_timeout_s=1.0)
    entry = await run_composite_job(store.redis, directory, recording_id=rid, config=config)
    assert entry is None
    assert await field(store, rid, "composite_state") == "failed"
    assert "composite_timeout_s" in (await field(store, rid, "composite_error") or "")
    assert (directory / "manifest.json").read_text() == before
    assert not list(directory.glob("*.mp4")) and not list(directory.glob(".*partial"))
    assert await store.redis.get(f"cp:rec:composite_lock:{rid}") is None


async def test_running_or_tampered_recordings_are_not_composed(store, tmp_path: Path) -> None:
    rid, directory = await stopped_recording(store, tmp_path)
    await store.set_fields(rid, state="recording")
    assert await run_composite_job(store.redis, directory, recording_id=rid,
                                   config=SMALL) is None
    assert "still running" in (await field(store, rid, "composite_error") or "")
    await store.set_fields(rid, state="stopped")
    # A track file changed after the recording: its hash no longer matches its entry.
    original = (directory / "pa-microphone.webm").read_bytes()
    (directory / "pa-microphone.webm").write_bytes(original[:-100])
    assert await run_composite_job(store.redis, directory, recording_id=rid,
                                   config=SMALL) is None
    assert "does not match its SHA-256" in (await field(store, rid, "composite_error") or "")
    (directory / "pa-microphone.webm").write_bytes(original)
    # An entry edited to match (its hash recomputed): the chain is broken after it.
    manifest = json.loads((directory / "manifest.json").read_text())
    manifest["chain"][0]["participant_name"] = "someone else"
    manifest["chain"][0]["entry_hash"] = entry_hash(manifest["chain"][0])
    (directory / "manifest.json").write_text(json.dumps(manifest))
    assert await run_composite_job(store.redis, directory, recording_id=rid,
                                   config=SMALL) is None
    assert "hash chain is broken" in (await field(store, rid, "composite_error") or "")
    # The whole chain rebuilt consistently: its head differs from the one kept in Redis.
    manifest["files"][0]["participant_name"] = "someone else"
    (directory / "manifest.json").write_text(json.dumps(manifest))
    chain_manifest(directory)
    assert await run_composite_job(store.redis, directory, recording_id=rid,
                                   config=SMALL) is None
    assert "chain head in Redis" in (await field(store, rid, "composite_error") or "")
    assert not list(directory.glob("*.mp4"))


async def test_rest_route_queues_for_the_record_grant_only(rec_node, rec_dir: Path) -> None:
    server = rec_node
    room = await server.create_room()
    host = {"Authorization": f"Bearer {room['host_token']}"}
    status, body, _ = await server.request("POST", f"/api/rooms/{room['room_id']}/recordings",
                                           headers=host)
    assert status == 201, body
    rid = body["recording_id"]
    path = f"/api/recordings/{rid}/composite"
    guest = server.token(room["room_id"], "guest", ["join", "publish", "subscribe", "admin"])
    status, body, _ = await server.request("POST", path)
    assert status == 401
    status, body, _ = await server.request("POST", path,
                                           headers={"Authorization": f"Bearer {guest}"})
    assert status == 403 and body["error"] == "forbidden"
    status, body, _ = await server.request("POST", f"/api/recordings/r_{'0' * 16}/composite",
                                           headers=host)
    assert status == 404
    status, body, _ = await server.request("POST", "/api/recordings/..%2Fx/composite",
                                           headers=host)
    assert status in (404, 400)
    status, body, _ = await server.request("POST", path, headers=host)
    assert status == 409 and "stop the recording" in body["message"], body
    store = RecordingStore(server.node.services.store.redis)
    recording = await store.get(rid)
    await store.finish(recording, "stopped")
    status, body, _ = await server.request("POST", path, headers=host)
    assert status == 202 and body["state"] == "queued", body
    status, body, _ = await server.request("POST", path, headers=host)
    assert status == 409 and "already queued" in body["message"]
    status, body, _ = await server.request("GET", path, headers=host)
    assert status == 200 and body["state"] == "queued" and body["file"] is None
    entries = await store.redis.xrange(JOBS)
    assert [fields["recording_id"] for _id, fields in entries] == [rid]
