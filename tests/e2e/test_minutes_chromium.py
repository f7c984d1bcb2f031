"""The minutes page in Chromium: the host sees the draft made from the stored transcript and
publishes it; a participant then reads it, filters the transcript, and a time stamp plays
the meeting's recording from that second (a real WebM file served by the recorder's API)."""

from __future__ import annotations

import json
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
import redis

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "transcribe"))
from minutes_samples import load  # noqa: E402

from transcribe import keys  # noqa: E402
from transcribe.search import tokenize  # noqa: E402

pytestmark = pytest.mark.slow
STARTED_MS = 1_795_000_000_000


def _store_transcript(client: redis.Redis, room_id: str, sample: dict) -> None:
    client.hset(keys.meta(room_id), mapping={"started_at_ms": STARTED_MS, "status": "ended",
                                             "lang": sample["language"]})
    for i, seg in enumerate(sample["segments"]):
        start, end = int(seg["start"] * 1000), int(seg["end"] * 1000)
        sid = f"{STARTED_MS + start}-p{i}-{i}"
        client.hset(keys.segments(room_id), sid, json.dumps({
            "id": sid, "room_id": room_id, "speaker_id": f"p{i}", "speaker": seg["speaker"],
            "start_ms": start, "end_ms": end, "start_at_ms": STARTED_MS + start,
            "end_at_ms": STARTED_MS + end, "text": seg["text"], "words": [],
            "lang": sample["language"], "final": True}))
        client.zadd(keys.order(room_id), {sid: STARTED_MS + start})
        for token in tokenize(seg["text"]):
            client.zadd(keys.index(token), {f"{room_id}/{sid}": STARTED_MS + start})


def _store_recording(client: redis.Redis, rec_dir: Path, room_id: str) -> None:
    """A finished recording that started 5 s before the transcript, as the recorder keeps it."""
    rid = "r_00112233aabbccdd"
    folder = rec_dir / rid
    folder.mkdir(parents=True)
    subprocess.run(["ffmpeg", "-loglevel", "error", "-f", "lavfi", "-i",
                    "testsrc=size=160x120:rate=5", "-t", "120", "-c:v", "libvpx",
                    "-g", "5", "-b:v", "50k", str(folder / "meeting.webm")], check=True)
    (folder / "manifest.json").write_text(json.dumps({"files": [{
        "type": "track", "name": "meeting.webm", "kind": "video", "start_ms": 0,
        "end_ms": 120000}], "chain": []}))
    started = STARTED_MS / 1000 - 5
    client.hset(f"cp:rec:{rid}", mapping={"recording_id": rid, "room_id": room_id,
                                         "state": "stopped", "started_at": started,
                                         "stopped_at": started + 120})
    client.zadd(f"cp:rec:room:{room_id}", {rid: started})


def _post(server, path: str, token: str) -> dict:
    request = urllib.request.Request(server.base_url + path, data=b"", method="POST",
                                     headers={"Authorization": f"Bearer {token}"})
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read())


def test_host_publishes_and_a_participant_reads_and_plays(redis_url, start_commandpost, people,
                                                           tmp_path: Path) -> None:
    rec_dir = tmp_path / "recordings"
    server = start_commandpost(redis_url, {"COMMANDPOST_RECORDER_DIR": str(rec_dir)})
    room = server.create_room("Storm call")
    rid = room["room_id"]
    client = redis.Redis.from_url(redis_url, decode_responses=True)
    _store_transcript(client, rid, load("en_winter_storm"))
    _store_recording(client, rec_dir, rid)
    draft = _post(server, f"/api/rooms/{rid}/minutes", room["host_token"])
    assert draft["recording"]["recording_id"] == "r_00112233aabbccdd"

    host = people("Host")
    host.page.goto(f"{server.base_url}/minutes/{rid}#token={room['host_token']}")
    host.wait_until("commandpost.state() === 'draft'", "draft shown")
    assert "#token" not in host.page.url
    assert host.page.locator("#min-decisions li").count() == len(draft["decisions"])
    assert host.page.locator("#min-actions tr").count() == len(draft["action_items"])
    host.page.click("#min-publish")
    host.wait_until("commandpost.state() === 'published'", "published")

    member = server.mint_token(rid, "p_reader", ["join", "subscribe", "record"])
    reader = people("读者", locale="zh-CN")
    reader.page.goto(f"{server.base_url}/minutes/{rid}#token={member}")
    reader.wait_until("commandpost.state() === 'published'", "published minutes")
    assert reader.page.inner_text("h2 >> nth=0").strip() == "摘要"
    assert reader.page.is_hidden("#min-host")  # no host buttons without admin
    reader.page.fill("#min-search", "salt")
    reader.wait_until("commandpost.visibleSegments().length === 2", "two segments say salt")
    reader.page.fill("#min-search", "")
    reader.wait_until("commandpost.playerReady()", "recording loaded", 30)
    item = next(a for a in draft["action_items"] if 20 < a["recording_s"] < 110)
    reader.page.click(f"#min-actions tr[data-id='{item['id']}'] .min-time")
    want = item["recording_s"]
    assert want == item["start_ms"] // 1000 + 5
    reader.wait_for(lambda: abs(reader.js("commandpost.playerTime()") - want) < 3,
                    f"playing from {want} s", 15)

    guest = server.mint_token(rid, "p_guest", ["join", "subscribe"])
    other = people("Guest")
    client.hdel(f"cp:minutes:{rid}", "published")  # unpublished again: guests see nothing
    other.page.goto(f"{server.base_url}/minutes/{rid}#token={guest}")
    other.wait_until("commandpost.state() === 'none'", "nothing published")
    assert "not published" in other.page.inner_text("#min-message")
    time.sleep(0.1)


def test_the_ended_meeting_page_links_to_its_minutes(server, people) -> None:
    room = server.create_room("Link check")
    host = people("Host")
    host.join(f"{room['join_url']}#token={room['host_token']}")
    host.page.click("[data-tool=leave]")
    host.page.wait_for_selector("#ended-minutes:not([hidden])", timeout=10_000)
    href = host.page.get_attribute("#ended-minutes", "href")
    assert href.startswith(f"/minutes/{room['room_id']}#token=")
    assert room["host_token"] in href  # the host reads the draft
