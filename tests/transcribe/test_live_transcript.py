"""Korean speech from espeak-ng, published by an aiortc client through the SFU, comes back
as captions to the other participants and as stored transcript segments with the right
speaker and plausible times (real Redis, real WebRTC, real vosk model)."""

from __future__ import annotations

import asyncio

import pytest

from tr_helpers import InProcessWorker, Speaker, wait_listening, wait_segments
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
    async with InProcessWorker(local, models) as worker:
        await wait_listening(worker, [alice.id])
        said = [alice.mic.say(speak("안녕하세요", speech_dir))]
        await alice.mic.until_quiet()
        await asyncio.sleep(1.0)
        said.append(alice.mic.say(speak("서울", speech_dir)))
        segments = await wait_segments(store, room["room_id"], 2)
        caption = await listener.recv("caption", timeout=10, final=True)
    await alice.close()

    # One segment per phrase said, in order (a phrase list may add a stray listed word at a
    # clip's noisy tail when the machine is loaded: the phrase itself must be there).
    assert len(segments) == 2, [s["text"] for s in segments]
    for seg, (start, end), phrase in zip(segments, said, ["안녕하세요", "서울"]):
        words = [w["w"] for w in seg["words"]]
        assert phrase in words and seg["text"] == " ".join(words)
        assert seg["speaker_id"] == alice.id and seg["speaker"] == "Alice"
        assert seg["lang"] == "ko" and seg["final"] is True
        # The phrase's time lies within the spoken clip (espeak pads a little silence; the
        # network and jitter buffer add a few tens of ms).
        word = seg["words"][words.index(phrase)]
        started = seg["start_at_ms"] - seg["start_ms"]  # the meeting start
        assert start * 1000 - 500 <= started + word["start_ms"] < started + word["end_ms"] \
            <= end * 1000 + 1000
        assert seg["end_ms"] - seg["start_ms"] == seg["end_at_ms"] - seg["start_at_ms"]
        assert 0 <= seg["start_ms"] and 0 < word["conf"] <= 1
    assert caption["speaker"] == "Alice" and "안녕하세요" in caption["text"].split()
    assert caption["segment_id"] == segments[0]["id"]
    partials = [m for m in listener.of_type("caption") if not m["final"]]
    assert partials and partials[0]["speaker_id"] == alice.id


async def test_free_text_returns_words(local, models, speech_dir):
    room = await local.create_room()
    await _enable(local, room)  # no phrase list: free text
    alice = await Speaker.join(local, room, "Alice")
    store = TranscriptStore(local.redis)
    async with InProcessWorker(local, models) as worker:
        await wait_listening(worker, [alice.id])
        alice.mic.say(speak("회의를 시작하겠습니다", speech_dir))
        segments = await wait_segments(store, room["room_id"], 1)
    await alice.close()
    words = segments[0]["words"]
    assert words and all(w["w"] and 0 <= w["conf"] <= 1 for w in words)
    assert segments[0]["text"] == " ".join(w["w"] for w in words)
    assert all(w["start_ms"] <= w["end_ms"] for w in words)
    assert segments[0]["speaker"] == "Alice"


@pytest.mark.slow
async def test_two_speakers_alternating_are_told_apart(local, models, speech_dir):
    room = await local.create_room()
    await _enable(local, room, PHRASES)
    alice = await Speaker.join(local, room, "Alice")
    bob = await Speaker.join(local, room, "Bob")
    store = TranscriptStore(local.redis)
    # The longer phrases: they survive a loaded machine's audio glitches best.
    turns = [(alice, "안녕하세요"), (bob, "감사합니다"), (alice, "감사합니다"), (bob, "안녕하세요")]
    async with InProcessWorker(local, models) as worker:
        await wait_listening(worker, [alice.id, bob.id])
        for who, text in turns:
            who.mic.say(speak(text, speech_dir))
            await who.mic.until_quiet()
            await asyncio.sleep(0.8)
        segments = await wait_segments(store, room["room_id"], 4)
    await alice.close()
    await bob.close()
    # Each turn is one segment of the right person holding the phrase said (a phrase list
    # may add a stray listed word at a clip's noisy tail: the attribution is what counts).
    assert [(s["speaker"], s["speaker_id"]) for s in segments] == \
        [(who.name, who.id) for who, _ in turns]
    for seg, (_, text) in zip(segments, turns):
        assert text in seg["text"].split(), (seg["text"], text)
    starts = [s["start_at_ms"] for s in segments]
    assert starts == sorted(starts)


@pytest.mark.slow
async def test_one_worker_transcribes_two_meetings_at_once(local, models, speech_dir):
    rooms = [await local.create_room(name) for name in ("North", "South")]
    speakers = []
    for room, name in zip(rooms, ("Alice", "Bob")):
        await _enable(local, room, PHRASES)
        speakers.append(await Speaker.join(local, room, name))
    store = TranscriptStore(local.redis)
    async with InProcessWorker(local, models) as worker:
        await wait_listening(worker, [s.id for s in speakers])
        assert len(worker.running) == 2
        speakers[0].mic.say(speak("서울", speech_dir))
        speakers[1].mic.say(speak("부산", speech_dir))
        north = await wait_segments(store, rooms[0]["room_id"], 1)
        south = await wait_segments(store, rooms[1]["room_id"], 1)
    for speaker in speakers:
        await speaker.close()
    assert [(s["speaker"], s["text"]) for s in north] == [("Alice", "서울")]
    assert [(s["speaker"], s["text"]) for s in south] == [("Bob", "부산")]
