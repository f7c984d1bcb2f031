"""A subscribe offer Chromium refuses (here made to repeat an a=msid on its way to the page)
does not leave the meeting page dark: it sends offer_failed and answers the server's new
offer on a new connection, without rejoining."""

from __future__ import annotations

import json
import re

import pytest

from test_meeting import receiving_from
from test_wall import WALL, decoding, open_wall
from wall_helpers import Sources

pytestmark = pytest.mark.slow


def repeat_an_msid(sdp: str) -> str:
    """Give the second m-section the first one's a=msid (what Chromium refused before)."""
    msids = re.findall(r"^a=msid:.*$", sdp, re.M)
    assert len(msids) >= 2, sdp
    head, sep, tail = sdp.partition(msids[1])
    return head + msids[0] + tail


def spoil_first_offer(page, sent: list[dict]) -> None:
    """Relay the page's signalling socket, recording what it sends and spoiling the first
    offer that carries tracks. (Playwright's sync API relays only while the test calls it.)"""
    spoiled: list[str] = []

    def route(page_ws):
        server_ws = page_ws.connect_to_server()

        def to_page(message):
            msg = json.loads(message) if isinstance(message, str) else None
            if msg and msg.get("type") == "offer" and msg.get("tracks") and not spoiled:
                msg["sdp"] = repeat_an_msid(msg["sdp"])
                spoiled.append(msg["sdp"])
                message = json.dumps(msg)
            page_ws.send(message)

        def to_server(message):
            if isinstance(message, str):
                sent.append(json.loads(message))
            server_ws.send(message)

        server_ws.on_message(to_page)
        page_ws.on_message(to_server)

    page.route_web_socket(re.compile(r".*/ws$"), route)


def test_refused_offer_is_reported_and_replaced(server, people):
    room = server.create_room("E2E refused offer")
    alice = people("Alice")
    alice_id = alice.join(room["join_url"])
    bob = people("Bob")
    sent: list[dict] = []
    spoil_first_offer(bob.page, sent)
    bob.join(room["join_url"])
    # The relay runs only while Playwright is called: evaluate("0") keeps it going.
    bob.wait_for(lambda: bob.page.evaluate("0") or [m for m in sent if m["type"] == "offer_failed"],
                 "offer_failed", 20)
    [failed] = [m for m in sent if m["type"] == "offer_failed"]
    assert "msid" in failed.get("error", ""), failed
    bob.wait_for(lambda: receiving_from(bob, [alice_id]), "video and audio from Alice", 20)
    assert [m["type"] for m in sent].count("join") == 1, "no rejoin was needed"
    assert [m["type"] for m in sent].count("answer") >= 1
    assert bob.js("commandpost.state") == "joined"


def test_wall_answers_the_new_offer_without_rejoining(server, people):
    room = server.create_room("E2E wall refused offer")
    sources = Sources(server, room)
    try:
        names = ["Cam A", "Cam B"]
        for name in names:
            sources.add(name)
        wall = people("Wall", viewport=WALL)
        sent: list[dict] = []
        spoil_first_offer(wall.page, sent)
        open_wall(wall, server, room)
        wall.wait_for(lambda: decoding(wall, names), "both cameras live", 20)
        assert [m["type"] for m in sent].count("offer_failed") == 1
        assert [m["type"] for m in sent].count("join") == 1, "no rejoin was needed"
        assert wall.js("commandpost.offerFailures") == 1
    finally:
        sources.close()
