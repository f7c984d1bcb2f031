"""Presence: vanished clients leave within the timeout, dead nodes are swept, resume works,
and a room owned by another live node sends clients there."""

from __future__ import annotations

import asyncio
import json
import time

from local_node import LocalServer, StartLocal

from signaling.store import ParticipantRecord, node_key, participants_key, presence_key, room_key


async def test_client_that_stops_answering_pings_is_removed_within_15_s(
        local: LocalServer) -> None:
    assert local.config.limits.presence_timeout_s == 15  # the default is what we prove
    room = await local.create_room()
    host, _ = await local.joined_client(room, "Host", host=True)
    ghost = await local.client(autoping=False)  # reads, but never answers a ping
    joined = await ghost.join(code=room["share_code"], name="Ghost")
    vanished = time.monotonic()
    pid = joined["participant_id"]
    left = await host.recv("participant_left", timeout=17, participant_id=pid)
    elapsed = time.monotonic() - vanished
    assert left["reason"] == "timeout"
    assert elapsed < 15, elapsed
    assert ghost.closed.is_set()  # the server's WebSocket heartbeat gave up on it first
    assert not await local.redis.hexists(participants_key(room["room_id"]), pid)
    assert not await local.redis.exists(presence_key(room["room_id"], pid))
    await host.send({"type": "ping"})
    await host.recv("pong")


async def test_resume_after_a_dead_connection_keeps_the_participant(
        start_local: StartLocal) -> None:
    server = await start_local({"COMMANDPOST_LIMITS_PRESENCE_TIMEOUT_S": "4"})
    room = await server.create_room()
    host, _ = await server.joined_client(room, "Host", host=True)
    ghost = await server.client(autoping=False)
    joined = await ghost.join(code=room["share_code"], name="Tunnel")
    await asyncio.wait_for(ghost.closed.wait(), 4)  # heartbeat noticed the dead link
    back = await server.client()
    again = await back.join(code=room["share_code"], name="Tunnel",
                            resume=joined["resume_token"])
    assert again["participant_id"] == joined["participant_id"]
    await asyncio.sleep(4.5)
    assert not host.of_type("participant_left")
    assert await server.redis.hexists(participants_key(room["room_id"]),
                                      joined["participant_id"])


async def test_sweeper_removes_participants_of_dead_nodes_and_own_leftovers(
        local: LocalServer) -> None:
    room = await local.create_room()
    room_id = room["room_id"]
    dead = ParticipantRecord(id="p_dead", name="Dead", grants=["join"], node="n_dead")
    stale = ParticipantRecord(id="p_stale", name="Stale", grants=["join"],
                              node=local.node.node_id)
    alive_elsewhere = ParticipantRecord(id="p_live", name="Live", grants=["join"],
                                        node="n_live")
    await local.redis.set(node_key("n_live"), json.dumps({"url": "http://127.0.0.1:9"}),
                          ex=30)
    pubsub = local.redis.pubsub()
    await pubsub.subscribe(f"cp:events:{room_id}")
    for record in (dead, stale, alive_elsewhere):
        await local.redis.hset(participants_key(room_id), record.id, record.to_json())
    removed = set()
    deadline = time.monotonic() + 6
    while len(removed) < 2 and time.monotonic() < deadline:
        message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=1)
        if message:
            event = json.loads(message["data"])
            assert event["type"] == "participant_left" and event["reason"] == "timeout"
            assert event["node"] == local.node.node_id
            removed.add(event["participant_id"])
    await pubsub.aclose()
    assert removed == {"p_dead", "p_stale"}
    assert set(await local.redis.hkeys(participants_key(room_id))) == {"p_live"}


async def test_room_of_another_live_node_answers_wrong_node(local: LocalServer) -> None:
    room = await local.create_room()
    room_id = room["room_id"]
    await local.redis.set(node_key("n_other"),
                          json.dumps({"url": "http://127.0.0.1:9999"}), ex=30)
    await local.redis.hset(room_key(room_id), "node", "n_other")
    client = await local.client()
    await client.send({"type": "join", "code": room["share_code"]})
    error = await client.error("wrong_node")
    assert (error["node"], error["url"]) == ("n_other", "http://127.0.0.1:9999")
    status, _, headers = await local.request(
        "POST", f"/whip/{room_id}", data=b"v=0\r\n",
        headers={"Content-Type": "application/sdp",
                 "Authorization": f"Bearer {room['host_token']}"}, allow_redirects=False)
    assert status == 307
    assert headers["Location"] == f"http://127.0.0.1:9999/whip/{room_id}"
    # When that node stops beating, this node takes the room over.
    await local.redis.delete(node_key("n_other"))
    joined = await client.join(code=room["share_code"])
    assert joined["room_id"] == room_id
    assert await local.redis.hget(room_key(room_id), "node") == local.node.node_id


async def test_room_is_claimed_while_used_and_released_when_empty(local: LocalServer) -> None:
    room = await local.create_room()
    key = room_key(room["room_id"])
    assert await local.redis.hget(key, "node") == ""
    client, _ = await local.joined_client(room, "Only")
    assert await local.redis.hget(key, "node") == local.node.node_id
    await client.send({"type": "leave"})
    await client.wait_closed()
    for _ in range(50):
        if await local.redis.hget(key, "node") == "" and room["room_id"] not in local.node.rooms:
            break
        await asyncio.sleep(0.05)
    assert await local.redis.hget(key, "node") == ""
    assert room["room_id"] not in local.node.rooms  # media closed, nothing pinned
