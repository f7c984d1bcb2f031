"""The field page (/f/<code>) in a phone-sized Chromium with a fake camera and fake GPS: one
tap streams, the server and the room see the position, the camera switch and the
low-bandwidth mode keep the feed going, a cut connection brings the feed back by itself under
the same participant, and a photo report reaches the room."""

from __future__ import annotations

import fractions
import json
import re
import shutil
import signal
import subprocess
import time
import urllib.request
from urllib.parse import urlsplit

import av
import numpy as np
import pytest
from dropping_proxy import DroppingProxy
from test_turn_relay import (SELECTED_LOCAL_TYPE, TURN_SECRET, Coturn, coturn,  # noqa: F401
                             coturn_config, wait_listening)
from test_turn_relay import free_port as turn_free_port

pytestmark = pytest.mark.slow

PHONE = {"width": 390, "height": 844}
SHANGHAI = {"latitude": 31.2304, "longitude": 121.4737, "accuracy": 15}
PUDONG = {"latitude": 31.2397, "longitude": 121.4998, "accuracy": 8}
BACK_WITHIN_S = 10
MIN_TOUCH_PX = 44
# Like test_phone's check; a checkbox counts by its label, which is the touch target.
PHONE_LAYOUT_PROBLEMS = """(minTouch) => {
    const width = window.innerWidth;
    const problems = [];
    if (document.documentElement.scrollWidth > width) problems.push(`page is ${document.documentElement.scrollWidth}px wide`);
    for (const el of document.querySelectorAll('button, select, input, textarea, label.button, video')) {
        if (!el.offsetParent) continue;
        const box = (el.type === 'checkbox' ? el.closest('label') : el).getBoundingClientRect();
        const label = el.id || el.className || el.tagName;
        if (box.left < -0.5 || box.right > width + 0.5) problems.push(`${label} spans ${box.left}..${box.right}`);
        if (el.matches('button, select, input, label.button') && box.height < minTouch) problems.push(`${label} is ${box.height}px tall`);
    }
    return problems;
}"""
NARROW_BYTES_PER_S = 8000  # 64 kbit/s: the voice fits, video does not


@pytest.fixture
def proxy(server):
    parts = urlsplit(server.base_url)
    running = DroppingProxy((parts.hostname, parts.port))
    yield running
    running.close()




def png_picture() -> bytes:
    """A real 64x48 PNG, as a phone's camera app might hand over (PyAV's encoder)."""
    pixels = np.zeros((48, 64, 3), dtype=np.uint8)
    pixels[:, :32] = (30, 90, 200)
    context = av.CodecContext.create("png", "w")
    context.width, context.height, context.pix_fmt = 64, 48, "rgb24"
    context.time_base = fractions.Fraction(1, 25)
    return bytes(context.encode(av.VideoFrame.from_ndarray(pixels, format="rgb24"))[0])


def rest(server, path: str, token: str) -> dict:
    request = urllib.request.Request(server.base_url + path,
                                     headers={"Authorization": f"Bearer {token}"})
    with urllib.request.urlopen(request, timeout=5) as response:
        return json.loads(response.read())


def server_location(server, room: dict, pid: str) -> dict | None:
    found = rest(server, f"/api/rooms/{room['room_id']}/locations", room["host_token"])
    return next((loc for loc in found["locations"] if loc["participant_id"] == pid), None)


def participant(server, room: dict, pid: str) -> dict:
    info = rest(server, f"/api/rooms/{room['room_id']}", room["host_token"])
    return next(p for p in info["participants"] if p["id"] == pid)


def frames_from(person, pid: str) -> int:
    return person.media_by_sender().get(pid, {}).get("frames", 0)


def video_rising(person, pid: str) -> bool:
    before = frames_from(person, pid)
    time.sleep(0.5)
    return frames_from(person, pid) > before


def field_unit(people, locale: str = "en-US"):
    return people("Unit 7", locale=locale, viewport=PHONE, is_mobile=True, has_touch=True,
                  grant=("geolocation",), geolocation=SHANGHAI)


def start_streaming(unit, url: str, timeout_s: float = 20) -> str:
    unit.page.goto(url)
    unit.page.fill("#field-name", "Unit 7")
    unit.page.click("#field-start")  # the one tap
    return unit.wait_until("commandpost.status === 'live' ? commandpost.participantId : null",
                           "live after one tap", timeout_s)


