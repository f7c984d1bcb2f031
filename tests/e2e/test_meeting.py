"""Meetings in headless Chromium through the real server: media both ways, late join, leave."""

from __future__ import annotations

import io
import os
import shutil
import time
from pathlib import Path

import av
import numpy as np
import pytest

pytestmark = pytest.mark.slow

# The functional deadline: a late joiner shows video within 1.5 s.
LATE_JOIN_FIRST_FRAME_MS = 1500
README_SCREENSHOT = Path(__file__).resolve().parents[2] / "docs" / "images" / "meeting.png"


def receiving_from(person, others: list[str]) -> bool:
    """True once every participant in `others` has camera frames decoded and audio energy here."""
    media = person.media_by_sender()
    return all(media.get(pid, {}).get("frames", 0) > 0 and media.get(pid, {}).get("energy", 0) > 0
               for pid in others)


def assert_media_rising(person, others: list[str], seconds: float = 2.0) -> None:
    before = person.media_by_sender()
    time.sleep(seconds)
    after = person.media_by_sender()
    for pid in others:
        assert after[pid]["frames"] > before[pid]["frames"], f"{person.name}: video from {pid} stalled: {before} -> {after}"
        assert after[pid]["energy"] > before[pid]["energy"], f"{person.name}: audio from {pid} stalled: {before} -> {after}"


def join_together(people_list, url: str) -> dict[str, str]:
    """Open the share link in every browser, press join in all of them, then wait for each."""
    for person in people_list:
        person.open(url)
        person.page.fill("#name", person.name)
    for person in people_list:
        person.page.click("#join-button")
    return {person.name: person.wait_until("commandpost.state === 'joined' && commandpost.participantId",
                                           "joined", 15) for person in people_list}


def process_cpu_s(pid: int) -> float:
    """User + system CPU seconds of a process, from /proc (Linux)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def pixel_std(png: bytes) -> float:
    with av.open(io.BytesIO(png)) as container:
        frame = next(container.decode(video=0))
    return float(np.asarray(frame.to_ndarray(format="rgb24"), dtype=np.float32).std())


def test_three_participants_see_and_hear_each_other(server, people, artifacts):
    room = server.create_room("E2E three-way")
    trio = [people("Alice"), people("Bob"), people("陈伟")]
    ids = join_together(trio, room["join_url"])
    for person in trio:
        others = [ids[o.name] for o in trio if o is not person]
        person.wait_for(lambda: receiving_from(person, others), f"video and audio from {others}", 20)
    cpu_before, wall_before = process_cpu_s(server.proc.pid), time.monotonic()
    for person in trio:
        others = [ids[o.name] for o in trio if o is not person]
        assert_media_rising(person, others)
        camera_tiles = [t for t in person.tiles() if t["source"] == "camera"]
        assert sorted(t["name"] for t in camera_tiles) == sorted(ids), camera_tiles
        assert [t["participantId"] for t in camera_tiles if t["local"]] == [ids[person.name]]
        assert all(t["videoWidth"] > 0 for t in camera_tiles if not t["local"]), camera_tiles

    cpu = (process_cpu_s(server.proc.pid) - cpu_before) / (time.monotonic() - wall_before)
    print(f"\n[cpu] server process during the 3-person call: {cpu * 100:.0f}% of one core")

    # Active speaker: with two microphones muted, the third voice is highlighted for everyone.
    for person in trio[:2]:
        person.page.click("[data-tool=mic]")
    speaker = ids[trio[2].name]
    for person in trio:
        person.wait_until("(id) => commandpost.activeSpeaker() === id && commandpost.tiles().some("
                          "t => t.participantId === id && t.source === 'camera' && t.speaking)",
                          f"{trio[2].name} highlighted as the active speaker", 8, arg=speaker)
    # ...as decided by the server (ssrc-audio-level), with a level bar on the speaker's tile.
    for person in trio:
        person.wait_until("(id) => commandpost.speakerSource() === 'server' && commandpost.activeSpeaker() === id"
                          " && commandpost.tiles().some(t => t.participantId === id && t.source === 'camera'"
                          " && t.level > 0)", f"the server names {trio[2].name} and shows a level", 8, arg=speaker)

    for person in trio:
        m = person.js("commandpost.metrics")
        print(f"\n[ttff] {person.name}: join->first frame {m['firstFrameAt'] - m['joinStartedAt']:.0f} ms, "
              f"subscribe connected->first frame {m['firstFrameAt'] - m['subscribeConnectedAt']:.0f} ms")

    # The README screenshot: the first participant's view of the three-way call.
    trio[0].page.wait_for_timeout(500)
    png = trio[0].page.screenshot()
    (artifacts / "meeting.png").write_bytes(png)
    assert pixel_std(png) > 20, "meeting screenshot is blank"
    if os.environ.get("UPDATE_SCREENSHOTS") == "1":
        shutil.copyfile(artifacts / "meeting.png", README_SCREENSHOT)


def gone_from(person, pid: str) -> bool:
    """No tile, no mapped track and no audio element of `pid` is left in this person's page."""
    return person.js("""(pid) => !commandpost.tiles().some(t => t.participantId === pid)
        && !(commandpost.session.subscriber?.current || []).some(e => e.info.participant_id === pid)
        && !document.querySelector(`audio[data-participant-id="${pid}"]`)""", pid)


def test_late_joiner_decodes_fast_and_leaver_is_gone(server, people):
    room = server.create_room("E2E late joiner")
    early = [people("Alice"), people("Bob")]
    ids = join_together(early, room["join_url"])
    for person in early:
        other = [ids[o.name] for o in early if o is not person]
        person.wait_for(lambda: receiving_from(person, other), f"video and audio from {other}", 20)

    late = people("Late")
    late_id = late.join(room["join_url"])
    m = late.wait_until("commandpost.metrics.firstFrameAt !== null && commandpost.metrics", "a decoded frame", 10)
    connected_to_frame = m["firstFrameAt"] - m["subscribeConnectedAt"]
    print(f"\n[ttff] late joiner: subscribe connected->first frame {connected_to_frame:.0f} ms, "
          f"join->first frame {m['firstFrameAt'] - m['joinStartedAt']:.0f} ms")
    assert connected_to_frame <= LATE_JOIN_FIRST_FRAME_MS
    late.wait_for(lambda: receiving_from(late, list(ids.values())), "video and audio from both", 10)
    for person in early:
        person.wait_for(lambda: receiving_from(person, [late_id]), "the late joiner's media", 10)

    started = time.monotonic()
    late.page.click("[data-tool=leave]")
    late.wait_until("commandpost.state === 'ended'", "ended after leave", 5)
    assert late.page.is_visible("#ended")
    for person in early:
        person.wait_for(lambda: gone_from(person, late_id), "the leaver's tile and tracks removed", 5)
    print(f"\n[leave] gone for everyone after {time.monotonic() - started:.2f} s")
    for person in early:
        assert len([t for t in person.tiles() if t["source"] == "camera"]) == 2

    # Closing the tab is leaving too.
    alice, bob = early
    bob.page.close()
    alice.wait_for(lambda: gone_from(alice, ids["Bob"]), "the closed tab's participant removed", 5)
