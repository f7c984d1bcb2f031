"""Live whiteboard over real WebSockets: fan-out, late join, refusals, permissions, clear."""

from __future__ import annotations

import json

import pytest
from local_node import LocalServer
from wb_helpers import ack, element, op, rest_scene, upsert, visible


async def test_drawing_reaches_everyone_and_a_late_joiner_gets_the_scene(
        local: LocalServer) -> None:
    room = await local.create_room()
    alice, _ = await local.joined_client(room, "Alice")
    bob, _ = await local.joined_client(room, "Bob")
    state = await alice.recv("wb_state")
    assert state["boards"] == [] and state["can_draw"] is True
    rect = element("rect", [[10, 20], [110, 220]])
    await alice.send(upsert("main", rect, ref="r1"))
    done = await ack(alice, "r1")
    assert done["applied"] == [rect["id"]] and done["can_undo"] is True
    got = await bob.recv("wb_elements", board_id="main")
    held = got["elements"][0]
    assert held["points"] == [[10, 20], [110, 220]]
    assert held["author_name"] == "Alice" and held["author_id"] == held["updated_by"]
    late, _ = await local.joined_client(room, "Carol")
    state = await late.recv("wb_state")
    assert [b["board_id"] for b in state["boards"]] == ["main"]
    scene = await late.recv("wb_scene", board_id="main")
    assert visible(scene["elements"]) == {rect["id"]: held}
    assert (await rest_scene(local, room, "main"))["elements"] == scene["elements"]


async def test_a_stale_copy_is_not_applied_and_the_sender_gets_the_current_one(
        local: LocalServer) -> None:
    room = await local.create_room()
    alice, _ = await local.joined_client(room, "Alice")
    first = element("pen", version=3, nonce=10)
    await alice.send(upsert("main", first, ref="a"))
    await ack(alice, "a")
    older = {**first, "version": 2, "points": [[0, 0], [5, 5]]}
    tie_loses = {**first, "version_nonce": 11, "points": [[1, 1]]}
    for n, copy in enumerate((older, tie_loses)):
        await alice.send(upsert("main", copy, ref=f"s{n}"))
        done = await ack(alice, f"s{n}")
        assert done["applied"] == [] and done["stale"] == [first["id"]]
        assert done["current"][0]["points"] == first["points"]
    tie_wins = {**first, "version_nonce": 9, "points": [[2, 2]]}
    await alice.send(upsert("main", tie_wins, ref="w"))
    assert (await ack(alice, "w"))["applied"] == [first["id"]]
    scene = await rest_scene(local, room, "main")
    assert scene["elements"][0]["points"] == [[2, 2]]


@pytest.mark.parametrize("payload, code, needle", [
    ({"op": "upsert", "elements": [{"type": "blob"}]}, "bad_message", "unknown element type"),
    ({"op": "scribble"}, "bad_message", "unknown op"),
    ({"op": "upsert", "elements": [{"id": "x", "type": "rect"}]}, "bad_message", "8-64"),
    ({"op": "upsert", "elements": []}, "bad_message", "non-empty array"),
    ({"op": "delete", "ids": ["../../etc"]}, "bad_message", "8-64"),
    ({"op": "delete", "ids": ["nosuchel1"]}, "not_found", "no element"),
    ({"op": "undo", "participant_id": "someone-else"}, "forbidden", "own actions"),
])
async def test_bad_operations_are_refused_and_the_board_is_untouched(
        local: LocalServer, payload: dict, code: str, needle: str) -> None:
    room = await local.create_room()
    alice, _ = await local.joined_client(room, "Alice")
    keep = element("rect")
    await alice.send(upsert("main", keep, ref="k"))
    await ack(alice, "k")
    before = await rest_scene(local, room, "main")
    if payload["op"] == "upsert" and payload["elements"]:
        payload["elements"] = [{**element("rect"), **payload["elements"][0]}]
    await alice.send({"type": "wb_op", "board_id": "main", "ref": "bad", **payload})
    error = await alice.error(code)
    assert needle in error["message"] and error["ref"] == "wb_op"
    assert error["board_id"] == "main" and error["op_ref"] == "bad"
    assert await rest_scene(local, room, "main") == before


@pytest.mark.parametrize("raw_point", ["NaN", "Infinity", "-Infinity", "1e999"])
async def test_nan_and_infinite_coordinates_are_refused(local: LocalServer,
                                                         raw_point: str) -> None:
    room = await local.create_room()
    alice, _ = await local.joined_client(room, "Alice")
    good = element("line", [[1, 1], [2, 2]])
    text = json.dumps(upsert("main", good, ref="n")).replace("[2, 2]", f"[2, {raw_point}]")
    await alice.send_raw(text)
    error = await alice.error("bad_message")
    assert "finite" in error["message"]
    status, _, _ = await local.request(
        "GET", f"/api/rooms/{room['room_id']}/boards/main",
        headers={"Authorization": f"Bearer {room['host_token']}"})
    assert status == 404  # nothing was ever stored: the board does not even exist


