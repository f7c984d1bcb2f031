"""WebSocket limits: message size, rate and flooding; the abuser is refused, nobody else is."""

from __future__ import annotations

import asyncio
import json

from local_node import LocalServer, StartLocal

from signaling.store import participants_key, room_key


async def room_state(server: LocalServer, room_id: str) -> tuple[dict, set[str]]:
    record = await server.redis.hgetall(room_key(room_id))
    members = set(await server.redis.hkeys(participants_key(room_id)))
    return record, members


async def test_oversized_message_gets_too_large_and_the_session_lives(
        local: LocalServer) -> None:
    room = await local.create_room()
    client, joined = await local.joined_client(room, "Big")
    limit = local.config.limits.ws_max_message_bytes
    await client.send({"type": "state", "audio": True, "pad": "x" * limit})
    error = await client.error("too_large")
    assert str(limit) in error["message"]
    await client.send({"type": "ping", "t": 1})
    assert (await client.recv("pong"))["t"] == 1
    _, members = await room_state(local, room["room_id"])
    assert joined["participant_id"] in members


async def test_frame_over_the_hard_cap_closes_only_that_socket(local: LocalServer) -> None:
    room = await local.create_room()
    host, _ = await local.joined_client(room, "Host", host=True)
    huge, joined = await local.joined_client(room, "Huge")
    await huge.send_raw("x" * (local.config.limits.ws_max_message_bytes * 4 + 10))
    assert await huge.wait_closed() == 1009
    left = await host.recv("participant_left")
    assert left["participant_id"] == joined["participant_id"]
    await host.send({"type": "ping"})
    await host.recv("pong")


async def test_flood_is_rate_limited_then_disconnected(start_local: StartLocal) -> None:
    server = await start_local({"COMMANDPOST_LIMITS_WS_MESSAGES_PER_SECOND": "5",
                                "COMMANDPOST_LIMITS_WS_MESSAGE_BURST": "10"})
    room = await server.create_room()
    host, host_joined = await server.joined_client(room, "Host", host=True)
    calm, calm_joined = await server.joined_client(room, "Calm")
    flood, flood_joined = await server.joined_client(room, "Flood")
    before, _ = await room_state(server, room["room_id"])

    # A short burst over the limit: refused messages, an error, but still connected.
    for i in range(14):
        await flood.send({"type": "ping", "t": i})
    error = await flood.error("rate_limited")
    assert "5 messages per second" in error["message"]
    await asyncio.sleep(0.3)
    assert not flood.closed.is_set()
    assert len(flood.of_type("pong")) < 14

    # Sustained flooding: closed with 1008; everyone else unaffected.
    for i in range(200):
        if flood.closed.is_set():
            break
        await flood.send({"type": "state", "audio": bool(i % 2)})
    assert await flood.wait_closed() == 1008
    left = await host.recv("participant_left")
    assert left["participant_id"] == flood_joined["participant_id"]
    await calm.send({"type": "ping", "t": 7})
    assert (await calm.recv("pong"))["t"] == 7
    after, members = await room_state(server, room["room_id"])
    assert after == before
    assert members == {host_joined["participant_id"], calm_joined["participant_id"]}
    assert not calm.of_type("error")


async def test_malformed_messages_do_not_disturb_others(local: LocalServer) -> None:
    room = await local.create_room()
    host, _ = await local.joined_client(room, "Host", host=True)
    bad, _ = await local.joined_client(room, "Bad")
    await host.recv("participant_joined")
    for text in ("{", "[]", "null", json.dumps({"type": "mute"}), "\u0000", "{" * 5000):
        await bad.send_raw(text)
    await asyncio.sleep(0.2)
    codes = [e["code"] for e in bad.of_type("error")]
    assert codes == ["bad_json", "bad_json", "bad_json", "bad_message", "bad_json", "bad_json"]
    assert not bad.closed.is_set() and not host.of_type("error")


async def test_sdp_size_limit_is_checked_before_parsing(start_local: StartLocal) -> None:
    server = await start_local({"COMMANDPOST_LIMITS_MAX_SDP_BYTES": "2048"})
    room = await server.create_room()
    client, _ = await server.joined_client(room, "Verbose")
    sdp = "v=0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\n" + "a=x-filler:" + "y" * 3000 + "\r\n"
    await client.send({"type": "publish", "sdp": sdp})
    error = await client.error("bad_sdp")
    assert "limit is 2048" in error["message"] and error["ref"] == "publish"
