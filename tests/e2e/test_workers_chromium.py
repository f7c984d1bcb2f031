"""Chromium meetings through the front of a server with two SFU worker processes: two rooms on
two workers carry media at once, and when one room's worker is killed its browsers come back
by themselves (close 1012, reconnect through the same front URL) while the other room never
notices. The web client is the unchanged one."""

from __future__ import annotations

import json
import os
import signal
import time
import urllib.request

import pytest

from test_meeting import assert_media_rising, join_together, receiving_from

pytestmark = pytest.mark.slow


def get_json(url: str, token: str | None = None) -> dict:
    request = urllib.request.Request(url)
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    with urllib.request.urlopen(request, timeout=5) as response:
        return json.loads(response.read())


def wait_media(pair, ids, timeout_s: float = 25) -> None:
    for person in pair:
        others = [ids[o.name] for o in pair if o is not person]
        person.wait_for(lambda: receiving_from(person, others), f"media from {others}",
                        timeout_s)


def test_browsers_in_rooms_on_two_workers_survive_a_worker_crash(redis_url,
                                                                 start_commandpost, people):
    server = start_commandpost(redis_url, {"COMMANDPOST_SERVER_WORKERS": "2"})
    rooms = [server.create_room("Room on one worker"), server.create_room("Room on another")]
    pairs = [[people("Alice"), people("Bob")], [people("Carol"), people("Dave")]]
    ids = {}
    for pair, room in zip(pairs, rooms):
        ids |= join_together(pair, room["join_url"])
    for pair in pairs:
        wait_media(pair, ids)
    nodes = [get_json(f"{server.base_url}/api/rooms/{r['room_id']}", r["host_token"])["node"]
             for r in rooms]
    workers = {w["node_id"]: w for w in get_json(f"{server.base_url}/healthz")["workers"]}
    assert len(set(nodes)) == 2 and set(nodes) == set(workers), (nodes, workers)

    victim = workers[nodes[0]]
    os.kill(victim["pid"], signal.SIGKILL)
    started = time.monotonic()
    for person in pairs[0]:  # the page saw its socket close and reconnects on its own
        person.wait_until("commandpost.state === 'reconnecting'", "reconnecting", 10,
                          interval_s=0.02)
    for person in pairs[0]:
        person.wait_until("commandpost.state === 'joined'", "joined again", 30)
    ids |= {p.name: p.participant_id for p in pairs[0]}
    wait_media(pairs[0], ids, 30)
    print(f"\n[workers] room media back {time.monotonic() - started:.1f} s after the kill")
    for person in pairs[1]:  # the other room's worker never stopped
        assert_media_rising(person, [ids[o.name] for o in pairs[1] if o is not person])
    # The browsers may have come back before the worker did (their room then moved to the
    # live worker); the killed worker is restarted all the same.
    deadline = time.monotonic() + 30
    while True:
        health = get_json(f"{server.base_url}/healthz")
        slot = health["workers"][victim["index"]]
        if slot["state"] == "ready" and slot["pid"] != victim["pid"]:
            break
        assert time.monotonic() < deadline, health
        time.sleep(0.2)
    assert slot["restarts"] == 1
