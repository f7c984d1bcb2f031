"""A tile that leaves the screen is reported with track_view and its video stops arriving;
shown again, it resumes (Chromium, real server)."""

from __future__ import annotations

import json
import time

import pytest

pytestmark = pytest.mark.slow


def video_bytes(person, sender: str) -> int:
    return sum(r["bytesReceived"] for r in person.inbound()
               if r["participantId"] == sender and r["kind"] == "video")


def sent_view(person, sent: list[dict], visible: bool) -> bool:
    person.page.evaluate("0")  # the sync API delivers WebSocket events during calls
    return bool(sent) and sent[-1]["visible"] is visible


def test_hidden_tile_pauses_its_video_and_showing_resumes_it(server, people):
    room = server.create_room("E2E track view")
    alice, bob = people("Alice"), people("Bob")
    sent: list[dict] = []

    def on_socket(ws) -> None:
        ws.on("framesent", lambda payload: sent.append(json.loads(payload))
              if isinstance(payload, str) and '"track_view"' in payload else None)

    bob.page.on("websocket", on_socket)
    alice_id = alice.join(room["join_url"])
    bob.join(room["join_url"])
    bob.wait_for(lambda: video_bytes(bob, alice_id) > 20_000, "Alice's video", 20)

    tile = f"[data-tile='{alice_id}:camera']"
    bob.page.eval_on_selector(tile, "el => { el.style.display = 'none'; }")
    bob.wait_for(lambda: sent_view(bob, sent, False), "track_view visible=false", 5)
    time.sleep(0.7)  # packets in flight
    before = video_bytes(bob, alice_id)
    time.sleep(1.5)
    assert video_bytes(bob, alice_id) - before < 2_000, "hidden video still arrives"

    bob.page.eval_on_selector(tile, "el => { el.style.display = ''; }")
    bob.wait_for(lambda: sent_view(bob, sent, True), "track_view visible=true", 5)
    resumed = video_bytes(bob, alice_id)
    bob.wait_for(lambda: video_bytes(bob, alice_id) > resumed + 20_000, "video again", 5)
    message = sent[-1]
    assert message["width"] > 0 and message["height"] > 0 and message["track_id"].startswith("t_")
    assert not [line for line in bob.console if "track_view refused" in line]