async def test_video_layer_coordinates_are_normalised_and_need_the_track(
        local: LocalServer) -> None:
    room = await local.create_room()
    alice, _ = await local.joined_client(room, "Alice")
    await alice.send(upsert("track:t_000000000000", element("rect"), ref="v"))
    assert "no track" in (await alice.error("unknown_track"))["message"]
    await alice.send(upsert("main", element("rect", [[0.5, 0.5], [1.5, 2]]), ref="ok"))
    await ack(alice, "ok")  # scene coordinates: any finite value within max_coordinate
    await alice.send(upsert("bad board!", element("rect"), ref="b"))
    assert "bad board_id" in (await alice.error("bad_message"))["message"]


async def _viewer(local: LocalServer, room: dict, name: str) -> tuple:
    """A participant without the publish grant (not a presenter by grant)."""
    client = await local.client()
    token = local.token(room["room_id"], f"id-{name}", ["join", "subscribe"], name=name)
    joined = await client.join(token=token, name=name)
    return client, joined


async def test_permissions_presenters_and_nobody(local: LocalServer) -> None:
    room = await local.create_room()
    host, _ = await local.joined_client(room, "Host", host=True)
    guest, _ = await local.joined_client(room, "Guest")  # share-code guests may publish
    viewer, joined = await _viewer(local, room, "Viewer")
    await host.send({"type": "wb_permissions", "mode": "nobody"})
    change = await guest.recv("wb_permissions")
    assert change["mode"] == "nobody" and change["can_draw"] is False
    assert (await host.recv("wb_permissions"))["can_draw"] is True
    await guest.send(upsert("main", element("pen"), ref="g"))
    assert "turned drawing off" in (await guest.error("forbidden"))["message"]
    await guest.send({"type": "wb_live", "board_id": "main",
                      "pointer": {"points": [[1, 1]], "laser": True}})
    await guest.error("forbidden")
    await host.send(upsert("main", element("pen"), ref="h"))
    await ack(host, "h")  # hosts always draw
    await guest.send({"type": "wb_permissions", "mode": "everyone"})
    assert "admin" in (await guest.error("forbidden"))["message"]

    await host.send({"type": "wb_permissions", "mode": "presenters"})
    assert (await guest.recv("wb_permissions", mode="presenters"))["can_draw"] is True
    assert (await viewer.recv("wb_permissions", mode="presenters"))["can_draw"] is False
    await viewer.send(upsert("main", element("pen"), ref="v1"))
    assert "presenters" in (await viewer.error("forbidden"))["message"]
    await guest.send(upsert("main", element("pen"), ref="g2"))
    await ack(guest, "g2")  # the publish grant makes a presenter

    viewer_id = joined["participant_id"]
    await host.send({"type": "wb_permissions", "mode": "presenters",
                     "presenters": [viewer_id]})
    assert (await viewer.recv("wb_permissions", presenters=[viewer_id]))["can_draw"] is True
    await viewer.send(upsert("main", element("pen"), ref="v2"))
    await ack(viewer, "v2")
    late, _ = await _viewer(local, room, "Late")
    state = await late.recv("wb_state")
    assert state["permissions"] == {"mode": "presenters", "presenters": [viewer_id]}
    assert state["can_draw"] is False


async def test_clear_is_for_hosts_and_tombstones_everything(local: LocalServer) -> None:
    room = await local.create_room()
    host, _ = await local.joined_client(room, "Host", host=True)
    guest, _ = await local.joined_client(room, "Guest")
    await guest.send(upsert("main", element("pen"), element("ellipse"), ref="g"))
    await ack(guest, "g")
    await guest.send(op("main", "clear", ref="c"))
    assert "host" in (await guest.error("forbidden"))["message"]
    assert len(visible((await rest_scene(local, room, "main"))["elements"])) == 2
    await host.send(op("main", "clear", ref="hc"))
    await ack(host, "hc")
    assert (await guest.recv("wb_cleared"))["name"] == "Host"
    elements = (await rest_scene(local, room, "main"))["elements"]
    assert len(elements) == 2 and visible(elements) == {}


async def test_live_strokes_are_relayed_coalesced_and_not_stored(local: LocalServer) -> None:
    room = await local.create_room()
    alice, _ = await local.joined_client(room, "Alice")
    bob, _ = await local.joined_client(room, "Bob")
    stroke = {"id": "stroke0001", "type": "pen", "color": "#00ff00", "width": 3}
    for n in range(3):
        await alice.send({"type": "wb_live", "board_id": "main", "seq": n,
                          "stroke": {**stroke, "points": [[n, n]]}})
    points: list[list[float]] = []
    while len(points) < 3:
        live = await bob.recv("wb_live", board_id="main")
        (user,) = live["users"]
        assert user["name"] == "Alice"
        points += user["stroke"]["points"]
    assert points == [[0, 0], [1, 1], [2, 2]]
    # the drawer gets the same messages (one encoding for the room) and skips its own entry
    echoed = [p for m in alice.of_type("wb_live") for u in m["users"] for p in
              u["stroke"]["points"]]
    assert echoed == points
    status, _, _ = await local.request(
        "GET", f"/api/rooms/{room['room_id']}/boards/main",
        headers={"Authorization": f"Bearer {room['host_token']}"})
    assert status == 404
