"""Recording from the meeting page: the host's button starts and stops a real recorder
worker process, and every browser shows the "recording" indicator meanwhile."""

from __future__ import annotations

import json
import sys
import time
import urllib.request
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "recorder"))
from rec_helpers import RecorderProcess, ffprobe  # noqa: E402

pytestmark = pytest.mark.slow


def get_json(server, path: str, token: str) -> dict:
    request = urllib.request.Request(server.base_url + path,
                                     headers={"Authorization": f"Bearer {token}"})
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())


def test_host_records_and_everyone_sees_it(redis_url, start_commandpost, people,
                                           tmp_path: Path) -> None:
    rec_dir = tmp_path / "recordings"
    server = start_commandpost(redis_url, {"COMMANDPOST_RECORDER_DIR": str(rec_dir)})
    started: list[RecorderProcess] = []
    RecorderProcess.start(started, server, rec_dir, tmp_path)
    try:
        room = server.create_room("E2E recording")
        host = people("Host")
        host_id = host.join(f"{room['join_url']}#token={room['host_token']}")
        guest = people("访客", locale="zh-CN")
        guest_id = guest.join(room["join_url"])
        assert host.js("commandpost.recording().buttonVisible")
        assert not guest.js("commandpost.recording().buttonVisible"), "guests cannot record"
        assert not guest.page.is_visible("#recording-indicator")
        host.wait_for(lambda: host.media_by_sender().get(guest_id, {}).get("frames", 0) > 0,
                      "guest's camera", 20)

        host.page.click("[data-tool=record]")
        for person in (host, guest):
            person.wait_until("commandpost.recording().state === 'recording'", "recording on", 30)
            assert person.page.is_visible("#recording-indicator")
        assert guest.page.inner_text("#recording-indicator").strip() == "正在录制"
        guest.wait_until("commandpost.toasts().some(t => t.text === '本次会议正在录制')",
                         "recording notice", 5)
        rid = host.js("commandpost.recording().recordingId")
        time.sleep(4)
        host.page.click("[data-tool=record]")
        guest.wait_until("!commandpost.recording().active", "recording off", 30)
        assert not guest.page.is_visible("#recording-indicator")
        host.wait_until("commandpost.toasts().some(t => t.text === 'Recording stopped')",
                        "stopped notice", 10)

        info = get_json(server, f"/api/recordings/{rid}", room["host_token"])
        assert info["state"] == "stopped" and info["custody"]["chain_ok"], info
        videos = {f["participant_id"]: f for f in info["files"] if f["kind"] == "video"}
        assert set(videos) == {host_id, guest_id}, info["files"]
        assert len(info["files"]) == 4, "one file per track, whatever its layer switches"
        for entry in videos.values():
            assert ffprobe(rec_dir / rid / entry["name"])["streams"][0]["codec_name"] == "vp8"
            assert entry["duration_ms"] > 2000, entry
    finally:
        for proc in started:
            proc.kill()