def test_field_unit_streams_with_gps_and_comes_back_after_a_drop(server, people, proxy):
    room = server.create_room("E2E field")
    desk = people("Desk")
    desk.join(room["join_url"])
    unit = field_unit(people)
    pid = start_streaming(unit, f"http://127.0.0.1:{proxy.port}/f/{room['share_code']}")
    assert unit.js("commandpost.facing") == "environment" and unit.js("commandpost.name") == "Unit 7"

    # The position reaches the server and is shown on the page.
    located = unit.wait_for(lambda: server_location(server, room, pid), "location at the server", 10)
    assert (located["lat"], located["lon"], located["accuracy_m"]) == (31.2304, 121.4737, 15.0)
    assert located["name"] == "Unit 7"
    assert "31.23040, 121.47370" in unit.page.text_content("#field-position")
    desk.wait_for(lambda: frames_from(desk, pid) > 0, "the field unit's video", 20)

    # Front camera: same sender and connection, no renegotiation, the feed keeps going.
    unit.js("commandpost.publishPc.e2eTag = 'first'")
    sdp = unit.js("commandpost.publishPc.localDescription.sdp")
    unit.page.click("#field-switch")
    unit.wait_until("commandpost.cameraSwitches === 1", "camera switched", 10)
    assert unit.js("commandpost.facing") == "user"
    assert unit.js("commandpost.publishPc.e2eTag") == "first"
    assert unit.js("commandpost.publishPc.localDescription.sdp") == sdp, "the switch renegotiated"
    assert unit.js("""commandpost.publishPc.getSenders().some(s => s.track
                      && s.track === commandpost.cameraTrack && s.track.readyState === 'live')""")
    desk.wait_for(lambda: video_rising(desk, pid), "video after the camera switch", 10)

    # Low bandwidth: 320x240 at 10 fps, capped bitrate, still live.
    unit.page.click("#field-lowbw")
    unit.wait_until("commandpost.lowBandwidth", "low-bandwidth mode", 5)
    settings = unit.wait_until("""(() => { const s = commandpost.cameraTrack.getSettings();
                                  return s.width <= 320 && s.frameRate <= 10 ? s : null; })()""",
                               "camera at 320x240@10", 5)
    assert settings["height"] <= 240
    encodings = unit.js("""commandpost.publishPc.getSenders()
                           .find(s => s.track && s.track.kind === 'video').getParameters().encodings""")
    assert [e["maxBitrate"] for e in encodings if e.get("active", True)] == [150000]
    desk.wait_for(lambda: video_rising(desk, pid), "video in low-bandwidth mode", 10)

    # The unit moves: the new position follows within a few seconds.
    unit.context.set_geolocation(PUDONG)
    unit.wait_for(lambda: (server_location(server, room, pid) or {}).get("lon") == 121.4998,
                  "the new position at the server", 10)

    # The network drops (connection reset, no leave): back by itself, same participant.
    dropped_at = time.monotonic()
    proxy.drop_all()
    unit.wait_until("commandpost.status !== 'live'", "noticing the drop", 5)
    unit.wait_until("commandpost.status === 'live'", "live again", BACK_WITHIN_S)
    assert unit.participant_id == pid, "the resume token did not keep the participant id"
    try:
        desk.wait_for(lambda: video_rising(desk, pid), "the feed back on the desk",
                      BACK_WITHIN_S - (time.monotonic() - dropped_at))
    except AssertionError:
        print("desk downlink as the server sees it:", desk.js("commandpost.bandwidth"))
        raise
    back_after_s = time.monotonic() - dropped_at
    assert back_after_s < BACK_WITHIN_S, back_after_s
    assert unit.js("commandpost.reconnects") == 1
    camera_tiles = [t for t in desk.tiles() if t["source"] == "camera" and t["participantId"] == pid]
    assert len(camera_tiles) == 1 and camera_tiles[0]["label"].startswith("Unit 7")
    # The location was kept across the resume and is sent again; the modes survived.
    unit.wait_for(lambda: (server_location(server, room, pid) or {}).get("lon") == 121.4998,
                  "the position after the reconnect", 5)
    assert unit.js("commandpost.lowBandwidth") and unit.js("commandpost.facing") == "user"
    print(f"feed back on the desk {back_after_s:.1f} s after the drop")


