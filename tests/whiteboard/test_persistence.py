"""Boards survive: an acked operation is in Redis, and a new node on the same Redis serves
the same scene after the first one stopped (log + snapshots, several writers)."""

from __future__ import annotations

import asyncio
import secrets

from local_node import StartLocal, stop_node
from wb_helpers import Replica, ack, element, op, rest_scene, upsert, visible

from whiteboard.store import BoardStore, log_key, snap_key


async def test_an_acked_operation_is_already_in_redis(start_local: StartLocal) -> None:
    local = await start_local()
    room = await local.create_room()
    alice, _ = await local.joined_client(room, "Alice")
    el = element("arrow")
    await alice.send(upsert("main", el, ref="a"))
    await ack(alice, "a")
    loaded = await BoardStore(local.redis).load(room["room_id"], "main")
    assert loaded is not None and loaded.seq == 1
    held = loaded.scene.get(el["id"])["points"]
    assert held == tuple(map(tuple, el["points"]))  # points held as tuples (untracked by gc)
    assert all(type(p) is tuple for p in held)


async def test_a_new_node_on_the_same_redis_has_every_board(start_local: StartLocal) -> None:
    env = {"COMMANDPOST_WHITEBOARD_SNAPSHOT_EVERY_OPS": "4",
           "COMMANDPOST_SERVER_SECRET": secrets.token_urlsafe(32)}  # the restarted server's
    first = await start_local(env)
    room = await first.create_room()
    writers = [(await first.joined_client(room, n))[0] for n in ("A", "B", "C")]
    for n in range(5):
        for w, client in enumerate(writers):
            await client.send(upsert("main", element("pen", index=f"a{n}{w}"), ref=f"{n}"))
    for client in writers:
        for n in range(5):
            await ack(client, f"{n}")
    await writers[1].send(op("main", "undo", ref="u"))
    await ack(writers[1], "u")
    await writers[0].send(upsert("notes", element("sticky", text="撤离路线"), ref="s"))
    await ack(writers[0], "s")
    before = {b: await rest_scene(first, room, b) for b in ("main", "notes")}
    assert len(visible(before["main"]["elements"])) == 14
    redis = first.redis
    assert await redis.exists(snap_key(room["room_id"], "main"))
    assert await redis.xlen(log_key(room["room_id"], "main")) < 16  # trimmed by snapshots
    await stop_node(first)
    first.stopped = True  # type: ignore[attr-defined]

    second = await start_local(env)
    for board_id in ("main", "notes"):  # read straight from Redis: nobody is in the room
        assert await rest_scene(second, room, board_id) == before[board_id]
    late, _ = await second.joined_client(room, "Late")
    replica = Replica()
    await late.recv("wb_scene", board_id="main")
    replica.feed(late, "main")
    assert visible(list(replica.elements.values())) == visible(before["main"]["elements"])
    # and the room goes on from where it was
    await late.send(upsert("main", element("rect"), ref="go"))
    assert (await ack(late, "go"))["seq"] == before["main"]["seq"] + 1


async def test_old_tombstones_go_with_the_next_snapshot(start_local: StartLocal) -> None:
    local = await start_local({"COMMANDPOST_WHITEBOARD_SNAPSHOT_EVERY_OPS": "1",
                               "COMMANDPOST_WHITEBOARD_TOMBSTONE_TTL_S": "1"})
    room = await local.create_room()
    alice, _ = await local.joined_client(room, "Alice")
    gone, kept = element("pen"), element("pen")
    await alice.send(upsert("main", gone, kept, ref="a"))
    await ack(alice, "a")
    await alice.send(op("main", "delete", ids=[gone["id"]], ref="d"))
    await ack(alice, "d")
    assert gone["id"] in {e["id"] for e in (await rest_scene(local, room, "main"))["elements"]}
    await asyncio.sleep(1.2)
    await alice.send(upsert("main", element("rect"), ref="later"))  # writes a snapshot
    await ack(alice, "later")
    await asyncio.sleep(0.3)
    ids = {e["id"] for e in (await rest_scene(local, room, "main"))["elements"]}
    assert gone["id"] not in ids and kept["id"] in ids
    loaded = await BoardStore(local.redis).load(room["room_id"], "main")
    assert loaded is not None and loaded.scene.get(gone["id"]) is None


async def test_subscribe_gives_the_current_scene_for_a_resync(start_local: StartLocal) -> None:
    local = await start_local()
    room = await local.create_room()
    alice, _ = await local.joined_client(room, "Alice")
    el = element("ellipse")
    await alice.send(upsert("main", el, ref="a"))
    await ack(alice, "a")
    await alice.send({"type": "wb_subscribe", "board_id": "main"})
    scene = await alice.recv("wb_scene", board_id="main", seq=1)
    assert [e["id"] for e in scene["elements"]] == [el["id"]] and scene["kind"] == "board"
    await alice.send({"type": "wb_subscribe", "board_id": "track:t_0123456789ab"})
    empty = await alice.recv("wb_scene", board_id="track:t_0123456789ab")
    assert empty["elements"] == [] and empty["kind"] == "video"
    assert empty["track_id"] == "t_0123456789ab"
