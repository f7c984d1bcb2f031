"""Screen share, camera/microphone state and host controls, seen from the other browser."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.slow


def tile(person, pid: str, source: str = "camera") -> dict | None:
    return next((t for t in person.tiles() if t["participantId"] == pid and t["source"] == source), None)


def create_room_as_host(host, base_url: str) -> str:
    """Create a meeting on the landing page, enter it as host; returns the share link."""
    host.page.goto(base_url + "/")
    host.page.fill("#room-name", "E2E host controls")
    host.page.click("#create-button")
    host.page.wait_for_selector("#created:not([hidden])", timeout=10_000)
    link = host.page.input_value("#join-link")
    assert "/j/" in link, link
    host.page.click("#enter-link")
    host.page.wait_for_selector("#prejoin-form[data-ready=true]", state="attached", timeout=10_000)
    assert host.page.is_visible("#host-note"), "the creator is not told they join as host"
    return link


def open_host_menu(host, pid: str, action: str) -> None:
    host.page.click(f'[data-tile="{pid}:camera"] .tile-menu-button')
    host.page.click(f"#host-menu [data-action={action}]")


def test_screen_share_mute_state_and_host_controls(server, people):
    host = people("Host", grant=("clipboard-read", "clipboard-write"))
    link = create_room_as_host(host, server.base_url)
    host_id = host.join()
    assert "admin" in host.js("commandpost.grants")
    host.page.click("[data-tool=invite]")
    host.wait_until("commandpost.toasts().some(t => t.text === 'Invite link copied')", "copy confirmation", 5)
    assert host.js("navigator.clipboard.readText()") == link
    guest = people("Guest")
    guest_id = guest.join(link)
    assert "admin" not in guest.js("commandpost.grants")
    assert not guest.page.is_visible("[data-tool=lock]"), "a guest sees host controls"
    assert guest.page.locator(".tile-menu-button").count() == 0, "a guest sees host menus"
    host.wait_for(lambda: host.media_by_sender().get(guest_id, {}).get("frames", 0) > 0, "guest's camera", 20)
    guest.wait_for(lambda: guest.media_by_sender().get(host_id, {}).get("frames", 0) > 0, "host's camera", 20)

    # Screen share: a second tile for the others, with decoded frames; stopping removes it.
    guest.page.click("[data-tool=share]")
    guest.wait_until("commandpost.tiles().some(t => t.local && t.source === 'screen')", "own screen tile", 10)
    host.wait_for(lambda: host.media_by_sender().get(guest_id, {}).get("screen_frames", 0) > 0,
                  "guest's screen frames decoded", 15)
    screen, camera = tile(host, guest_id, "screen"), tile(host, guest_id, "camera")
    assert screen and screen["hasTrack"] and camera and camera["hasTrack"], host.tiles()
    assert screen["trackId"] != camera["trackId"]
    guest.page.click("[data-tool=share]")
    host.wait_for(lambda: tile(host, guest_id, "screen") is None, "screen tile removed after stop", 10)

    # Camera off shows as muted for others, and comes back.
    guest.page.click("[data-tool=cam]")
    host.wait_for(lambda: (tile(host, guest_id) or {}).get("videoMuted"), "guest shown with camera off", 5)
    assert host.page.is_visible(f'[data-tile="{guest_id}:camera"] .tile-cam-off')
    guest.page.click("[data-tool=cam]")
    host.wait_for(lambda: (tile(host, guest_id) or {}).get("videoMuted") is False, "guest's camera back on", 5)

    # Host mutes the guest's microphone: the guest is told and shown muted everywhere.
    open_host_menu(host, guest_id, "mute-audio")
    guest.wait_until("!commandpost.session.micEnabled()", "microphone muted by host", 5)
    guest.wait_until("commandpost.toasts().some(t => t.text === 'The host muted your microphone')", "muted toast", 5)
    host.wait_for(lambda: (tile(host, guest_id) or {}).get("audioMuted"), "guest shown muted", 5)

    # Lock: a newcomer with the share link is refused with a clear message.
    host.page.click("[data-tool=lock]")
    host.wait_until("commandpost.locked", "room locked", 5)
    guest.wait_until("commandpost.toasts().some(t => t.text.startsWith('The meeting is locked'))", "lock toast", 5)
    newcomer = people("Newcomer")
    newcomer.open(link)
    newcomer.page.fill("#name", newcomer.name)
    newcomer.page.click("#join-button")
    newcomer.wait_until("commandpost.state === 'ended'", "refused by the locked room", 10)
    assert newcomer.page.text_content("#ended-detail") == "The meeting is locked"

    # Remove: the guest sees why, everyone else loses the guest's tile.
    open_host_menu(host, guest_id, "kick")
    host.page.click("#confirm-dialog button[value=ok]")
    guest.wait_until("commandpost.state === 'ended'", "removed by host", 5)
    assert guest.page.text_content("#ended-title") == "The host removed you from the meeting"
    host.wait_for(lambda: not any(t["participantId"] == guest_id for t in host.tiles()), "guest's tile removed", 5)
