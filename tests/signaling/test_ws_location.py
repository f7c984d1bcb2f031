"""The `location` message: checked, stored (latest per participant), broadcast, listed in
`joined` and by REST, kept across a resume and gone with its participant."""

from __future__ import annotations

import asyncio
import time

import pytest
from local_node import LocalServer

from signaling.store import locations_key
from signaling.tokens import verify_token

HERE = {"type": "location", "lat": 31.2304, "lon": 121.4737, "accuracy_m": 12.5,
        "heading": 90.0, "speed_mps": 1.2}


async def rest_locations(local: LocalServer, room_id: str, token: str) -> list[dict]:
    status, body, _ = await local.request("GET", f"/api/rooms/{room_id}/locations",
                                          headers={"Authorization": f"Bearer {token}"})
    assert status == 200, body
    return body["locations"]


async def test_location_is_stored_and_broadcast(local: LocalServer) -> None:
    room = await local.create_room()
    watcher, _ = await local.joined_client(room, "Wall")
    field, joined = await local.joined_client(room, "Unit 7")
    pid = joined["participant_id"]
    await field.send(HERE)
    for client in (watcher, field):
        msg = await client.recv("location", participant_id=pid)
        assert {k: msg[k] for k in HERE} == HERE
        assert msg["name"] == "Unit 7" and abs(msg["ts"] - time.time()) < 5
    assert await local.redis.hexists(locations_key(room["room_id"]), pid)
    # A newer fix replaces the old one; optional fields may be null.
    await field.send({"type": "location", "lat": -33.5, "lon": -70.25, "heading": None})
    latest = await watcher.recv("location", participant_id=pid, lat=-33.5)
    assert (latest["accuracy_m"], latest["heading"], latest["speed_mps"]) == (None, None, None)
    [listed] = await rest_locations(local, room["room_id"], room["host_token"])
    assert (listed["participant_id"], listed["lat"], listed["lon"]) == (pid, -33.5, -70.25)
    assert "type" not in listed


@pytest.mark.parametrize("bad, expect", [
    ({"lat": 90.5, "lon": 0}, "'lat' must be between -90 and 90"),
    ({"lat": 0, "lon": -180.01}, "'lon' must be between -180 and 180"),
    ({"lat": 0}, "missing field 'lon'"),
    ({"lat": "31.2", "lon": 121}, "'lat' must be a number"),
    ({"lat": True, "lon": 121}, "'lat' must be a number"),
    ({"lat": 1, "lon": 1, "accuracy_m": -1}, "'accuracy_m' must be between 0 and"),
    ({"lat": 1, "lon": 1, "heading": 360}, "'heading' must be between 0 and 360 (exclusive)"),
    ({"lat": 1, "lon": 1, "speed_mps": 5000}, "'speed_mps' must be between 0 and 1000"),
])
async def test_bad_location_is_refused_and_nothing_stored(local: LocalServer, bad: dict,
                                                          expect: str) -> None:
    room = await local.create_room()
    watcher, _ = await local.joined_client(room, "Wall")
    field, _ = await local.joined_client(room, "Unit")
    await field.send({"type": "location", **bad})
    error = await field.recv("error", ref="location")
    assert error["code"] == "bad_message" and expect in error["message"], error
    assert await local.redis.hlen(locations_key(room["room_id"])) == 0
    # The session goes on: a good fix after the bad one is accepted.
    await field.send(HERE)
    await watcher.recv("location")
    assert not watcher.of_type("error")


async def test_non_finite_numbers_are_refused(local: LocalServer) -> None:
    room = await local.create_room()
    field, _ = await local.joined_client(room, "Unit")
    for text in ('{"type":"location","lat":NaN,"lon":0}',
                 '{"type":"location","lat":0,"lon":Infinity}'):
        await field.send_raw(text)
        error = await field.recv("error", ref="location")
        assert "finite" in error["message"], error
    assert await local.redis.hlen(locations_key(room["room_id"])) == 0


async def test_location_needs_the_publish_grant(local: LocalServer) -> None:
    room = await local.create_room()
    viewer = await local.client()
    await viewer.join(token=local.token(room["room_id"], "viewer", ["join", "subscribe"]))
    await viewer.send(HERE)
    assert (await viewer.recv("error", ref="location"))["code"] == "forbidden"
    assert await local.redis.hlen(locations_key(room["room_id"])) == 0


async def test_joined_carries_locations_and_a_rest_token(local: LocalServer) -> None:
    room = await local.create_room()
    field, joined = await local.joined_client(room, "Unit 7")
    await field.send(HERE)
    await field.recv("location")
    late, late_joined = await local.joined_client(room, "Wall")
    [entry] = late_joined["locations"]
    assert entry["participant_id"] == joined["participant_id"] and entry["lat"] == HERE["lat"]
    # The share-code guest got a token naming its participant, good for the room's REST API
    # and for nothing else: it cannot join (a revoked share code must stay revoked).
    claims = verify_token(local.secret, late_joined["token"], room["room_id"])
    assert claims.identity == late_joined["participant_id"]
    assert claims.grants == {"publish_data"}
    assert claims.expires_at <= time.time() + local.config.tokens.host_ttl_s + 1
    assert len(await rest_locations(local, room["room_id"], late_joined["token"])) == 1
    again = await local.client()
    await again.send({"type": "join", "token": late_joined["token"]})
    assert (await again.recv("error", ref="join"))["code"] == "forbidden"


async def test_resume_keeps_the_location_and_leave_drops_it(local: LocalServer) -> None:
    room = await local.create_room()
    watcher, _ = await local.joined_client(room, "Wall")
    field = await local.client(autoping=False)  # a phone whose network will vanish
    joined = await field.join(code=room["share_code"], name="Unit 7")
    pid = joined["participant_id"]
    await field.send(HERE)
    await watcher.recv("location", participant_id=pid)
    again = await local.client()
    resumed = await again.join(code=room["share_code"], name="Unit 7",
                               resume=joined["resume_token"])
    assert resumed["participant_id"] == pid
    assert [loc["participant_id"] for loc in resumed["locations"]] == [pid]
    assert [loc["participant_id"] for loc in
            await rest_locations(local, room["room_id"], room["host_token"])] == [pid]
    await again.send({"type": "leave"})
    await watcher.recv("participant_left", participant_id=pid)
    await asyncio.sleep(0.1)
    assert await rest_locations(local, room["room_id"], room["host_token"]) == []


async def test_locations_rest_needs_a_token_of_the_room(local: LocalServer) -> None:
    room = await local.create_room()
    other = await local.create_room()
    path = f"/api/rooms/{room['room_id']}/locations"
    status, body, _ = await local.request("GET", path)
    assert status == 401 and body["error"] == "auth_failed"
    status, body, _ = await local.request(
        "GET", path, headers={"Authorization": f"Bearer {other['host_token']}"})
    assert status == 403 and body["error"] == "wrong_room"
