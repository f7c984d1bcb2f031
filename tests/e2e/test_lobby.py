"""The lobby: camera preview, device choice and name are remembered; lobby toggles carry into the meeting."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.slow

SENDER_LABELS = "commandpost.publishPc.getSenders().filter(s => s.track).map(s => s.track.label)"


def test_lobby_remembers_name_and_devices_and_joins_with_camera_off(server, people):
    room = server.create_room("E2E lobby")
    person = people("Mei")
    page = person.page
    person.open(room["join_url"])
    page.wait_for_function("document.querySelector('#preview-video').videoWidth > 0", timeout=5000)
    mics = page.eval_on_selector_all("#mic-select option", "options => options.map(o => o.textContent)")
    assert len(mics) >= 2 and "Fake Audio Input 1" in mics, mics
    assert page.eval_on_selector_all("#camera-select option", "options => options.length") >= 1
    page.select_option("#mic-select", label="Fake Audio Input 1")
    page.fill("#name", "Mei")
    page.click("#preview-cam")  # camera off before joining: the preview lets the camera go
    page.wait_for_function("!document.querySelector('#preview-video').srcObject", timeout=5000)
    assert page.is_visible("#preview-off")

    page.reload()
    page.wait_for_selector("#prejoin-form[data-ready=true]", state="attached", timeout=10_000)
    assert page.input_value("#name") == "Mei", "name not remembered"
    selected = page.eval_on_selector("#mic-select", "s => s.selectedOptions[0].textContent")
    assert selected == "Fake Audio Input 1", "microphone choice not remembered"

    page.click("#preview-cam")
    page.wait_for_function("!document.querySelector('#preview-video').srcObject", timeout=5000)
    page.click("#join-button")
    person.wait_until("commandpost.state === 'joined'", "joined", 15)
    person.wait_until(f"commandpost.publishPc && {SENDER_LABELS}.length === 1", "microphone published", 10)
    assert person.js(SENDER_LABELS) == ["Fake Audio Input 1"]
    own = next(t for t in person.tiles() if t["local"])
    assert own["videoMuted"] and not own["hasTrack"], own

    page.click("[data-tool=cam]")  # camera on in the meeting: a new track on a new transceiver
    person.wait_until(f"{SENDER_LABELS}.length === 2", "camera published", 10)
    person.wait_until("commandpost.tiles().some(t => t.local && t.videoWidth > 0)", "own camera tile", 10)


def test_host_token_in_the_link_fragment_makes_a_host_and_leaves_the_address_bar(server, people):
    room = server.create_room("E2E fragment token")
    token = server.mint_token(room["room_id"], "deputy", ["join", "publish", "subscribe", "admin"], 600)
    deputy = people("Deputy")
    deputy.open(f"{room['join_url']}#token={token}")
    assert "token" not in deputy.page.url, "the token stayed in the address bar"
    assert deputy.page.is_visible("#host-note")
    deputy.join()
    assert "admin" in deputy.js("commandpost.grants")
    assert deputy.page.is_visible("[data-tool=lock]")
    deputy.page.reload()  # the token now lives in this tab's sessionStorage only
    deputy.page.wait_for_selector("#prejoin-form[data-ready=true]", state="attached", timeout=10_000)
    assert deputy.page.is_visible("#host-note")
