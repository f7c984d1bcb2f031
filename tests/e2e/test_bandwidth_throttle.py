"""A Chromium subscriber on a throttled link (real server, Chromium publishing simulcast):
Bob's subscribe connection runs through a rate-limited UDP relay (tests/sfu/sfu_shaper.py;
his WebSocket is routed so the SDP candidates name the relay, like a NAT would). On the open
link his 640x360 tile gets the half layer; squeezed to 300 kbit/s, Chromium's own REMB and
receiver reports make the server move him to the quarter layer; opened again, he climbs back.
"""

from __future__ import annotations

import asyncio
import json
import re
import sys
import threading
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parents[1] / "sfu"))  # sfu_shaper, sfu_proxy

from sfu_shaper import ShapedRelay  # noqa: E402

pytestmark = pytest.mark.slow

NARROW_BPS = 300_000  # the quarter layer (~150 k) and audio fit, the half layer does not
LOOPBACK_CANDIDATE = re.compile(r"a=candidate:\S+ 1 udp \d+ 127\.0\.0\.1 \d+ typ host")


class RelayThread:
    """The asyncio relay on its own loop, next to Playwright's synchronous API."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        threading.Thread(target=self.loop.run_forever, daemon=True).start()
        self.relay = ShapedRelay()
        asyncio.run_coroutine_threadsafe(self.relay.start(), self.loop).result(5)

    def set_rate(self, bps: int | None) -> None:
        self.loop.call_soon_threadsafe(setattr, self.relay, "rate_bps", bps)

    def close(self) -> None:
        self.loop.call_soon_threadsafe(self.relay.close)
        self.loop.call_soon_threadsafe(self.loop.stop)


def loopback_only(sdp: str) -> str:
    """Keep only the client's loopback candidate, so no path can bypass the relay."""
    lines = sdp.split("\r\n")
    return "\r\n".join(line for line in lines
                       if not line.startswith("a=candidate:") or LOOPBACK_CANDIDATE.match(line))


def route_through(person, relay: ShapedRelay) -> None:
    """Rewrite the subscribe offer (server) and answer (Bob) as they cross the WebSocket."""

    def handler(ws) -> None:
        server = ws.connect_to_server()

        def from_page(message) -> None:
            msg = json.loads(message) if isinstance(message, str) else None
            if msg and msg.get("type") == "answer":
                msg["sdp"] = relay.route_client(loopback_only(msg["sdp"]))
                message = json.dumps(msg)
            server.send(message)

        def from_server(message) -> None:
            msg = json.loads(message) if isinstance(message, str) else None
            if msg and msg.get("type") == "offer":
                msg["sdp"] = relay.route_answer(msg["sdp"])
                message = json.dumps(msg)
            ws.send(message)

        ws.on_message(from_page)
        server.on_message(from_server)

    person.context.route_web_socket(re.compile(r".*/ws$"), handler)


def alice_video(person, sender: str) -> dict:
    rows = [r for r in person.inbound() if r["participantId"] == sender and r["kind"] == "video"]
    return rows[0] if rows else {}


def set_tile(person, sender: str, width: int, height: int) -> None:
    person.page.eval_on_selector(
        f"[data-tile='{sender}:camera']",
        "(el, [w, h]) => { el.style.position = 'fixed'; el.style.left = '0px';"
        " el.style.top = '0px'; el.style.zIndex = '5';"
        " el.style.width = w + 'px'; el.style.height = h + 'px'; }", [width, height])


def test_throttled_chromium_subscriber_moves_down_a_layer_and_back(redis_url,
                                                                    start_commandpost, people):
    server = start_commandpost(redis_url)
    room = server.create_room("E2E throttle")
    relay = RelayThread()
    try:
        alice, bob = people("Alice"), people("Bob")
        route_through(bob, relay.relay)
        alice_id = alice.join(room["join_url"])
        bob.open(room["join_url"])
        bob.page.click("#preview-cam")  # Bob only watches
        bob.join()
        bob.wait_for(lambda: alice_video(bob, alice_id).get("framesDecoded", 0) > 10,
                     "Alice's video through the relay", 30)
        set_tile(bob, alice_id, 640, 360)
        bob.wait_for(lambda: alice_video(bob, alice_id).get("frameWidth") == 640,
                     "the half layer on the open link", 60)

        relay.set_rate(NARROW_BPS)
        bob.wait_for(lambda: alice_video(bob, alice_id).get("frameWidth") == 320,
                     "the quarter layer on the narrow link", 30)
        decoded = alice_video(bob, alice_id)["framesDecoded"]
        bob.wait_for(lambda: alice_video(bob, alice_id)["framesDecoded"] > decoded + 30,
                     "the quarter layer keeps decoding", 10)
        assert bob.js("commandpost.bandwidth")["videoPaused"] is False

        relay.set_rate(None)
        bob.wait_for(lambda: alice_video(bob, alice_id).get("frameWidth") == 640,
                     "the half layer again on the open link", 60)
    finally:
        relay.close()
