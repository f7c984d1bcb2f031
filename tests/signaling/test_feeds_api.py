"""Feeds REST (/api/rooms/{id}/feeds) on an in-process node: validation, limits, WHIP feeds,
Redis records and resumption, with a real aiortc meeting going on beside it."""

from __future__ import annotations

import asyncio
import json

from aiortc import RTCSessionDescription
from local_node import LocalServer, StartLocal, stop_node
from rtc_peer import MediaPeer, SyntheticCamera, ToneMicrophone, new_pc
from test_whip_whep import SDP, bearer, count_frames, offer_of, wait_count

from signaling.feed_store import feeds_key


async def meeting(local: LocalServer, room: dict) -> tuple[MediaPeer, MediaPeer, str]:
    """Alice publishes, Bob watches: the bystanders every bad request must leave alone."""
    alice_ws, alice_joined = await local.joined_client(room, "Alice")
    bob_ws, _ = await local.joined_client(room, "Bob")
    alice, bob = MediaPeer(alice_ws), MediaPeer(bob_ws)
    await alice.publish()
    await bob.wait_frames(alice_joined["participant_id"], "video", 5)
    return alice, bob, alice_joined["participant_id"]


async def test_bad_feed_requests_get_clear_errors_and_disturb_nobody(local: LocalServer) -> None:
    room = await local.create_room()
    room_id, host = room["room_id"], bearer(room["host_token"])
    alice, bob, alice_id = await meeting(local, room)
    path = f"/api/rooms/{room_id}/feeds"
    guest = bearer(local.token(room_id, "g", ["join", "publish", "subscribe"]))
    cases = [
        (path, host, {"kind": "rtsp", "url": "file:///etc/passwd"}, 400, "bad_request",
         "url scheme 'file' is not allowed"),
        (path, host, {"kind": "rtsp", "url": "concat:rtsp://x/a|file:///etc/passwd"}, 400,
         "bad_request", "url scheme 'concat' is not allowed"),
        (path, host, {"kind": "rtsp", "url": "http://192.0.2.1/cam"}, 400, "bad_request",
         "url scheme 'http' is not allowed"),
        (path, host, {"kind": "rtsp"}, 400, "bad_request", "an rtsp feed needs url"),
        (path, host, {"kind": "srt", "url": "srt://x"}, 400, "bad_request",
         "kind must be one of rtsp, rtmp, whip"),
        (path, host, {"kind": "whip", "name": "x" * 9000}, 413, "too_large", "body is larger"),
        (path, guest, {"kind": "whip"}, 403, "forbidden", "token lacks the 'admin' grant"),
        (path, {}, {"kind": "whip"}, 401, "auth_failed", "missing 'Authorization"),
        ("/api/rooms/r_ghost/feeds", bearer(local.token("r_ghost", "h", ["admin"])),
         {"kind": "rtsp", "url": "rtsp://192.0.2.1/cam"}, 404, "room_not_found",
         "no room 'r_ghost'"),
    ]
    for url, auth, body, status, code, message in cases:
        got, answer, _ = await local.request("POST", url, data=json.dumps(body), headers=auth)
        assert (got, answer["error"]) == (status, code), answer
        assert answer["message"].startswith(message), answer
    got, answer, _ = await local.request("POST", path, data=b"{not json", headers=host)
    assert (got, answer["error"]) == (400, "bad_json")
    for method in ("GET", "DELETE"):
        got, answer, _ = await local.request(method, f"{path}/0123456789ab", headers=host)
        assert (got, answer["error"]) == (404, "feed_not_found"), answer
    got, answer, _ = await local.request("GET", path, headers=host)
    assert (got, answer) == (200, {"feeds": []})
    assert not await local.redis.exists(feeds_key(room_id))
    assert "r_ghost" not in local.node.rooms
    await bob.wait_frames(alice_id, "video", 10)  # the meeting went on throughout
    await alice.close()
    await bob.close()


