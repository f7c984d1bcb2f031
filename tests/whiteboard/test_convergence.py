"""Property: whatever the interleaving of several writers' operations and whatever order
each replica receives the server's broadcasts in, every replica ends with the server's scene.

Writers edit their own replica (new elements, changes to any element they see, erasing,
server-side undo/redo), send to the server in their socket's order; the server (the real
Board with the real checks) applies and broadcasts the winners; replicas merge broadcasts
in a random order with the merge rule."""

from __future__ import annotations

import random
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from signaling.errors import SignalingError

from whiteboard.board import Actor, Board
from whiteboard.config import WhiteboardConfig
from whiteboard.ids import parse_board_id
from whiteboard.scene import Scene
from whiteboard.validate import Checker

REF = parse_board_id("main")
CONFIG = WhiteboardConfig()
WRITERS = 3


class ClientScene(Scene):
    """A browser's copy: the merge rule, except that a server copy equal in version and
    nonce to the held one replaces it (docs/protocol.md: the same change, the server's
    word), which settles two writers who drew the same version and nonce by chance."""

    def merge_server(self, element: dict[str, Any]) -> None:
        current = self.elements.get(element["id"])
        if current is not None and current["version"] == element["version"] and \
                current["version_nonce"] == element["version_nonce"]:
            self.elements[element["id"]] = element
        else:
            self.apply(element)


class Writer:
    def __init__(self, n: int) -> None:
        self.actor = Actor(f"p_writer{n}", f"W{n}")
        self.replica = ClientScene()
        self.outbox: list[dict[str, Any]] = []
        self.inbox: list[list[dict[str, Any]]] = []
        self.made = 0

    def act(self, data: st.DataObject, rng: random.Random) -> None:
        choice = data.draw(st.sampled_from(["create", "change", "erase", "delete", "undo",
                                            "redo"]))
        existing = sorted(self.replica.elements)
        if choice in ("change", "erase", "delete") and not existing:
            choice = "create"
        if choice == "create":
            self.made += 1
            new = {"id": f"{self.actor.id}-{self.made:04d}", "type": "pen",
                   "points": [[rng.randint(0, 99), rng.randint(0, 99)]], "color": "#112233",
                   "width": 2, "opacity": 1, "index": f"a{rng.randint(0, 9)}", "version": 1,
                   "version_nonce": rng.randint(0, 5), "deleted": False}
            self._local(new)
        elif choice in ("change", "erase"):
            current = self.replica.elements[data.draw(st.sampled_from(existing))]
            changed = {**current, "version": current["version"] + 1,
                       # a small range: equal versions, and equal nonces too, do happen
                       "version_nonce": rng.randint(0, 5),
                       "points": [[rng.randint(0, 99), rng.randint(0, 99)]],
                       "deleted": choice == "erase"}
            self._local(changed)
        elif choice == "delete":  # the server makes the tombstone (it may not know the id)
            self.outbox.append({"op": "delete", "ids": [data.draw(st.sampled_from(existing))]})
        else:
            self.outbox.append({"op": choice})

    def _local(self, element: dict[str, Any]) -> None:
        self.replica.apply(element)
        self.outbox.append({"op": "upsert", "elements": [element]})

    def receive(self, data: st.DataObject) -> None:
        batch = self.inbox.pop(data.draw(st.integers(0, len(self.inbox) - 1)))
        for element in batch:
            self.replica.merge_server(element)


def state(scene: Scene) -> dict[str, tuple[Any, ...]]:
    return {i: (e["version"], e["version_nonce"], e["deleted"], [list(p) for p in e["points"]])
            for i, e in scene.elements.items()}


def serve(board: Board, writer: Writer, writers: list[Writer]) -> None:
    payload = writer.outbox.pop(0)
    before = state(board.scene)
    try:
        result = board.run(Checker(CONFIG, REF).op(payload, writer.actor.id), writer.actor)
    except SignalingError as exc:  # e.g. delete of an id the server has not seen yet
        assert exc.code == "not_found" and state(board.scene) == before
        return
    if result.applied:
        for other in writers:
            other.inbox.append(list(result.applied))
    if result.stale:  # the sender's ack carries the copies that beat its own
        writer.inbox.append(list(result.stale))


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data(), st.randoms(use_true_random=False))
def test_replicas_converge_to_the_server_scene(data: st.DataObject,
                                               rng: random.Random) -> None:
    board = Board(REF, CONFIG)
    writers = [Writer(n) for n in range(WRITERS)]
    steps = data.draw(st.integers(5, 60))
    for _ in range(steps):
        writer = writers[data.draw(st.integers(0, WRITERS - 1))]
        action = data.draw(st.sampled_from(["act", "send", "receive"]))
        if action == "act":
            writer.act(data, rng)
        elif action == "send" and writer.outbox:
            serve(board, writer, writers)
        elif action == "receive" and writer.inbox:
            writer.receive(data)
    # drain: every message reaches the server, every broadcast every replica (random order)
    while any(w.outbox for w in writers):
        serve(board, data.draw(st.sampled_from([w for w in writers if w.outbox])), writers)
    for writer in writers:
        while writer.inbox:
            writer.receive(data)
    server = state(board.scene)
    for writer in writers:
        assert state(writer.replica) == server
    # a late joiner's replica built from the server's scene in any order is the same too
    late = Scene(rng.sample(list(board.scene.elements.values()), len(board.scene.elements)))
    assert state(late) == server


def test_merge_is_order_independent_for_ties() -> None:
    a = {"id": "x0000001", "version": 2, "version_nonce": 7, "deleted": False, "points": [[1, 1]]}
    b = {**a, "version_nonce": 3, "points": [[2, 2]]}
    c = {**a, "version": 3, "version_nonce": 99, "points": [[3, 3]]}
    for order in ([a, b, c], [c, b, a], [b, c, a], [b, a]):
        scene = Scene(order)
        expected = c if c in order else b
        assert scene.get("x0000001") == expected
