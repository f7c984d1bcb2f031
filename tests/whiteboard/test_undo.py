"""Per-participant undo/redo with several writers: nobody's undo removes someone else's work."""

from __future__ import annotations

from local_node import LocalServer
from wb_helpers import ack, element, op, rest_scene, upsert, visible

from whiteboard.board import Actor, Board
from whiteboard.config import WhiteboardConfig
from whiteboard.ids import parse_board_id
from whiteboard.validate import Checker

REF = parse_board_id("main")
CONFIG = WhiteboardConfig()
ALICE, BOB = Actor("p_alice", "Alice"), Actor("p_bob", "Bob")


def run(board: Board, actor: Actor, payload: dict) -> object:
    return board.run(Checker(CONFIG, REF).op(payload, actor.id), actor)


def test_undo_restores_the_previous_state_as_a_new_version() -> None:
    board = Board(REF, CONFIG)
    first = element("rect", [[0, 0], [10, 10]])
    run(board, ALICE, {"op": "upsert", "elements": [first]})
    moved = {**first, "points": [[5, 5], [15, 15]], "version": 2}
    run(board, ALICE, {"op": "upsert", "elements": [moved]})
    result = run(board, ALICE, {"op": "undo"})
    held = board.scene.get(first["id"])
    assert held["points"] == ((0, 0), (10, 10)) and held["version"] == 3
    assert result.applied == [held]
    run(board, ALICE, {"op": "undo"})
    assert board.scene.get(first["id"])["deleted"] is True  # creation undone = tombstone
    run(board, ALICE, {"op": "redo"})
    assert board.scene.get(first["id"])["points"] == ((0, 0), (10, 10))
    assert board.scene.get(first["id"])["deleted"] is False
    run(board, ALICE, {"op": "redo"})
    assert board.scene.get(first["id"])["points"] == ((5, 5), (15, 15))
    assert board.scene.get(first["id"])["version"] == 6
    assert board.history.can(ALICE.id) == (True, False)


def test_undo_skips_elements_someone_else_changed_since() -> None:
    board = Board(REF, CONFIG)
    shared, own = element("rect"), element("pen")
    run(board, ALICE, {"op": "upsert", "elements": [shared, own]})
    bobs = {**shared, "color": "#0000ff", "version": 2}
    run(board, BOB, {"op": "upsert", "elements": [bobs]})
    result = run(board, ALICE, {"op": "undo"})
    assert result.skipped == [shared["id"]]
    assert board.scene.get(shared["id"])["color"] == "#0000ff"  # Bob's work stays
    assert board.scene.get(own["id"])["deleted"] is True
    assert run(board, BOB, {"op": "undo"}).applied[0]["color"] == "#ff0000"
    assert board.history.can(BOB.id) == (False, True)


def test_a_new_action_empties_the_redo_list_and_undo_of_nothing_is_a_no_op() -> None:
    board = Board(REF, CONFIG)
    assert run(board, ALICE, {"op": "undo"}).applied == []
    run(board, ALICE, {"op": "upsert", "elements": [element("pen")]})
    run(board, ALICE, {"op": "undo"})
    run(board, ALICE, {"op": "upsert", "elements": [element("pen")]})
    assert board.history.can(ALICE.id) == (True, False)
    assert run(board, ALICE, {"op": "redo"}).applied == []


async def test_three_writers_undo_only_their_own_over_the_wire(local: LocalServer) -> None:
    room = await local.create_room()
    clients = [(await local.joined_client(room, name))[0] for name in ("A", "B", "C")]
    mine: dict[int, list[str]] = {0: [], 1: [], 2: []}
    for round_ in range(3):  # interleaved: A, B, C, A, B, C, ...
        for n, client in enumerate(clients):
            el = element("pen", index=f"a{round_}{n}")
            await client.send(upsert("main", el, ref=f"{round_}"))
            await ack(client, f"{round_}")
            mine[n].append(el["id"])
    # B changes one of A's strokes: A's undo of that stroke must leave B's change alone.
    a_first = (await rest_scene(local, room, "main"))["elements"]
    target = next(e for e in a_first if e["id"] == mine[0][0])
    await clients[1].send(upsert("main", {**target, "color": "#123456",
                                          "version": target["version"] + 1}, ref="bx"))
    await ack(clients[1], "bx")
    for undo in range(3):
        await clients[0].send(op("main", "undo", ref=f"u{undo}"))
        done = await ack(clients[0], f"u{undo}")
    assert done["skipped"] == [mine[0][0]] and done["can_undo"] is False
    scene = visible((await rest_scene(local, room, "main"))["elements"])
    assert set(scene) == {mine[0][0], *mine[1], *mine[2]}
    assert scene[mine[0][0]]["color"] == "#123456"
    await clients[2].send(op("main", "undo", ref="c"))
    await ack(clients[2], "c")
    await clients[0].send(op("main", "redo", ref="r"))
    await ack(clients[0], "r")
    scene = visible((await rest_scene(local, room, "main"))["elements"])
    assert set(scene) == {mine[0][0], mine[0][1], *mine[1], *mine[2][:2]}