async def test_feed_limit_per_room(start_local: StartLocal) -> None:
    local = await start_local({"COMMANDPOST_FEEDS_MAX_FEEDS_PER_ROOM": "2"})
    room = await local.create_room()
    path, host = f"/api/rooms/{room['room_id']}/feeds", bearer(room["host_token"])
    for n in range(2):
        got, answer, _ = await local.request("POST", path, json={"kind": "whip"}, headers=host)
        assert got == 201, answer
    got, answer, _ = await local.request("POST", path, json={"kind": "whip"}, headers=host)
    assert (got, answer["error"]) == (409, "too_many_feeds"), answer
    assert "feeds.max_feeds_per_room" in answer["message"]
    got, listed, _ = await local.request("GET", path, headers=host)
    assert len(listed["feeds"]) == 2
    await local.request("DELETE", f"{path}/{listed['feeds'][0]['feed_id']}", headers=host)
    got, answer, _ = await local.request("POST", path, json={"kind": "whip"}, headers=host)
    assert got == 201, answer


async def test_whip_feed_publishes_as_its_participant_and_plays_by_whep(
        local: LocalServer) -> None:
    room = await local.create_room()
    room_id, host = room["room_id"], bearer(room["host_token"])
    observer, _ = await local.joined_client(room, "Wall")
    watcher = MediaPeer(observer)
    got, feed, _ = await local.request(
        "POST", f"/api/rooms/{room_id}/feeds", headers=host,
        json={"kind": "whip", "name": "Drone 7", "location": {"lat": 31.2, "lon": 121.5}})
    assert got == 201, feed
    feed_id, pid = feed["feed_id"], feed["participant_id"]
    assert pid == f"feed-{feed_id}"
    assert feed["whip_url"] == f"{local.base_url}/whip/{room_id}"
    assert (feed["kind"], feed["name"], feed["state"]) == ("whip", "Drone 7", "connecting")
    assert feed["location"] == {"lat": 31.2, "lon": 121.5}
    announced = await observer.recv("feed")
    assert announced["feed"]["feed_id"] == feed_id and "token" not in announced["feed"]

    publisher, player = new_pc(), new_pc()
    try:
        publisher.addTransceiver(ToneMicrophone(), direction="sendonly")
        publisher.addTransceiver(SyntheticCamera(), direction="sendonly")
        got, answer, headers = await local.request(
            "POST", "/whip/" + room_id, data=(await offer_of(publisher)).encode(),
            headers=SDP | bearer(feed["token"]))
        assert got == 201, answer
        session = headers["Location"]
        await publisher.setRemoteDescription(RTCSessionDescription(answer, "answer"))
        joined = await observer.recv("participant_joined")
        assert joined["participant"]["id"] == pid and joined["participant"]["name"] == "Drone 7"
        live = await observer.recv("feed", timeout=10)
        assert (live["feed"]["state"], live["feed"]["video_codec"]) == ("live", "VP8"), live
        await watcher.wait_frames(pid, "video", 10)
        got, listed, _ = await local.request("GET", f"/api/rooms/{room_id}/feeds",
                                             headers=host)
        assert [(f["feed_id"], f["state"]) for f in listed["feeds"]] == [(feed_id, "live")]

        # WHEP plays the feed's video like any track
        got, info, _ = await local.request("GET", f"/api/rooms/{room_id}", headers=host)
        video = next(t for t in info["tracks"] if t["participant_id"] == pid
                     and t["kind"] == "video")
        counts: dict[str, int] = {}
        await count_frames(player, counts)
        player.addTransceiver("video", direction="recvonly")
        viewer = local.token(room_id, "wall-2", ["subscribe"])
        got, answer, _ = await local.request(
            "POST", f"/whep/{room_id}/{video['track_id']}",
            data=(await offer_of(player)).encode(), headers=SDP | bearer(viewer))
        assert got == 201, answer
        await player.setRemoteDescription(RTCSessionDescription(answer, "answer"))
        await wait_count(counts, "video", 10)

        # the session ends: the feed is lost, and stays registered
        got, _, _ = await local.request("DELETE", session, headers=bearer(feed["token"]))
        assert got == 200
        lost = await next_feed_state(observer, feed_id, "lost")
        assert lost["error"] == "the WHIP session ended"
        stored = json.loads(await local.redis.hget(feeds_key(room_id), feed_id))
        assert stored["state"] == "lost"

        # deleted: gone for everyone, and its token no longer publishes
        got, _, _ = await local.request("DELETE", f"/api/rooms/{room_id}/feeds/{feed_id}",
                                        headers=host)
        assert got == 204
        removed = await observer.recv("feed_removed")
        assert removed["feed_id"] == feed_id
        again = new_pc()
        again.addTransceiver(SyntheticCamera(), direction="sendonly")
        got, text, _ = await local.request(
            "POST", "/whip/" + room_id, data=(await offer_of(again)).encode(),
            headers=SDP | bearer(feed["token"]))
        await again.close()
        assert (got, text.split(":")[0]) == (403, "forbidden"), text
        assert "deleted" in text
    finally:
        await publisher.close()
        await player.close()
        await watcher.close()


