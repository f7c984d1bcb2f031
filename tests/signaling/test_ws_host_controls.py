"""Host controls over the WebSocket: mute, kick, lock (see test_ws_join), revoke a share."""

from __future__ import annotations

import asyncio
import json

from local_node import LocalServer

from signaling.store import participants_key


async def test_host_mutes_a_participant(local: LocalServer) -> None:
    room = await local.create_room()
    host, host_joined = await local.joined_client(room, "Host", host=True)
    guest, joined = await local.joined_client(room, "Loud")
    pid = joined["participant_id"]
    await host.send({"type": "mute", "participant_id": pid, "kind": "audio"})
    muted = await guest.recv("muted")
    assert muted == {"type": "muted", "kind": "audio", "by": host_joined["participant_id"]}
    for client in (host, guest):
        state = await client.recv("participant_state", participant_id=pid)
        assert (state["audio"], state["video"]) == (False, True)
    record = json.loads(await local.redis.hget(participants_key(room["room_id"]), pid))
    assert record["muted_audio"] is True and record["audio"] is False
    # The participant may unmute itself; the host mute is lifted.
    await guest.send({"type": "state", "audio": True})
    state = await host.recv("participant_state", participant_id=pid, audio=True)
    assert state["video"] is True
    record = json.loads(await local.redis.hget(participants_key(room["room_id"]), pid))
    assert record["muted_audio"] is False


async def test_mute_of_unknown_participant(local: LocalServer) -> None:
    room = await local.create_room()
    host, _ = await local.joined_client(room, "Host", host=True)
    await host.send({"type": "mute", "participant_id": "p_ghost", "kind": "video"})
    assert (await host.error("unknown_participant"))["ref"] == "mute"


async def test_host_kicks_a_participant(local: LocalServer) -> None:
    room = await local.create_room()
    host, host_joined = await local.joined_client(room, "Host", host=True)
    other, _ = await local.joined_client(room, "Other")
    guest, joined = await local.joined_client(room, "Rude")
    pid = joined["participant_id"]
    await host.send({"type": "kick", "participant_id": pid})
    assert (await guest.recv("kicked"))["by"] == host_joined["participant_id"]
    await guest.wait_closed()
    for client in (host, other):
        left = await client.recv("participant_left", participant_id=pid)
        assert left["reason"] == "kicked"
    assert not await local.redis.hexists(participants_key(room["room_id"]), pid)
    # Its resume token is worthless now: a resume join makes a new participant.
    again = await local.client()
    await again.send({"type": "join", "code": room["share_code"],
                      "resume": joined["resume_token"]})
    assert (await again.recv("joined"))["participant_id"] != pid


async def test_guests_cannot_use_host_controls(local: LocalServer) -> None:
    room = await local.create_room()
    host, host_joined = await local.joined_client(room, "Host", host=True)
    guest, _ = await local.joined_client(room, "Guest")
    for message in ({"type": "kick", "participant_id": host_joined["participant_id"]},
                    {"type": "lock", "locked": True},
                    {"type": "revoke_share", "code": room["share_code"]}):
        await guest.send(message)
        assert (await guest.recv("error", ref=message["type"]))["code"] == "forbidden"
    await asyncio.sleep(0.1)
    assert not host.of_type("kicked") and not host.of_type("room_locked")


async def test_host_revokes_the_share_link(local: LocalServer) -> None:
    room = await local.create_room()
    host, _ = await local.joined_client(room, "Host", host=True)
    early, _ = await local.joined_client(room, "Early")
    await host.send({"type": "revoke_share", "code": room["share_code"]})
    assert (await host.recv("share_revoked"))["code"] == room["share_code"]
    late = await local.client()
    await late.send({"type": "join", "code": room["share_code"]})
    await late.error("auth_failed")
    await host.send({"type": "revoke_share", "code": room["share_code"]})
    await host.error("unknown_share")
    other = await local.create_room()
    await host.send({"type": "revoke_share", "code": other["share_code"]})
    await host.error("unknown_share")  # a host of one room cannot revoke another's links
    await early.send({"type": "ping"})
    await early.recv("pong")
