"""Korean speech from espeak-ng, published by an aiortc client through the SFU, comes back
as captions to the other participants and as stored transcript segments with the right
speaker and plausible times (real Redis, real WebRTC, real vosk model)."""

from __future__ import annotations

import asyncio

from tr_helpers import InProcessWorker, Speaker, wait_segments
from tr_speech import speak

from transcribe.store import TranscriptStore

PHRASES = ["안녕하세요", "감사합니다", "서울", "부산", "화재", "구급차"]


async def _enable(local, room, phrases=None, lang=None):
    body = {"enabled": True}
    if phrases is not None:
        body["phrases"] = phrases
    status, state, _ = await local.request(
        "PUT", f"/api/rooms/{room['room_id']}/transcription", json=body,
        headers={"Authorization": f"Bearer {room['host_token']}"})
    assert status == 200, state
    return state


async def test_phrase_list_speech_comes_back_with_speaker_and_times(local, models, speech_dir):
    room = await local.create_room()
    await _enable(local, room, PHRASES)
    listener, _ = await local.joined_client(room, name="Bob")
    alice = await Speaker.join(local, room, "Alice")
    store = TranscriptStore(local.redis)
    async with InProcessWorker(local, models):
        await listener.recv("participant_joined", timeout=5)  # (Alice, for Bob)
        await asyncio.sleep(2.0)  # the worker joins and is offered Alice's track
        said = [alice.mic.say(speak("안녕하세요", speech_dir))]
        await alice.mic.until_quiet()
        await asyncio.sleep(1.0)
        said.append(alice.mic.say(speak("서울", speech_dir)))
        segments = await wait_segments(store, room["room_id"], 2)
        caption = await listener.recv("caption", timeout=10, final=True)
    await alice.close()

    assert [s["text"] for s in segments] == ["안녕하세요", "서울"]
    for seg, (start, end) in zip(segments, said):
        assert seg["speaker_id"] == alice.id and seg["speaker"] == "Alice"
        assert seg["lang"] == "ko" and seg["final"] is True
        # Word times lie within the spoken clip (espeak pads a little silence; the network
        # and jitter buffer add a few tens of ms).
        assert start * 1000 - 500 <= seg["start_at_ms"] < seg["end_at_ms"] <= end * 1000 + 1000
        assert seg["end_ms"] - seg["start_ms"] == seg["end_at_ms"] - seg["start_at_ms"]
        assert 0 <= seg["start_ms"]
        assert seg["words"][0]["w"] == seg["text"] and 0 < seg["words"][0]["conf"] <= 1
    assert caption["speaker"] == "Alice" and caption["text"] == "안녕하세요"
    assert caption["segment_id"] == segments[0]["id"]
    partials = [m for m in listener.of_type("caption") if not m["final"]]
    assert partials and partials[0]["speaker_id"] == alice.id