async def next_feed_state(client, feed_id: str, state: str, timeout: float = 10) -> dict:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while loop.time() < deadline:
        for message in client.of_type("feed"):
            if message["feed"]["feed_id"] == feed_id and message["feed"]["state"] == state:
                return message["feed"]
        await asyncio.sleep(0.05)
    raise AssertionError(f"feed {feed_id} never became {state}: {client.of_type('feed')}")


async def test_feeds_are_in_joined_and_move_to_another_node(start_local: StartLocal) -> None:
    first = await start_local()
    room = await first.create_room()
    room_id, host = room["room_id"], bearer(room["host_token"])
    got, feed, _ = await first.request("POST", f"/api/rooms/{room_id}/feeds", headers=host,
                                       json={"kind": "whip", "name": "Gate"})
    assert got == 201
    assert room_id in first.node.rooms  # feeds keep the room on its node with nobody in it
    client, joined = await first.joined_client(room, "Late")
    assert [f["feed_id"] for f in joined["feeds"]] == [feed["feed_id"]]
    await client.close()
    await asyncio.sleep(0.3)
    assert room_id in first.node.rooms
    # another node over the same Redis lists the feed from Redis ...
    second = await start_local()
    admin = bearer(second.token(room_id, "h", ["admin"]))
    got, listed, _ = await second.request("GET", f"/api/rooms/{room_id}/feeds", headers=admin)
    assert [(f["name"], f["state"]) for f in listed["feeds"]] == [("Gate", "connecting")]
    assert "token" not in listed["feeds"][0]
    assert room_id not in second.node.rooms
    # ... and takes the room and its feeds over when the first node stops
    await stop_node(first)
    assert await second.node.resume_feeds() == [room_id]
    assert list(second.node.rooms[room_id].feeds.records) == [feed["feed_id"]]
    assert await second.redis.hget(f"cp:room:{room_id}", "node") == second.node.node_id


async def test_secrets_stay_with_admins(local: LocalServer) -> None:
    room = await local.create_room()
    room_id, host = room["room_id"], bearer(room["host_token"])
    guest = bearer(local.token(room_id, "g", ["join", "subscribe"]))
    path = f"/api/rooms/{room_id}/feeds"
    got, cam, _ = await local.request("POST", path, headers=host, json={
        "kind": "rtsp", "url": "rtsp://admin:hunter2@127.0.0.1:9/cam"})
    assert got == 201, cam
    got, drone, _ = await local.request("POST", path, headers=host, json={"kind": "rtmp"})
    assert got == 201, drone
    ingest = drone["ingest_url"]
    assert ingest.startswith("rtmp://127.0.0.1:") and ingest.endswith("/feed")
    got, listed, _ = await local.request("GET", path, headers=guest)
    assert got == 200
    text = json.dumps(listed)
    assert "hunter2" not in text and ingest.split("/")[3] not in text
    assert listed["feeds"][0]["url"] == "rtsp://admin:***@127.0.0.1:9/cam"
    got, own, _ = await local.request("GET", f"{path}/{drone['feed_id']}", headers=host)
    assert own["ingest_url"] == ingest  # the admin can read it again
    stored = json.loads(await local.redis.hget(feeds_key(room_id), cam["feed_id"]))
    assert stored["url"] == "rtsp://admin:hunter2@127.0.0.1:9/cam"  # the runner needs it
    port = drone["ingest_url"].split(":")[2].split("/")[0]
    assert await local.redis.hget("cp:rtmp_ports", port) == f"{room_id}/{drone['feed_id']}"
    got, _, _ = await local.request("DELETE", f"{path}/{drone['feed_id']}", headers=host)
    assert got == 204
    assert not await local.redis.hexists("cp:rtmp_ports", port)