def test_silent_network_loss_is_noticed_and_the_feed_comes_back(server, people, proxy):
    """No reset, no close: bytes just stop (a tunnel). The page notices by itself and,
    once the network is back, the feed returns under the same participant within 10 s."""
    room = server.create_room("E2E field stall")
    desk = people("Desk")
    desk.join(room["join_url"])
    unit = field_unit(people)
    pid = start_streaming(unit, f"http://127.0.0.1:{proxy.port}/f/{room['share_code']}")
    desk.wait_for(lambda: frames_from(desk, pid) > 0, "the field unit's video", 20)
    stalled_at = time.monotonic()
    proxy.stall()
    unit.wait_until("commandpost.status === 'reconnecting'", "noticing the silent drop", 8)
    noticed_after_s = time.monotonic() - stalled_at
    time.sleep(2)  # still in the tunnel: attempts time out, the page keeps trying
    assert unit.js("commandpost.status") == "reconnecting"
    healed_at = time.monotonic()
    proxy.heal()
    unit.wait_until("commandpost.status === 'live'", "live again", BACK_WITHIN_S)
    desk.wait_for(lambda: video_rising(desk, pid), "the feed back on the desk",
                  BACK_WITHIN_S - (time.monotonic() - healed_at))
    assert unit.participant_id == pid
    print(f"silence noticed after {noticed_after_s:.1f} s; feed back "
          f"{time.monotonic() - healed_at:.1f} s after the network returned")


def test_offline_status_and_back(server, people):
    """The browser says the network is gone (Playwright's offline mode): the status line says
    offline, and when the network is back the unit is live again as the same participant."""
    room = server.create_room("E2E field offline")
    desk = people("Desk")
    desk.join(room["join_url"])
    unit = field_unit(people)
    pid = start_streaming(unit, f"{server.base_url}/f/{room['share_code']}")
    desk.wait_for(lambda: frames_from(desk, pid) > 0, "the field unit's video", 20)
    unit.context.set_offline(True)
    unit.wait_until("commandpost.status === 'offline'", "offline status", 5)
    assert unit.page.text_content("#field-status") == "Offline"
    time.sleep(3)
    back_at = time.monotonic()
    unit.context.set_offline(False)
    unit.wait_until("commandpost.status === 'live'", "live again", BACK_WITHIN_S)
    assert unit.participant_id == pid
    desk.wait_for(lambda: video_rising(desk, pid), "the feed on the desk",
                  BACK_WITHIN_S - (time.monotonic() - back_at))


def test_after_a_long_outage_the_feed_returns_under_the_same_name(redis_url, start_commandpost,
                                                                  people):
    """Out longer than the server keeps a place for a resume: the page joins afresh (a new
    participant id) under the same name, with no operator action."""
    server = start_commandpost(redis_url, {"COMMANDPOST_LIMITS_PRESENCE_TIMEOUT_S": "3"})
    parts = urlsplit(server.base_url)
    proxy = DroppingProxy((parts.hostname, parts.port))
    try:
        room = server.create_room("E2E field outage")
        desk = people("Desk")
        desk.join(room["join_url"])
        unit = field_unit(people)
        old_pid = start_streaming(unit, f"http://127.0.0.1:{proxy.port}/f/{room['share_code']}")
        desk.wait_for(lambda: frames_from(desk, old_pid) > 0, "the field unit's video", 20)
        proxy.stall()
        desk.wait_until(f"!commandpost.tiles().some(t => t.participantId === '{old_pid}')",
                        "the server giving up the unit's place", 15)
        healed_at = time.monotonic()
        proxy.heal()
        new_pid = unit.wait_until("commandpost.status === 'live' ? commandpost.participantId : null",
                                  "live again", BACK_WITHIN_S)
        assert new_pid != old_pid
        desk.wait_for(lambda: video_rising(desk, new_pid), "the feed back on the desk",
                      BACK_WITHIN_S - (time.monotonic() - healed_at))
        [tile] = [t for t in desk.tiles() if t["participantId"] == new_pid and t["source"] == "camera"]
        assert tile["label"].startswith("Unit 7")
        unit.wait_for(lambda: server_location(server, room, new_pid), "the position re-sent", 5)
    finally:
        proxy.close()


