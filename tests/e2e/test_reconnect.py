"""A dropped signalling connection: the client comes back with its resume token and new peer
connections (aiortc has no ICE restart), keeps its participant id, and media flows again."""

from __future__ import annotations

import time
from urllib.parse import urlsplit

import pytest
from dropping_proxy import DroppingProxy

pytestmark = pytest.mark.slow


@pytest.fixture
def proxy(server):
    parts = urlsplit(server.base_url)
    running = DroppingProxy((parts.hostname, parts.port))
    yield running
    running.close()


def video_rising(person, pid: str) -> bool:
    before = person.media_by_sender().get(pid, {}).get("frames", 0)
    time.sleep(0.5)
    return person.media_by_sender().get(pid, {}).get("frames", 0) > before


def test_dropped_connection_resumes_with_same_id_and_media(server, people, proxy):
    room = server.create_room("E2E reconnect")
    code = room["join_url"].rstrip("/").rsplit("/", 1)[1]
    mobile, desk = people("Mobile"), people("Desk")
    mobile_id = mobile.join(f"http://127.0.0.1:{proxy.port}/j/{code}")
    desk_id = desk.join(room["join_url"])
    desk.wait_for(lambda: desk.media_by_sender().get(mobile_id, {}).get("frames", 0) > 0, "mobile's video", 20)
    mobile.wait_for(lambda: mobile.media_by_sender().get(desk_id, {}).get("frames", 0) > 0, "desk's video", 20)
    mobile.js("commandpost.subscribePc.e2eTag = 'before the drop'")

    proxy.drop_all()
    mobile.wait_until("commandpost.state === 'reconnecting'", "noticing the drop", 5)
    mobile.wait_until("commandpost.state === 'joined'", "rejoined", 15)
    assert mobile.participant_id == mobile_id, "the resume token did not keep the participant id"
    # The new subscribe connection appears with the server's first offer, which may come
    # just after 'joined'.
    mobile.wait_until("!!commandpost.subscribePc", "a subscribe connection", 10)
    assert mobile.js("commandpost.subscribePc.e2eTag") is None, "the old subscribe connection was kept"

    # Fresh counters on the new subscribe connection prove media flows again both ways.
    mobile.wait_for(lambda: mobile.media_by_sender().get(desk_id, {}).get("frames", 0) > 0,
                    "desk's video after resume", 15)
    desk.wait_for(lambda: video_rising(desk, mobile_id), "mobile's video after resume", 15)
    assert not any(t["text"].startswith("Mobile") for t in desk.js("commandpost.toasts()")), \
        "the others were told the mobile participant left"
    assert [t["participantId"] for t in desk.tiles() if t["source"] == "camera"].count(mobile_id) == 1
