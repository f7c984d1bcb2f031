"""REST of minutes: POST /api/minutes (JSON transcript, uploaded audio), the room's minutes
(generate, formats, edit, publish, who may see what), the dispatch hand-off stream, the
meeting-end hook, and every limit."""

from __future__ import annotations

import asyncio
import io
import json
import subprocess
import zipfile
from datetime import datetime
from xml.etree import ElementTree
from pathlib import Path

import aiohttp
import pytest
from minutes_samples import load, request_body

from transcribe import keys
from transcribe.minutes.store import ACTION_STREAM, MinutesStore
from transcribe.search import tokenize
from transcribe.store import TranscriptStore

W_NS = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
STARTED = 1_795_000_000_000  # 2026-11-18T11:06:40Z


def _auth(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


async def _post_json(local, token: str, body) -> tuple[int, dict]:
    status, out, _ = await local.request("POST", "/api/minutes", json=body, headers=_auth(token))
    return status, out


async def _store_meeting(local, room_id: str, sample: dict) -> None:
    """The sample's segments written the way the transcriber writes them."""
    store = TranscriptStore(local.redis)
    await store.mark_started(room_id, STARTED)
    for i, seg in enumerate(sample["segments"]):
        start, end = int(seg["start"] * 1000), int(seg["end"] * 1000)
        await store.add_segment({
            "id": f"{STARTED + start}-p{i % 3}-{i}", "room_id": room_id,
            "speaker_id": f"p{i % 3}", "speaker": seg["speaker"], "start_ms": start,
            "end_ms": end, "start_at_ms": STARTED + start, "end_at_ms": STARTED + end,
            "text": seg["text"], "words": [], "lang": sample["language"], "final": True},
            tokenize(seg["text"]))
    await store.set_status(room_id, "ended", lang=sample["language"])


async def test_post_json_transcript_gives_minutes(local):
    room = await local.create_room()
    sample = load("en_winter_storm")
    status, minutes = await _post_json(local, room["host_token"], request_body(sample))
    assert status == 200, minutes
    assert minutes["title"] == "Winter storm coordination" and minutes["language"] == "en"
    assert minutes["started_at"] == "2026-12-01T14:00:00-05:00"
    owners = {(a["owner"], a["deadline_date"]) for a in minutes["action_items"]}
    assert ("Priya Shah", "2026-12-02") in owners and ("Kevin Park", "2026-12-03") in owners
    assert any("agreed" in d["cue"] for d in minutes["decisions"])
    assert {a["name"] for a in minutes["attendees"]} >= {"Maria Lopez", "Tom Walsh"}
    first = minutes["action_items"][0]
    assert first["segment_id"].startswith("s") and first["recording_url"] is None
    assert len(minutes["transcript"]) == len(sample["segments"])


async def test_post_minutes_refusals(local):
    room = await local.create_room()
    body = request_body(load("zh_team_weekly"))
    guest = local.token(room["room_id"], "g1", ["join", "subscribe"])
    status, out = await _post_json(local, guest, body)
    assert status == 403 and out["error"] == "forbidden"
    status, out, _ = await local.request("POST", "/api/minutes", json=body)
    assert status == 401 and out["error"] == "auth_failed"
    for bad, words in [({**body, "language": "xx"}, "no minutes rules"),
                       ({**body, "date": "yesterday"}, "ISO 8601"),
                       ({**body, "segments": [{"speaker": "A", "start": 2, "end": 1,
                                               "text": "hi"}]}, "ends before"),
                       ({**body, "segments": []}, "non-empty")]:
        status, out = await _post_json(local, room["host_token"], bad)
        assert status == 400 and words in out["message"], out
    status, out, _ = await local.request("POST", "/api/minutes", data=b"{not json",
                                         headers={**_auth(room["host_token"]),
                                                  "Content-Type": "application/json"})
    assert status == 400 and out["error"] == "bad_json"


async def test_post_minutes_size_limits(start_local):
    local = await start_local({"COMMANDPOST_TRANSCRIBE_MINUTES_MAX_JSON_BYTES": "4096",
                               "COMMANDPOST_TRANSCRIBE_MINUTES_MAX_SEGMENTS": "5",
                               "COMMANDPOST_TRANSCRIBE_MINUTES_MAX_UPLOAD_BYTES": "2048"})
    room = await local.create_room()
    body = request_body(load("zh_team_weekly"))
    status, out = await _post_json(local, room["host_token"], body)  # > 4096 bytes
    assert status == 413 and out["error"] == "too_large"
    small = {**body, "segments": body["segments"][:6]}
    status, out = await _post_json(local, room["host_token"], small)  # 6 segments > 5
    assert status == 413 and "minutes_max_segments" in out["message"]
    status, out = await _post_json(local, room["host_token"], {**small, "segments":
                                                               small["segments"][:5]})
    assert status == 200
    form = aiohttp.FormData()
    form.add_field("language", "ko")
    form.add_field("date", "2026-12-03")
    form.add_field("file", b"\0" * 5000, filename="big.wav", content_type="audio/wav")
    status, out, _ = await local.request("POST", "/api/minutes", data=form,
                                         headers=_auth(room["host_token"]))
    assert status == 413 and "minutes_max_upload_bytes" in out["message"]


def _espeak_opus(path: Path, text: str, seconds_pad: float = 0.0) -> Path:
    wav = path.with_suffix(".wav")
    subprocess.run(["espeak-ng", "-v", "ko", "-s", "140", "-w", str(wav), text], check=True)
    cmd = ["ffmpeg", "-loglevel", "error", "-y", "-i", str(wav)]
    if seconds_pad:
        cmd += ["-af", f"apad=pad_dur={seconds_pad}"]
    subprocess.run(cmd + ["-c:a", "libopus", str(path)], check=True)
    return path


@pytest.mark.slow
async def test_post_audio_file_is_recognised_into_minutes(start_local, tmp_path):
    """Korean speech made by espeak-ng, in an Ogg/Opus file, recognised with the packaged
    vosk model; the Korean rules file (rules/ko.toml) makes the minutes."""
    local = await start_local({"COMMANDPOST_TRANSCRIBE_MINUTES_MAX_AUDIO_S": "20"})
    room = await local.create_room()
    audio = _espeak_opus(tmp_path / "ko.ogg", "내일까지 보고서를 제출하기로 결정했습니다. "
                                               "서울 부산 대전 회의를 시작합니다.")
    form = aiohttp.FormData()
    form.add_field("language", "ko")
    form.add_field("date", "2026-12-03T10:00:00+09:00")
    form.add_field("title", "음성 회의")
    form.add_field("file", audio.read_bytes(), filename="ko.ogg", content_type="audio/ogg")
    status, minutes, _ = await local.request("POST", "/api/minutes", data=form,
                                             headers=_auth(room["host_token"]))
    assert status == 200, minutes
    assert minutes["title"] == "음성 회의" and minutes["language"] == "ko"
    words = " ".join(s["text"] for s in minutes["transcript"]).split()
    assert len(words) >= 3  # free text from the real model
    seg = minutes["transcript"][0]
    assert 0 <= seg["start_ms"] < seg["end_ms"] <= 15000
    # Too long for minutes_max_audio_s: refused, not recognised.
    long_audio = _espeak_opus(tmp_path / "long.ogg", "서울", seconds_pad=25)
    form = aiohttp.FormData()
    form.add_field("language", "ko")
    form.add_field("date", "2026-12-03")
    form.add_field("file", long_audio.read_bytes(), filename="long.ogg")
    status, out, _ = await local.request("POST", "/api/minutes", data=form,
                                         headers=_auth(room["host_token"]))
    assert status == 413 and "longer than 20" in out["message"]
    form = aiohttp.FormData()
    form.add_field("language", "ko")
    form.add_field("date", "2026-12-03")
    form.add_field("file", b"this is not audio at all" * 10, filename="x.ogg")
    status, out, _ = await local.request("POST", "/api/minutes", data=form,
                                         headers=_auth(room["host_token"]))
    assert status == 400 and out["error"] == "bad_request"


async def test_room_minutes_generate_formats_edit_publish(local):
    room = await local.create_room("防汛工作调度会")
    rid, host = room["room_id"], room["host_token"]
    _, joined = await local.joined_client(room, name="Guest")
    member = joined["token"]
    status, out, _ = await local.request("GET", f"/api/rooms/{rid}/minutes", headers=_auth(host))
    assert status == 404
    status, out, _ = await local.request("POST", f"/api/rooms/{rid}/minutes",
                                         headers=_auth(host))
    assert status == 404 and "no transcript" in out["message"]
    await _store_meeting(local, rid, load("zh_flood_meeting"))
    status, out, _ = await local.request("POST", f"/api/rooms/{rid}/minutes",
                                         headers=_auth(member))
    assert status == 403  # only the host regenerates
    status, draft, _ = await local.request("POST", f"/api/rooms/{rid}/minutes",
                                           headers=_auth(host))
    assert status == 201 and draft["status"] == "draft" and draft["title"] == "防汛工作调度会"
    assert draft["language"] == "zh"
    assert datetime.fromisoformat(draft["started_at"]).timestamp() == STARTED / 1000
    owners = {a["owner"] for a in draft["action_items"]}
    assert {"刘洋", "张伟", "李娜", "办公室"} <= owners
    # Unpublished: members see nothing, even asking for the draft.
    status, out, _ = await local.request("GET", f"/api/rooms/{rid}/minutes", headers=_auth(member))
    assert status == 404 and "published" in out["message"]
    status, out, _ = await local.request("GET", f"/api/rooms/{rid}/minutes?version=draft",
                                         headers=_auth(member))
    assert status == 403
    # The host edits: a title, one action item's owner and deadline, a dropped decision.
    edit = {"title": "防汛调度会纪要", "decisions": draft["decisions"][1:],
            "action_items": [{**draft["action_items"][0], "owner": "刘洋",
                              "deadline": "2026-11-19T12:00"}] + draft["action_items"][1:]}
    status, edited, _ = await local.request("PUT", f"/api/rooms/{rid}/minutes", json=edit,
                                            headers=_auth(member))
    assert status == 403
    for bad in ({"title": ""}, {"action_items": [{"what": ""}]}, {"nonsense": 1},
                {"action_items": [{"what": "x", "deadline": "soon"}]}):
        status, out, _ = await local.request("PUT", f"/api/rooms/{rid}/minutes", json=bad,
                                             headers=_auth(host))
        assert status == 400, (bad, out)
    status, edited, _ = await local.request("PUT", f"/api/rooms/{rid}/minutes", json=edit,
                                            headers=_auth(host))
    assert status == 200 and edited["title"] == "防汛调度会纪要"
    assert edited["action_items"][0]["deadline"].startswith("2026-11-19T12:00")
    assert len(edited["decisions"]) == len(draft["decisions"]) - 1
    assert edited["action_items"][0]["id"] == draft["action_items"][0]["id"]
    # Formats of the draft (host).
    status, md, headers = await local.request("GET", f"/api/rooms/{rid}/minutes?format=md",
                                              headers=_auth(host))
    assert status == 200 and md.startswith("# 防汛调度会纪要") and "## 待办事项" in md
    status, page, _ = await local.request("GET", f"/api/rooms/{rid}/minutes?format=html",
                                          headers=_auth(host))
    assert status == 200 and "<h2>决定事项</h2>" in page and 'lang="zh"' in page
    async with local.http.get(f"{local.base_url}/api/rooms/{rid}/minutes?format=docx",
                              headers=_auth(host)) as response:
        assert response.status == 200
        data = await response.read()
    with zipfile.ZipFile(io.BytesIO(data)) as package:
        assert {"[Content_Types].xml", "_rels/.rels", "word/document.xml"} <= set(
            package.namelist())
        document = package.read("word/document.xml").decode()
    assert "防汛调度会纪要" in document and "刘洋" in document
    root = ElementTree.fromstring(document)  # well-formed WordprocessingML
    assert root.tag == f"{{{W_NS}}}document" and root.find(f"{{{W_NS}}}body") is not None
    status, out, _ = await local.request("GET", f"/api/rooms/{rid}/minutes?format=pdf",
                                         headers=_auth(host))
    assert status == 400
    # Publish: members read it; action items go out on the dispatch stream.
    status, out, _ = await local.request("POST", f"/api/rooms/{rid}/minutes/publish",
                                         headers=_auth(member))
    assert status == 403
    status, published, _ = await local.request("POST", f"/api/rooms/{rid}/minutes/publish",
                                               headers=_auth(host))
    assert status == 200 and published["status"] == "published"
    status, seen, _ = await local.request("GET", f"/api/rooms/{rid}/minutes", headers=_auth(member))
    assert status == 200 and seen["title"] == "防汛调度会纪要" and seen["status"] == "published"
    entries = await local.redis.xrange(ACTION_STREAM)
    mine = [fields for _, fields in entries if fields["room_id"] == rid]
    assert len(mine) == len(edited["action_items"])
    task = json.loads(mine[0]["task"])
    assert task["source"] == {"kind": "minutes_action_item", "room_id": rid,
                              "item_id": edited["action_items"][0]["id"]}
    assert mine[0]["owner"] == "刘洋" and task["deadline"] > 1_795_000_000
    # A regenerated draft does not change what members see until published again.
    status, _, _ = await local.request("POST", f"/api/rooms/{rid}/minutes", headers=_auth(host))
    status, seen, _ = await local.request("GET", f"/api/rooms/{rid}/minutes", headers=_auth(member))
    assert seen["title"] == "防汛调度会纪要"


async def test_other_room_token_and_unknown_room_are_refused(local):
    room, other = await local.create_room(), await local.create_room()
    status, out, _ = await local.request("GET", f"/api/rooms/{room['room_id']}/minutes",
                                         headers=_auth(other["host_token"]))
    assert status == 403 and out["error"] == "wrong_room"
    token = local.token("nosuchroom", "x", ["admin"])
    status, out, _ = await local.request("GET", "/api/rooms/nosuchroom/minutes",
                                         headers=_auth(token))
    assert status == 404 and out["error"] == "room_not_found"


async def test_minutes_made_when_the_meeting_ends(start_local):
    local = await start_local({"COMMANDPOST_TRANSCRIBE_MINUTES_WAIT_S": "10"})
    room = await local.create_room("Storm call")
    rid = room["room_id"]
    client, _ = await local.joined_client(room, name="Maria Lopez")
    sample = load("en_winter_storm")
    await _store_meeting(local, rid, sample)
    await local.redis.hset(keys.meta(rid), "status", "running")  # the worker is still busy
    await client.send({"type": "leave"})
    store = MinutesStore(local.redis)
    await asyncio.sleep(1.5)
    assert "draft" not in await store.get(rid)  # waits for the transcriber to finish
    await local.redis.hset(keys.meta(rid), "status", "ended")
    for _ in range(100):
        if "draft" in await store.get(rid):
            break
        await asyncio.sleep(0.1)
    draft = json.loads((await store.get(rid))["draft"])
    assert draft["title"] == "Storm call" and len(draft["action_items"]) >= 5
    names = {a["name"] for a in draft["attendees"]}
    assert "Maria Lopez" in names
    maria = next(a for a in draft["attendees"] if a["name"] == "Maria Lopez"
                 and a["times_from"] == "room")
    assert maria["joined_at"] and maria["left_at"]


async def test_one_recognition_at_a_time_refuses_the_next(start_local):
    """transcribe.minutes_max_recognitions = 1: while one upload is being received, another
    gets 503 unavailable (and the first still completes)."""
    local = await start_local({"COMMANDPOST_TRANSCRIBE_MINUTES_MAX_RECOGNITIONS": "1"})
    room = await local.create_room()
    release = asyncio.Event()
    boundary = "cpminutesboundary"

    async def slow_body():
        yield (f"--{boundary}\r\nContent-Disposition: form-data; name=\"language\"\r\n\r\n"
               f"xx\r\n--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; "
               f"filename=\"a.wav\"\r\n\r\n").encode()
        await release.wait()  # the server now holds the only recognition slot
        yield f"RIFF\r\n--{boundary}--\r\n".encode()

    headers = {**_auth(room["host_token"]),
               "Content-Type": f"multipart/form-data; boundary={boundary}"}
    first = asyncio.create_task(local.request("POST", "/api/minutes", data=slow_body(),
                                              headers=headers))
    await asyncio.sleep(0.5)
    form = aiohttp.FormData()
    form.add_field("language", "ko")
    form.add_field("date", "2026-12-03")
    form.add_field("file", b"RIFF", filename="b.wav")
    status, out, _ = await local.request("POST", "/api/minutes", data=form,
                                         headers=_auth(room["host_token"]))
    assert status == 503 and out["error"] == "unavailable"
    release.set()
    status, out, _ = await first
    assert status == 400  # the first was heard out (and refused for its own reasons)


async def test_minutes_made_anyway_when_the_transcriber_never_ends(start_local):
    local = await start_local({"COMMANDPOST_TRANSCRIBE_MINUTES_WAIT_S": "1"})
    room = await local.create_room("Stuck worker")
    rid = room["room_id"]
    client, _ = await local.joined_client(room, name="Ann")
    await _store_meeting(local, rid, load("zh_team_weekly"))
    await local.redis.hset(keys.meta(rid), "status", "running")  # and it stays so
    await client.send({"type": "leave"})
    store = MinutesStore(local.redis)
    for _ in range(100):
        if "draft" in await store.get(rid):
            break
        await asyncio.sleep(0.1)
    assert json.loads((await store.get(rid))["draft"])["title"] == "Stuck worker"


async def test_an_edited_draft_survives_the_meeting_end(local):
    room = await local.create_room()
    rid = room["room_id"]
    store = MinutesStore(local.redis)
    await store.save_draft(rid, {"title": "mine"}, "host", edited=True)
    assert not await store.save_generated(rid, {"title": "automatic"})
    assert json.loads((await store.get(rid))["draft"])["title"] == "mine"


async def test_action_item_stream_is_trimmed(start_local):
    local = await start_local({"COMMANDPOST_TRANSCRIBE_MINUTES_STREAM_MAXLEN": "10"})
    room = await local.create_room()
    rid = room["room_id"]
    items = [{"id": f"a{i}", "owner": "Tom", "what": f"task {i}", "deadline": None}
             for i in range(8)]
    store = MinutesStore(local.redis)
    await store.save_draft(rid, {"title": "t", "action_items": items}, "host", edited=False)
    for _ in range(2):
        status, _, _ = await local.request("POST", f"/api/rooms/{rid}/minutes/publish",
                                           headers=_auth(room["host_token"]))
        assert status == 200
    assert await local.redis.xlen(ACTION_STREAM) == 10
    last = (await local.redis.xrevrange(ACTION_STREAM, count=1))[0][1]
    assert last["item_id"] == "a7" and last["revision"] == "1"