async def test_rtmp_port_range_exhausted(start_local: StartLocal) -> None:
    from local_node import free_port

    port = free_port()
    local = await start_local({"COMMANDPOST_FEEDS_RTMP_PORT_MIN": str(port),
                               "COMMANDPOST_FEEDS_RTMP_PORT_MAX": str(port)})
    room = await local.create_room()
    path, host = f"/api/rooms/{room['room_id']}/feeds", bearer(room["host_token"])
    got, first, _ = await local.request("POST", path, json={"kind": "rtmp"}, headers=host)
    assert got == 201 and f":{port}/" in first["ingest_url"], first
    got, answer, _ = await local.request("POST", path, json={"kind": "rtmp"}, headers=host)
    assert (got, answer["error"]) == (503, "no_rtmp_port"), answer
    assert f"all RTMP ports {port}-{port} are taken" in answer["message"]
    got, listed, _ = await local.request("GET", path, headers=host)
    assert len(listed["feeds"]) == 1  # the refused one left nothing behind


async def test_whip_feed_enters_a_locked_room_and_a_new_session_replaces_the_old(
        local: LocalServer) -> None:
    room = await local.create_room()
    room_id, host = room["room_id"], bearer(room["host_token"])
    hostws, _ = await local.joined_client(room, "Host", host=True)
    await hostws.send({"type": "lock", "locked": True})
    await hostws.recv("room_locked")
    got, feed, _ = await local.request("POST", f"/api/rooms/{room_id}/feeds", headers=host,
                                       json={"kind": "whip", "name": "Drone 9"})
    assert got == 201, feed
    pcs = []
    try:
        sessions = []
        for _ in range(2):  # the encoder reconnects before its old session ended
            pc = new_pc()
            pcs.append(pc)
            pc.addTransceiver(SyntheticCamera(), direction="sendonly")
            got, answer, headers = await local.request(
                "POST", f"/whip/{room_id}", data=(await offer_of(pc)).encode(),
                headers=SDP | bearer(feed["token"]))
            assert got == 201, answer
            await pc.setRemoteDescription(RTCSessionDescription(answer, "answer"))
            sessions.append(headers["Location"])
        room_obj = local.node.rooms[room_id]
        assert [m for m in room_obj.members if m.startswith("feed-")] == [feed["participant_id"]]
        got, _, _ = await local.request("DELETE", sessions[0], headers=bearer(feed["token"]))
        assert got == 404  # the old session is gone, the new one publishes
        got, listed, _ = await local.request("GET", f"/api/rooms/{room_id}/feeds", headers=host)
        assert listed["feeds"][0]["state"] == "live"
        # a plain publish token still meets the lock
        other = new_pc()
        pcs.append(other)
        other.addTransceiver(SyntheticCamera(), direction="sendonly")
        got, text, _ = await local.request(
            "POST", f"/whip/{room_id}", data=(await offer_of(other)).encode(),
            headers=SDP | bearer(local.token(room_id, "cam", ["publish"])))
        assert (got, text.split(":")[0]) == (423, "room_locked"), text
    finally:
        for pc in pcs:
            await pc.close()
