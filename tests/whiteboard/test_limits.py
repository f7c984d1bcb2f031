"""Every [whiteboard] limit, hit over the wire: a clear error and the board untouched."""

from __future__ import annotations

from typing import Any

from local_node import LocalServer, StartLocal
from wb_helpers import ack, element, rest_scene, upsert, visible

ENV = {
    "COMMANDPOST_WHITEBOARD_MAX_ELEMENTS_PER_BOARD": "3",
    "COMMANDPOST_WHITEBOARD_MAX_BOARDS_PER_ROOM": "2",
    "COMMANDPOST_WHITEBOARD_MAX_POINTS_PER_ELEMENT": "50",
    "COMMANDPOST_WHITEBOARD_MAX_ELEMENTS_PER_OP": "2",
    "COMMANDPOST_WHITEBOARD_MAX_OP_BYTES": "1500",
    "COMMANDPOST_WHITEBOARD_MAX_TEXT_CHARS": "10",
    "COMMANDPOST_WHITEBOARD_MAX_LIVE_POINTS": "5",
    "COMMANDPOST_WHITEBOARD_MAX_COORDINATE": "1000",
    "COMMANDPOST_WHITEBOARD_MAX_DRAWERS_PER_BOARD": "2",
}


async def _setup(start_local: StartLocal, env: dict[str, str] | None = None
                 ) -> tuple[LocalServer, dict[str, Any], Any]:
    local = await start_local(env or ENV)
    room = await local.create_room()
    client, _ = await local.joined_client(room, "Alice")
    await client.send(upsert("main", element("pen", element_id="keep0001"), ref="k"))
    await ack(client, "k")
    return local, room, client


async def _refused(local: LocalServer, room: dict[str, Any], client: Any, msg: dict[str, Any],
                   code: str, needle: str) -> None:
    before = await rest_scene(local, room, "main")
    await client.send(msg)
    error = await client.error(code)
    assert needle in error["message"], error
    assert await rest_scene(local, room, "main") == before


async def test_size_limits_of_one_operation(start_local: StartLocal) -> None:
    local, room, alice = await _setup(start_local)
    many_points = element("pen", [[i, i] for i in range(51)])
    await _refused(local, room, alice, upsert("main", many_points), "too_large",
                   "max_points_per_element")
    three = [element("pen") for _ in range(3)]
    await _refused(local, room, alice, upsert("main", *three), "too_large",
                   "max_elements_per_op")
    big = element("pen", [[i + 0.123456789012, i + 0.987654321098] for i in range(50)])
    await _refused(local, room, alice, upsert("main", big), "too_large", "max_op_bytes")
    chatty = element("text", text="x" * 11)
    await _refused(local, room, alice, upsert("main", chatty), "too_large", "max_text_chars")
    far = element("line", [[0, 0], [1000.5, 0]])
    await _refused(local, room, alice, upsert("main", far), "bad_message", "outside")
    await alice.send(upsert("main", element("line", [[0, 0], [1000, -1000]]), ref="edge"))
    await ack(alice, "edge")


async def test_elements_per_board_and_boards_per_room(start_local: StartLocal) -> None:
    local, room, alice = await _setup(start_local)
    await alice.send(upsert("main", element("pen"), element("pen"), ref="fill"))
    await ack(alice, "fill")  # 3 of 3
    await _refused(local, room, alice, upsert("main", element("pen")), "limit_reached",
                   "max_elements_per_board")
    scene = visible((await rest_scene(local, room, "main"))["elements"])
    keep = scene["keep0001"]
    await alice.send({"type": "wb_op", "board_id": "main", "op": "delete",
                      "ids": ["keep0001"], "ref": "d"})
    await ack(alice, "d")  # deleting makes room again
    await alice.send(upsert("main", element("pen"), ref="again"))
    await ack(alice, "again")
    # undoing the delete would bring back a fourth element: refused, nothing changes
    await alice.send(upsert("main", {**keep, "deleted": False, "version": keep["version"] + 5}))
    await alice.error("limit_reached")
    await alice.send(upsert("second", element("pen"), ref="b2"))
    await ack(alice, "b2")
    await alice.send(upsert("third", element("pen"), ref="b3"))
    assert "max_boards_per_room" in (await alice.error("limit_reached"))["message"]
    status, body, _ = await local.request(
        "GET", f"/api/rooms/{room['room_id']}/boards",
        headers={"Authorization": f"Bearer {room['host_token']}"})
    assert [b["board_id"] for b in body["boards"]] == ["main", "second"]


async def test_drawers_per_board(start_local: StartLocal) -> None:
    local, room, alice = await _setup(start_local)
    bob, _ = await local.joined_client(room, "Bob")
    carol, _ = await local.joined_client(room, "Carol")
    await bob.send(upsert("main", element("pen"), ref="b"))
    await ack(bob, "b")
    await _refused(local, room, carol, upsert("main", element("pen")), "limit_reached",
                   "max_drawers_per_board")
    await carol.send({"type": "wb_live", "board_id": "main",
                      "pointer": {"points": [[1, 1]]}})
    await carol.error("limit_reached")
    await carol.send(upsert("other", element("pen"), ref="o"))
    await ack(carol, "o")  # the cap is per board
    await bob.send({"type": "leave"})
    await bob.wait_closed()
    await carol.recv("participant_left")
    await carol.send(upsert("main", element("pen"), ref="c"))
    await ack(carol, "c")  # Bob left: his place is free at once


async def test_live_points_per_message(start_local: StartLocal) -> None:
    local, room, alice = await _setup(start_local)
    await alice.send({"type": "wb_live", "board_id": "main",
                      "stroke": {"id": "stroke0001", "type": "pen", "color": "#000000",
                                 "width": 2, "points": [[1, 1]] * 4},
                      "pointer": {"points": [[1, 1]] * 2}})
    assert "max_live_points" in (await alice.error("too_large"))["message"]


async def test_operations_per_second(start_local: StartLocal) -> None:
    local, room, alice = await _setup(start_local, {
        "COMMANDPOST_WHITEBOARD_OPS_PER_SECOND": "0.1", "COMMANDPOST_WHITEBOARD_OPS_BURST": "3",
        "COMMANDPOST_LIMITS_WS_MESSAGES_PER_SECOND": "1000",
        "COMMANDPOST_LIMITS_WS_MESSAGE_BURST": "1000"})
    # the setup's op took one token of three
    for n in range(2):
        await alice.send(upsert("main", element("pen"), ref=f"ok{n}"))
        await ack(alice, f"ok{n}")
    await _refused(local, room, alice, upsert("main", element("pen")), "rate_limited",
                   "ops_per_second")
    # REST operations are counted per token subject the same way
    statuses = []
    for _ in range(4):
        status, body, _ = await local.request(
            "POST", f"/api/rooms/{room['room_id']}/boards/main/ops",
            headers={"Authorization": f"Bearer {room['host_token']}"},
            json={"op": "upsert", "elements": [element("pen")]})
        statuses.append(status)
    assert statuses == [200, 200, 200, 429], body
    assert body["error"] == "rate_limited"
