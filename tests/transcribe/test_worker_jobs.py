"""The worker's job handling with real rooms and a real model: max_meetings holds further
jobs back, max_speakers skips extra tracks, switching a room off makes the worker leave and
take the next job, and an emptied room ends its job after idle_stop_s."""

from __future__ import annotations

import asyncio

from tr_helpers import InProcessWorker, Speaker

from transcribe import keys
from transcribe.store import TranscriptStore


async def _until(predicate, what: str, timeout: float = 20.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not await predicate():
        assert loop.time() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.1)


async def test_meeting_and_speaker_limits_stop_and_idle_end(local, models):
    store = TranscriptStore(local.redis)
    rooms = [await local.create_room(name) for name in ("One", "Two")]
    speakers = {}
    for room in rooms:
        speakers[room["room_id"]] = [await Speaker.join(local, room, "Alice"),
                                     await Speaker.join(local, room, "Bob")]
        status, _, _ = await local.request(
            "PUT", f"/api/rooms/{room['room_id']}/transcription", json={"enabled": True},
            headers={"Authorization": f"Bearer {room['host_token']}"})
        assert status == 200
    first, second = (r["room_id"] for r in rooms)
    extra = {"COMMANDPOST_TRANSCRIBE_MAX_MEETINGS": "1",
             "COMMANDPOST_TRANSCRIBE_MAX_SPEAKERS": "1",
             "COMMANDPOST_TRANSCRIBE_IDLE_STOP_S": "1"}
    async with InProcessWorker(local, models, extra) as worker:
        async def running(room_id: str) -> bool:
            return (await store.meta(room_id)).get("status") == "running"

        await _until(lambda: running(first), "the first room to run")
        meeting = next(iter(worker.running.values())).meeting
        await _until(lambda: _true(meeting is not None and len(meeting.streams) == 1),
                     "one speaker stream")
        await asyncio.sleep(1.0)
        # max_meetings = 1: the second room's job waits in the stream, untaken.
        assert (await store.meta(second))["status"] == "queued"
        assert [r.job.room_id for r in worker.running.values()] == [first]
        # max_speakers = 1: Bob's track is drained, not transcribed.
        assert len(meeting.streams) == 1

        status, _, _ = await local.request(
            "PUT", f"/api/rooms/{first}/transcription", json={"enabled": False},
            headers={"Authorization": f"Bearer {rooms[0]['host_token']}"})
        assert status == 200
        await _until(lambda: running(second), "the second room to run after the first stops")
        assert (await store.meta(first))["status"] == "stopped"
        assert not await local.redis.exists(keys.job(first))

        # Everyone leaves the second room: the job ends after idle_stop_s.
        for speaker in speakers[second]:
            await speaker.ws.send({"type": "leave"})
            await speaker.close()
        await _until(lambda: _status_is(store, second, "ended"), "the idle room to end")
        assert not await local.redis.exists(keys.job(second))
        assert await local.redis.xlen(keys.JOBS) == 0
    for speaker in speakers[first]:
        await speaker.close()


async def _true(value: bool) -> bool:
    return value


async def _status_is(store: TranscriptStore, room_id: str, status: str) -> bool:
    return (await store.meta(room_id)).get("status") == status