def test_photo_report_audio_only_and_chinese(server, people, artifacts):
    room = server.create_room("E2E field report")
    desk = people("Desk")
    desk.join(room["join_url"])
    unit = field_unit(people, locale="zh-CN")
    unit.page.goto(f"{server.base_url}/f/{room['share_code']}")
    assert unit.page.text_content("#field-start") == "开始直播"
    assert unit.js(PHONE_LAYOUT_PROBLEMS, MIN_TOUCH_PX) == [], "the start screen does not fit a phone"
    pid = start_streaming(unit, f"{server.base_url}/f/{room['share_code']}")
    assert unit.page.text_content("#field-status") == "● 直播中"
    unit.wait_for(lambda: server_location(server, room, pid), "location at the server", 10)
    desk.wait_for(lambda: frames_from(desk, pid) > 0, "the field unit's video", 20)

    assert unit.js(PHONE_LAYOUT_PROBLEMS, MIN_TOUCH_PX) == [], "the field page does not fit a phone"

    # The command centre's voice plays on the phone; its video is not sent (track_view).
    desk_id = desk.participant_id
    unit.wait_for(lambda: unit.media_by_sender().get(desk_id, {}).get("energy", 0) > 0,
                  "the desk's voice on the phone", 15)
    assert unit.js("commandpost.audioPlayers") == 1
    video_bytes = sum(r["bytesReceived"] for r in unit.inbound() if r["kind"] == "video")
    time.sleep(2)
    assert sum(r["bytesReceived"] for r in unit.inbound() if r["kind"] == "video") - video_bytes \
        < 5000, "the phone is sent video it does not show"

    # A frame of the live camera, a note, the position -> POST reports.
    unit.page.click("#field-snap")
    unit.wait_until("!document.querySelector('#field-photo-preview').hidden", "photo preview", 5)
    unit.page.fill("#field-note", "水管破裂，路面积水")
    unit.page.click("#field-send")
    unit.wait_until("commandpost.reports.length === 1", "report sent", 10)
    assert unit.page.text_content("#field-report-result") == "上报已发送"
    [report] = rest(server, f"/api/rooms/{room['room_id']}/reports", room["host_token"])["reports"]
    assert report["participant_id"] == pid and report["name"] == "Unit 7"
    assert report["note"] == "水管破裂，路面积水" and report["lat"] == 31.2304
    with urllib.request.urlopen(server.base_url + report["photo_url"], timeout=5) as response:
        assert response.headers["Content-Type"] == "image/jpeg"
        assert response.read(3) == b"\xff\xd8\xff"

    # A picture from the phone's camera app (file input with capture=environment).
    unit.page.set_input_files("#field-photo-input", files=[
        {"name": "IMG_0001.png", "mimeType": "image/png", "buffer": png_picture()}])
    unit.wait_until("!document.querySelector('#field-send').disabled", "photo ready to send", 5)
    unit.page.click("#field-send")
    unit.wait_until("commandpost.reports.length === 2", "second report sent", 10)
    second = unit.js("commandpost.reports[1]")
    assert second["note"] == "" and second["lon"] == 121.4737
    with urllib.request.urlopen(server.base_url + second["photo_url"], timeout=5) as response:
        assert response.headers["Content-Type"] == "image/png"

    # A file from the camera app that is not an image is refused with the server's reason.
    unit.page.set_input_files("#field-photo-input", files=[
        {"name": "x.jpg", "mimeType": "image/jpeg", "buffer": b"GIF89a not a photo"}])
    unit.page.click("#field-send")
    unit.wait_until("document.querySelector('#field-report-result').dataset.kind === 'error'",
                    "the refusal shown", 10)
    assert unit.js("commandpost.reports.length") == 2

    # Audio only: the camera is released, the voice stays, the room is told.
    unit.page.click("#field-audio")
    unit.wait_until("commandpost.audioOnly && !commandpost.cameraTrack", "audio only", 5)
    assert unit.js("""commandpost.publishPc.getSenders().every(s => !s.track || s.track.kind === 'audio')""")
    unit.wait_for(lambda: not participant(server, room, pid)["video"], "the room told video is off", 5)
    unit.page.click("#field-audio")
    unit.wait_until("!commandpost.audioOnly && !!commandpost.cameraTrack", "video again", 10)
    desk.wait_for(lambda: video_rising(desk, pid), "video after audio only", 10)
    unit.page.screenshot(path=str(artifacts / "field-zh.png"))


def test_landing_page_offers_the_field_link(server, people):
    host = people("Host")
    host.page.goto(server.base_url + "/")
    host.page.fill("#room-name", "E2E field link")
    host.page.click("#create-button")
    host.page.wait_for_selector("#created:not([hidden])", timeout=10_000)
    join_link = host.page.input_value("#join-link")
    field_link = host.page.input_value("#field-link")
    assert field_link == join_link.replace("/j/", "/f/"), (join_link, field_link)
    host.page.goto(field_link)
    assert host.page.text_content("#field-start") == "Start streaming"
    assert host.page.is_hidden("#field-error")
    host.page.goto(server.base_url + "/f/bad!code")
    assert host.page.text_content("body").count("not_found") == 1


