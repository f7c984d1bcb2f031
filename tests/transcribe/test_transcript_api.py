"""REST: transcript (JSON, SRT, text), the per-room transcription switch, word search, and
their refusals. Segments are written through TranscriptStore (the worker's own path)."""

from __future__ import annotations

import asyncio

from transcribe import keys
from transcribe.store import TranscriptStore


def _segment(room_id: str, n: int, speaker: str, text: str, start_ms: int,
             started_at: int = 1_795_000_000_000) -> dict:
    words, t = [], start_ms
    for w in text.split():
        words.append({"w": w, "start_ms": t, "end_ms": t + 400, "conf": 0.9})
        t += 500
    return {"id": f"{started_at + start_ms}-p_{speaker}-{n}", "room_id": room_id,
            "speaker_id": f"p_{speaker}", "speaker": speaker, "start_ms": start_ms,
            "end_ms": t - 100, "start_at_ms": started_at + start_ms,
            "end_at_ms": started_at + t - 100, "text": text, "words": words, "lang": "ko",
            "final": True}


async def _store_segments(local, room_id: str, items: list[tuple[str, str, int]]) -> list:
    from transcribe.search import tokenize
    store = TranscriptStore(local.redis)
    await store.mark_started(room_id, 1_795_000_000_000)
    segs = [_segment(room_id, i, who, text, at) for i, (who, text, at) in enumerate(items)]
    for seg in reversed(segs):  # stored out of order: readers sort by time
        await store.add_segment(seg, tokenize(seg["text"]))
    return segs


