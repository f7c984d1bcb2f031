"""A transcriber process killed mid-meeting loses no stored segment, and a new worker takes
its job over (XAUTOCLAIM after claim_idle_s) and carries on in the same transcript."""

from __future__ import annotations

import asyncio
import os
import signal

import pytest

from tr_helpers import Speaker, spawn_worker, wait_segments
from tr_speech import speak

from transcribe.store import TranscriptStore

WORDS = ["서울", "부산", "화재", "구급차"]


async def _say_until(speaker: Speaker, store: TranscriptStore, room_id: str, count: int,
                     speech_dir, timeout: float = 60.0) -> list[dict]:
    """Keep speaking phrase-list words until `count` segments are stored."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    turn = 0
    while True:
        segments = await store.segments(room_id)
        if len(segments) >= count:
            return segments
        assert loop.time() < deadline, f"only {len(segments)} segments: " \
            f"{[s['text'] for s in segments]}"
        speaker.mic.say(speak(WORDS[turn % len(WORDS)], speech_dir))
        turn += 1
        await speaker.mic.until_quiet()
        await asyncio.sleep(1.5)


@pytest.mark.slow
async def test_killed_worker_loses_no_segment_and_another_carries_on(local, speech_dir,
                                                                     tmp_path):
    room = await local.create_room()
    room_id = room["room_id"]
    status, _, _ = await local.request(
        "PUT", f"/api/rooms/{room_id}/transcription", json={"enabled": True, "phrases": WORDS},
        headers={"Authorization": f"Bearer {room['host_token']}"})
    assert status == 200
    alice = await Speaker.join(local, room, "Alice")
    store = TranscriptStore(local.redis)
    first = spawn_worker(local, "w-first", tmp_path / "worker.log")
    second = None
    try:
        before = await _say_until(alice, store, room_id, 2, speech_dir)
        assert (await store.meta(room_id))["worker"] == "w-first"
        os.kill(first.pid, signal.SIGKILL)
        first.wait(10)
        second = spawn_worker(local, "w-second", tmp_path / "worker.log")
        after = await _say_until(alice, store, room_id, len(before) + 2, speech_dir,
                                 timeout=90)
        meta = await store.meta(room_id)
    finally:
        for proc in (first, second):
            if proc is not None and proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
                proc.wait(20)
        await alice.close()
    assert meta["worker"] == "w-second" and meta["status"] == "running"
    ids = [s["id"] for s in after]
    assert all(seg["id"] in ids for seg in before)  # nothing stored was lost
    new = [s for s in after if s["id"] not in {b["id"] for b in before}]
    assert new and all(s["speaker"] == "Alice" and set(s["text"].split()) <= set(WORDS)
                       for s in new)
    assert min(s["start_at_ms"] for s in new) > max(s["start_at_ms"] for s in before)
