"""Joining over the WebSocket: share codes, tokens, refusals, timeouts, lock, limit, resume."""

from __future__ import annotations

import asyncio
import json
import time

from local_node import LocalServer, StartLocal

from signaling.store import participants_key, presence_key


async def test_join_with_share_code_and_host_token(local: LocalServer) -> None:
    room = await local.create_room()
    host, joined_host = await local.joined_client(room, "Host", host=True)
    assert joined_host["room_id"] == room["room_id"]
    assert "admin" in joined_host["grants"] and joined_host["participants"] == []
    guest, joined = await local.joined_client(room, "Alice")
    assert joined["grants"] == ["join", "publish", "publish_data", "subscribe"]
    assert joined["participants"] == [{"id": joined_host["participant_id"], "name": "Host",
                                       "audio": True, "video": True, "admin": True}]
    assert joined["resume_token"] and joined["locked"] is False
    seen = await host.recv("participant_joined")
    assert seen["participant"]["name"] == "Alice"
    stored = await local.redis.hgetall(participants_key(room["room_id"]))
    assert set(stored) == {joined_host["participant_id"], joined["participant_id"]}
    record = json.loads(stored[joined["participant_id"]])
    assert record["name"] == "Alice" and record["node"] == local.node.node_id
    assert await local.redis.exists(presence_key(room["room_id"], joined["participant_id"]))


async def test_leave_removes_participant_everywhere(local: LocalServer) -> None:
    room = await local.create_room()
    host, _ = await local.joined_client(room, "Host", host=True)
    guest, joined = await local.joined_client(room, "Bob")
    await guest.send({"type": "leave"})
    left = await host.recv("participant_left")
    assert left == {"type": "participant_left", "participant_id": joined["participant_id"],
                    "reason": "left"}
    assert await guest.wait_closed() == 1000
    assert not await local.redis.hexists(participants_key(room["room_id"]),
                                         joined["participant_id"])


async def test_closing_the_socket_counts_as_leaving(local: LocalServer) -> None:
    room = await local.create_room()
    host, _ = await local.joined_client(room, "Host", host=True)
    guest, joined = await local.joined_client(room, "Bob")
    await guest.ws.close()
    left = await host.recv("participant_left")
    assert (left["participant_id"], left["reason"]) == (joined["participant_id"], "left")


async def test_bad_credentials_are_refused_and_the_session_survives(local: LocalServer) -> None:
    room = await local.create_room()
    other = await local.create_room()
    client = await local.client()
    forged = room["host_token"][:-4] + ("AAAA" if not room["host_token"].endswith("AAAA")
                                        else "BBBB")
    await client.send({"type": "join", "token": forged})
    assert (await client.error("auth_failed"))["ref"] == "join"
    expired = local.token(room["room_id"], "x", ["join"], ttl_s=1)
    await asyncio.sleep(1.1)
    await client.send({"type": "join", "token": expired})
    await client.error("token_expired")
    await client.send({"type": "join", "token": other["host_token"],
                       "room_id": room["room_id"]})
    await client.error("wrong_room")
    await client.send({"type": "join", "code": other["share_code"],
                       "room_id": room["room_id"]})
    await client.error("wrong_room")
    await client.send({"type": "join", "token": local.token("r_gone", "x", ["join"])})
    await client.error("room_not_found")
    await client.send({"type": "join", "token": local.token(room["room_id"], "x", ["publish"])})
    assert "join" in (await client.error("forbidden"))["message"]
    await client.send({"type": "join", "code": "nope-nope-nope"})
    await client.error("auth_failed")
    joined = await client.join(code=room["share_code"], name="Finally")
    assert joined["name"] == "Finally"
    assert await local.redis.hlen(participants_key(room["room_id"])) == 1


async def test_share_code_expiry(start_local: StartLocal) -> None:
    server = await start_local({"COMMANDPOST_TOKENS_SHARE_TTL_S": "1"})
    room = await server.create_room()
    await asyncio.sleep(1.2)
    client = await server.client()
    await client.send({"type": "join", "code": room["share_code"]})
    assert "expired" in (await client.error("auth_failed"))["message"]
    host, _ = await server.joined_client(room, "Host", host=True)  # the host token still works