def _auth(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


async def test_transcript_json_srt_txt_and_attendance(local):
    room = await local.create_room()
    rid = room["room_id"]
    client, joined = await local.joined_client(room, name="Alice")
    segs = await _store_segments(local, rid, [("Alice", "안녕하세요 서울", 1500),
                                              ("Bob", "부산", 3_723_250)])
    await client.send({"type": "leave"})
    store = TranscriptStore(local.redis)
    for _ in range(100):  # the leave hook runs just after the socket closes
        if len(await store.attendance(rid)) == 2:
            break
        await asyncio.sleep(0.05)
    status, body, _ = await local.request("GET", f"/api/rooms/{rid}/transcript",
                                          headers=_auth(joined["token"]))
    assert status == 200
    assert body["segments"] == segs and body["started_at_ms"] == 1_795_000_000_000
    events = [(a["participant_id"], a["name"], a["event"]) for a in body["attendance"]]
    assert events == [(joined["participant_id"], "Alice", "join"),
                      (joined["participant_id"], "Alice", "leave")]
    status, srt, headers = await local.request("GET", f"/api/rooms/{rid}/transcript?format=srt",
                                               headers=_auth(room["host_token"]))
    assert status == 200 and headers["Content-Type"].startswith("application/x-subrip")
    assert srt.startswith("1\n00:00:01,500 --> 00:00:02,400\nAlice: 안녕하세요 서울\n\n2\n"
                          "01:02:03,250 --> 01:02:03,650\nBob: 부산\n")
    status, txt, _ = await local.request("GET", f"/api/rooms/{rid}/transcript?format=txt",
                                         headers=_auth(room["host_token"]))
    assert txt == "[00:00:01] Alice: 안녕하세요 서울\n[01:02:03] Bob: 부산\n"


async def test_transcript_refusals(local):
    room = await local.create_room()
    other = await local.create_room()
    rid = room["room_id"]
    path = f"/api/rooms/{rid}/transcript"
    assert (await local.request("GET", path))[0] == 401
    status, body, _ = await local.request("GET", path, headers=_auth(other["host_token"]))
    assert status == 403 and body["error"] == "wrong_room"
    status, body, _ = await local.request("GET", path + "?format=docx",
                                          headers=_auth(room["host_token"]))
    assert status == 400 and body["error"] == "bad_request"
    status, body, _ = await local.request("GET", "/api/rooms/bad%20id/transcript",
                                          headers=_auth(room["host_token"]))
    assert status == 404 and body["error"] == "room_not_found"
    ghost = local.token("r_gone", "x", ["join"])
    status, body, _ = await local.request("GET", "/api/rooms/r_gone/transcript",
                                          headers=_auth(ghost))
    assert status == 404 and body["error"] == "room_not_found"


async def test_switch_on_queues_one_job_and_refuses_bad_settings(start_local):
    local = await start_local({"COMMANDPOST_TRANSCRIBE_MAX_PHRASES": "3",
                               "COMMANDPOST_TRANSCRIBE_MAX_PHRASE_CHARS": "5"})
    room = await local.create_room()
    rid = room["room_id"]
    path = f"/api/rooms/{rid}/transcription"
    guest, joined = await local.joined_client(room, name="Guest")  # opens the room
    bad = [({"enabled": "yes"}, "enabled"), ({"enabled": True, "lang": "klingon!"}, "lang"),
           ({"enabled": True, "lang": "fr"}, "no vosk model"),
           ({"enabled": True, "phrases": "서울"}, "list"),
           ({"enabled": True, "phrases": ["a", "b", "c", "d"]}, "max_phrases"),
           ({"enabled": True, "phrases": ["서울특별시청앞"]}, "1 to 5")]
    for body, words in bad:
        status, reply, _ = await local.request("PUT", path, json=body,
                                               headers=_auth(room["host_token"]))
        assert status == 400 and words in reply["message"], (body, reply)
    status, reply, _ = await local.request("PUT", path, json={"enabled": True},
                                           headers=_auth(joined["token"]))
    assert status == 403 and reply["error"] == "forbidden"
    assert await local.redis.xlen(keys.JOBS) == 0 if await local.redis.exists(keys.JOBS) else True
    status, state, _ = await local.request("GET", path, headers=_auth(joined["token"]))
    assert state["enabled"] is False and state["status"] == "off"

    for _ in range(2):
        status, state, _ = await local.request(
            "PUT", path, json={"enabled": True, "lang": "ko", "phrases": ["서울", "부산"]},
            headers=_auth(room["host_token"]))
        assert status == 200
    assert state["enabled"] is True and state["phrases"] == ["서울", "부산"]
    assert state["status"] == "queued" and state["languages"] == ["ko"]
    await guest.recv("transcription", timeout=5, enabled=True)  # the room is told
    entries = await local.redis.xrange(keys.JOBS)
    assert [e[1]["room_id"] for e in entries] == [rid]  # one job, not two
    status, state, _ = await local.request("PUT", path, json={"enabled": False},
                                           headers=_auth(room["host_token"]))
    assert state["enabled"] is False and state["status"] == "stopped"
    await guest.close()


async def test_auto_start_queues_a_job_when_a_room_opens(start_local):
    local = await start_local({"COMMANDPOST_TRANSCRIBE_AUTO_START": "true"})
    room = await local.create_room()
    assert not await local.redis.exists(keys.JOBS)
    await local.joined_client(room, name="Alice")
    entries = await local.redis.xrange(keys.JOBS)
    assert [e[1]["room_id"] for e in entries] == [room["room_id"]]
    meta = await TranscriptStore(local.redis).meta(room["room_id"])
    assert meta["status"] == "queued" and int(meta["started_at_ms"]) > 0


async def test_search_in_a_room_and_across_meetings(start_local):
    local = await start_local({"COMMANDPOST_SERVER_API_KEY": "k" * 24,
                               "COMMANDPOST_TRANSCRIBE_MAX_QUERY_CHARS": "20",
                               "COMMANDPOST_TRANSCRIBE_MAX_SEARCH_RESULTS": "2"})
    rooms = []
    for _ in range(2):
        status, room, _ = await local.request("POST", "/api/rooms", json={},
                                              headers=_auth("k" * 24))
        rooms.append(room)
    one, two = rooms
    await _store_segments(local, one["room_id"], [("Alice", "今天 的 会议 决定 明天 出发", 1000),
                                                  ("Bob", "好的 我 明天 出发", 5000)])
    await _store_segments(local, two["room_id"], [("Carol", "the meeting decided to leave", 2000),
                                                  ("Dan", "明天 出发 吗", 9000)])
    status, body, _ = await local.request(
        "GET", f"/api/search?q=明天出发&room_id={one['room_id']}", headers=_auth(one["host_token"]))
    assert status == 200 and body["tokens"] == ["明天", "出发"]
    assert [(h["speaker"], h["start_ms"]) for h in body["results"]] == [("Bob", 5000),
                                                                        ("Alice", 1000)]
    assert body["results"][1]["at_ms"] == 3000  # the first matched word of Alice's segment
    status, body, _ = await local.request("GET", "/api/search?q=明天",
                                          headers=_auth("k" * 24))
    # Three segments hold 明天, newest first, cut at max_search_results (2).
    assert [h["speaker"] for h in body["results"]] == ["Dan", "Bob"]
    status, body, _ = await local.request("GET", "/api/search?q=MEETING",
                                          headers=_auth("k" * 24))
    assert [(h["room_id"], h["speaker"]) for h in body["results"]] == [(two["room_id"], "Carol")]
    status, body, _ = await local.request("GET", "/api/search?q=会议室不存在",
                                          headers=_auth("k" * 24))
    assert body["results"] == []


async def test_search_refusals(start_local):
    local = await start_local({"COMMANDPOST_TRANSCRIBE_MAX_QUERY_CHARS": "20"})
    room = await local.create_room()
    q = "/api/search?q="
    assert (await local.request("GET", q + "明天"))[1]["error"] == "forbidden"  # no api_key
    status, body, _ = await local.request("GET", q + "x" * 21 + f"&room_id={room['room_id']}",
                                          headers=_auth(room["host_token"]))
    assert status == 400 and "20" in body["message"]
    status, body, _ = await local.request("GET", q + f"&room_id={room['room_id']}",
                                          headers=_auth(room["host_token"]))
    assert status == 400
    status, body, _ = await local.request("GET", q + "明天&room_id=" + room["room_id"])
    assert status == 401
    keyed = await start_local({"COMMANDPOST_SERVER_API_KEY": "k" * 24})
    status, body, _ = await keyed.request("GET", q + "明天", headers=_auth("wrong"))
    assert status == 401 and body["error"] == "auth_failed"


async def test_host_switches_transcription_over_the_socket(local):
    room = await local.create_room()
    rid = room["room_id"]
    host, _ = await local.joined_client(room, name="Host", host=True)
    guest, _ = await local.joined_client(room, name="Guest")
    for client in (host, guest):  # joining tells whether the room is transcribed
        assert (await client.recv("transcription", timeout=5))["enabled"] is False
    await guest.send({"type": "transcription", "enabled": True})
    assert (await guest.recv("error", timeout=5))["code"] == "forbidden"
    await host.send({"type": "transcription", "enabled": "yes"})
    assert (await host.recv("error", timeout=5))["code"] == "bad_message"
    assert not await local.redis.exists(keys.JOBS)

    await host.send({"type": "transcription", "enabled": True})
    for client in (host, guest):
        assert (await client.recv("transcription", timeout=5))["enabled"] is True
    assert [e[1]["room_id"] for e in await local.redis.xrange(keys.JOBS)] == [rid]
    late, _ = await local.joined_client(room, name="Late")
    assert (await late.recv("transcription", timeout=5))["enabled"] is True
    await host.send({"type": "transcription", "enabled": False})
    assert (await guest.recv("transcription", timeout=5))["enabled"] is False
    meta = await TranscriptStore(local.redis).meta(rid)
    assert meta["status"] == "stopped"
