"""Live captions in the meeting page: the host switches transcription on with its button,
Korean speech from an aiortc participant (its own process) is transcribed by the server's
embedded transcriber worker (as `make run` starts it) and shows under the speaker's tile in
Chromium; a viewer who switches captions off sees none, and the choice survives a reload."""

from __future__ import annotations

import json
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow
REPO = Path(__file__).resolve().parents[2]
WORDS = ["서울", "부산"]


def put_json(server, path: str, token: str, body: dict) -> dict:
    request = urllib.request.Request(server.base_url + path, method="PUT",
                                     data=json.dumps(body).encode(),
                                     headers={"Authorization": f"Bearer {token}",
                                              "Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())


def test_captions_under_the_speakers_tile_and_switched_off(redis_url, start_commandpost,
                                                          people, tmp_path: Path) -> None:
    server = start_commandpost(redis_url, {"COMMANDPOST_TRANSCRIBE_EMBEDDED_WORKER": "true"})
    room = server.create_room("E2E captions")
    # The phrase list by REST, switched off; the host's button then switches it on.
    put_json(server, f"/api/rooms/{room['room_id']}/transcription", room["host_token"],
             {"enabled": False, "phrases": WORDS})
    viewer = people("Viewer")
    viewer.join(f"{room['join_url']}#token={room['host_token']}")
    guest = people("访客", locale="zh-CN")
    guest.join(room["join_url"])
    assert not guest.js("commandpost.captions().hostButtonVisible")
    viewer.wait_until("commandpost.captions().transcribing === false", "room state", 10)
    assert viewer.page.inner_text("[data-tool=transcribe]").strip() == "Start transcription"
    viewer.page.click("[data-tool=transcribe]")
    guest.wait_until("commandpost.toasts().some(t => t.text === '实时转写已开启')",
                     "the transcription notice", 10)
    viewer.wait_until("commandpost.captions().transcribing === true", "transcribing", 10)
    log = open(tmp_path / "speaker.log", "wb")
    speaker = subprocess.Popen(
        [sys.executable, str(REPO / "tests/transcribe/tr_speaker_proc.py"), server.base_url,
         room["share_code"], "Alice", *WORDS], cwd=REPO, stdout=subprocess.PIPE, stderr=log)
    try:
        alice = speaker.stdout.readline().decode().strip()
        assert alice.startswith("p_"), (tmp_path / "speaker.log").read_text()
        tile = f'[data-tile="{alice}:camera"] .tile-caption'
        # The worker loads its model on the first job: allow for that.
        viewer.wait_until(
            "commandpost.captions().history.some(c => c.final && c.speaker === 'Alice')",
            "a final caption of Alice", 90)
        viewer.wait_for(lambda: viewer.page.locator(tile).count() == 1
                        and viewer.page.inner_text(tile).strip() in WORDS,
                        "a caption line under Alice's tile", 15)
        assert viewer.js("commandpost.captions().enabled") is True

        viewer.page.click("[data-tool=captions]")
        assert viewer.page.locator(tile).count() == 0
        seen = viewer.js("commandpost.captions().history.length")
        viewer.wait_until(f"commandpost.captions().history.length > {seen} + 1",
                          "more captions arriving while switched off", 30)
        assert viewer.page.locator(tile).count() == 0
        assert not any(c["shown"] for c in viewer.js("commandpost.captions().history")[seen:])
        assert viewer.page.get_attribute("[data-tool=captions]", "aria-pressed") == "false"

        viewer.page.reload()
        viewer.join()
        assert viewer.js("commandpost.captions().enabled") is False  # remembered
    finally:
        speaker.terminate()
        speaker.wait(10)
        log.close()