def test_field_page_streams_relay_only_through_coturn(coturn, start_commandpost,  # noqa: F811
                                                      redis_url, people):
    """A phone on a mobile network that only gets out through TURN (relay-only ICE)."""
    server = start_commandpost(redis_url, {"COMMANDPOST_TURN_URLS": coturn.url,
                                           "COMMANDPOST_TURN_SECRET": coturn.secret})
    room = server.create_room("E2E field relay")
    desk = people("Desk")
    desk.join(room["join_url"])
    unit = field_unit(people)
    pid = start_streaming(unit, f"{server.base_url}/f/{room['share_code']}?relay=1", 30)
    selected = unit.wait_until(SELECTED_LOCAL_TYPE, "publish pair selected", 10, "publish")
    assert selected["type"] == "relay", selected
    desk.wait_for(lambda: frames_from(desk, pid) > 0, "the unit's video via TURN", 25)
    unit.wait_for(lambda: server_location(server, room, pid), "location at the server", 10)
    assert re.search(rf"user <\d+:{pid}>: incoming packet ALLOCATE processed, success",
                     coturn.log()), coturn.log()[-3000:]


@pytest.fixture
def narrow_coturn(tmp_path):
    """coturn whose sessions carry at most NARROW_BYTES_PER_S each way: the mobile link."""
    binary = shutil.which("turnserver")
    if binary is None:
        raise RuntimeError("turnserver not found: run `make test`, which installs Debian's coturn")
    workdir = tmp_path / "coturn"
    workdir.mkdir()
    port = turn_free_port()
    conf = workdir / "turnserver.conf"
    conf.write_text(coturn_config(port, workdir, TURN_SECRET) + f"max-bps={NARROW_BYTES_PER_S}\n")
    proc = subprocess.Popen([binary, "-c", str(conf)], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    server = Coturn(port, TURN_SECRET, proc, workdir / "turnserver.log")
    try:
        wait_listening(server)
        yield server
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_weak_uplink_steps_down_to_low_bandwidth_then_audio_only(narrow_coturn, start_commandpost,
                                                                 redis_url, people):
    server = start_commandpost(redis_url, {"COMMANDPOST_TURN_URLS": narrow_coturn.url,
                                           "COMMANDPOST_TURN_SECRET": narrow_coturn.secret})
    room = server.create_room("E2E weak uplink")
    unit = field_unit(people)
    start_streaming(unit, f"{server.base_url}/f/{room['share_code']}?relay=1", 30)
    unit.wait_until("commandpost.lowBandwidth", "low-bandwidth mode by itself", 40, interval_s=0.5)
    assert any(t["text"] == "Weak signal: switched to low bandwidth" for t in unit.js("commandpost.toasts()"))
    unit.wait_until("commandpost.audioOnly", "audio only by itself", 40, interval_s=0.5)
    assert unit.js("commandpost.status") == "live"
    print("uplink estimate at the end:", unit.js("commandpost.uplinkEstimate"))


def test_media_path_loss_is_noticed_and_recovered(coturn, start_commandpost,  # noqa: F811
                                                  redis_url, people):
    """Only the media path dies (the TURN relay of a relay-only phone freezes; signalling is
    fine): the page sees ICE disconnected, rebuilds its connections, keeps trying while the
    relay is down, and is live again as the same participant once it is back."""
    server = start_commandpost(redis_url, {"COMMANDPOST_TURN_URLS": coturn.url,
                                           "COMMANDPOST_TURN_SECRET": coturn.secret})
    room = server.create_room("E2E field media loss")
    desk = people("Desk")
    desk.join(room["join_url"])
    unit = field_unit(people)
    pid = start_streaming(unit, f"{server.base_url}/f/{room['share_code']}?relay=1", 30)
    desk.wait_for(lambda: frames_from(desk, pid) > 0, "the unit's video via TURN", 25)
    coturn.proc.send_signal(signal.SIGSTOP)
    try:
        unit.wait_until("commandpost.reconnects >= 1", "the page rebuilding its connections", 15)
        # Still down: the rebuilt connection cannot connect (ICE gathering through the frozen
        # relay times out after 5 s, then the 10 s connect deadline), so the page tries again.
        unit.wait_until("commandpost.reconnects >= 2", "a second attempt", 25)
        assert unit.js("commandpost.status") != "live"
    finally:
        coturn.proc.send_signal(signal.SIGCONT)
    resumed_at = time.monotonic()
    unit.wait_until("commandpost.status === 'live'", "live again", 20)
    assert unit.participant_id == pid
    desk.wait_for(lambda: video_rising(desk, pid), "the feed back on the desk", 15)
    print(f"media back {time.monotonic() - resumed_at:.1f} s after the relay returned")