async def test_bad_json_unknown_type_and_order_errors(local: LocalServer) -> None:
    room = await local.create_room()
    client = await local.client()
    await client.send_raw("{this is not json")
    await client.error("bad_json")
    await client.send({"type": "teleport"})
    assert "teleport" in (await client.error("bad_message"))["message"]
    await client.send({"type": "publish", "sdp": "v=0"})
    assert (await client.error("not_joined"))["ref"] == "publish"
    await client.send({"type": "ping", "t": 42})
    assert (await client.recv("pong"))["t"] == 42
    await client.join(code=room["share_code"])
    await client.send({"type": "join", "code": room["share_code"]})
    await client.error("already_joined")
    await client.send({"type": "mute", "participant_id": "p_x", "kind": "audio"})
    assert "admin" in (await client.error("forbidden"))["message"]
    await client.send({"type": "answer", "sdp": "v=0\r\nm=audio 9 X 0\r\n"})
    assert (await client.error("bad_message"))["ref"] == "answer"  # no offer outstanding
    await client.ws.send_bytes(b"\x00\x01")
    assert "binary" in (await client.error("bad_message"))["message"]
    assert not client.closed.is_set()


async def test_join_timeout_closes_idle_sockets(start_local: StartLocal) -> None:
    server = await start_local({"COMMANDPOST_LIMITS_JOIN_TIMEOUT_S": "0.5"})
    room = await server.create_room()
    idle = await server.client()
    started = time.monotonic()
    await idle.error("join_timeout", timeout=3)
    assert await idle.wait_closed() == 1008
    assert time.monotonic() - started < 2
    prompt = await server.client()
    await prompt.join(code=room["share_code"])
    await asyncio.sleep(0.8)
    assert not prompt.closed.is_set()


async def test_locked_room_refuses_new_joins_but_keeps_members(local: LocalServer) -> None:
    room = await local.create_room()
    host, _ = await local.joined_client(room, "Host", host=True)
    guest, _ = await local.joined_client(room, "Early")
    await host.send({"type": "lock", "locked": True})
    assert (await guest.recv("room_locked"))["locked"] is True
    await host.recv("room_locked")
    late = await local.client()
    await late.send({"type": "join", "code": room["share_code"]})
    await late.error("room_locked")
    assert await local.redis.hget(f"cp:room:{room['room_id']}", "locked") == "1"
    cohost = await local.client()  # admins may still enter
    await cohost.join(token=local.token(room["room_id"], "co", ["join", "admin"]))
    await host.send({"type": "lock", "locked": False})
    await late.recv("error")  # still only the one error
    await guest.recv("room_locked", locked=False)
    await late.join(code=room["share_code"])
    await guest.send({"type": "ping"})
    await guest.recv("pong")


async def test_participant_limit(start_local: StartLocal) -> None:
    server = await start_local({"COMMANDPOST_LIMITS_MAX_PARTICIPANTS_PER_ROOM": "2"})
    room = await server.create_room()
    await server.joined_client(room, "One")
    await server.joined_client(room, "Two")
    third = await server.client()
    await third.send({"type": "join", "code": room["share_code"]})
    assert "2 participants" in (await third.error("room_full"))["message"]
    hidden = await server.client()  # a hidden recorder does not take a seat
    await hidden.join(token=server.token(room["room_id"], "rec", ["join", "hidden",
                                                                   "subscribe"]))


async def test_resume_reclaims_the_participant_id(local: LocalServer) -> None:
    room = await local.create_room()
    host, _ = await local.joined_client(room, "Host", host=True)
    first = await local.client()
    joined = await first.join(code=room["share_code"], name="Mobile")
    await host.recv("participant_joined")
    second = await local.client()  # the phone switched networks; the old socket lingers
    again = await second.join(code=room["share_code"], name="Mobile",
                              resume=joined["resume_token"])
    assert again["participant_id"] == joined["participant_id"]
    assert again["resume_token"] != joined["resume_token"]
    assert await first.wait_closed() == 1000
    await asyncio.sleep(0.3)
    assert not host.of_type("participant_left")
    assert len(host.of_type("participant_joined")) == 1
    stale = await local.client()
    await stale.send({"type": "join", "code": room["share_code"],
                      "resume": joined["resume_token"]})
    fresh = await stale.recv("joined")  # an old resume token is just a new join
    assert fresh["participant_id"] != joined["participant_id"]
