"""`commandpost serve` with two SFU worker processes behind its front (real processes, real
Redis, real aiortc media): rooms pinned to different workers both carry media at once, a
killed worker comes back and serves its room again, REST/WHIP/WHEP and bad input go through
the front exactly as they would to a single process."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import time
import urllib.error
import urllib.request
from typing import Any

import aiohttp
import pytest
import redis
from aiortc import RTCSessionDescription

from rtc_peer import LOOPBACK, MediaPeer, SyntheticCamera, ToneMicrophone, new_pc
from sfu.aiortc_bridge import restrict_ice_addresses
from signal_client import WsClient

pytestmark = pytest.mark.timeout(120)
TWO_WORKERS = {"COMMANDPOST_SERVER_WORKERS": "2"}


def get_json(url: str, token: str | None = None) -> tuple[int, Any]:
    request = urllib.request.Request(url)
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def health(server: Any) -> dict[str, Any]:
    status, body = get_json(f"{server.base_url}/healthz")
    assert status == 200, body
    return body


def room_node(server: Any, room: dict[str, Any]) -> str:
    status, info = get_json(f"{server.base_url}/api/rooms/{room['room_id']}",
                            room["host_token"])
    assert status == 200, info
    return info["node"]


class Meeting:
    """A publisher and a subscriber in one room, both joined through the front."""

    def __init__(self) -> None:
        self.clients: list[WsClient] = []
        self.peers: list[MediaPeer] = []

    async def start(self, base_url: str, room: dict[str, Any]) -> None:
        pub_ws = await self._join(base_url, room, "Publisher")
        sub_ws = await self._join(base_url, room, "Subscriber")
        self.publisher_id = pub_ws.of_type("joined")[0]["participant_id"]
        self.publisher, self.subscriber = MediaPeer(pub_ws), MediaPeer(sub_ws)
        self.peers += [self.publisher, self.subscriber]
        await self.publisher.publish()

    async def _join(self, base_url: str, room: dict[str, Any], name: str) -> WsClient:
        client = await WsClient.connect(base_url)
        self.clients.append(client)
        await client.join(code=room["share_code"], name=name)
        return client

    async def frames(self, count: int) -> int:
        return await self.subscriber.wait_frames(self.publisher_id, "video", count,
                                                 timeout=30)

    async def close(self) -> None:
        for peer in self.peers:
            await peer.close()
        for client in self.clients:
            await client.close()


async def test_rooms_on_two_workers_carry_media_at_once(redis_url, start_commandpost):
    server = start_commandpost(redis_url, TWO_WORKERS)
    workers = health(server)["workers"]
    assert len(workers) == 2 and all(w["state"] == "ready" for w in workers)
    pids = {w["node_id"]: w["pid"] for w in workers}
    assert len(set(pids.values())) == 2 and server.proc.pid not in pids.values()
    rooms = [server.create_room("Room A"), server.create_room("Room B")]
    meetings = [Meeting(), Meeting()]
    try:
        # Both rooms' first joins arrive together: they must still spread over the workers.
        await asyncio.gather(*(m.start(server.base_url, r) for m, r in zip(meetings, rooms)))
        nodes = [room_node(server, room) for room in rooms]
        assert set(nodes) == set(pids), nodes  # one room on each worker process
        # Both rooms forward video at the same time, each by its own process.
        await asyncio.gather(*(m.frames(30) for m in meetings))
        await asyncio.sleep(1.5)  # the front polls worker load every second
        report = {w["node_id"]: w for w in health(server)["workers"]}
        assert [report[n]["rooms"] for n in nodes] == [1, 1]
        assert [report[n]["participants"] for n in nodes] == [2, 2]
        for node in nodes:  # each worker answers for itself on its own port
            status, own = get_json(f"http://127.0.0.1:{report[node]['port']}/healthz")
            assert (own["node_id"], own["pid"], own["rooms"]) == (node, pids[node], 1)
    finally:
        for meeting in meetings:
            await meeting.close()


async def test_killed_worker_is_restarted_and_its_room_works_again(redis_url,
                                                                   start_commandpost):
    server = start_commandpost(redis_url, TWO_WORKERS)
    room = server.create_room("Survivor")
    first = Meeting()
    try:
        await first.start(server.base_url, room)
        await first.frames(10)
        node = room_node(server, room)
        victim = next(w for w in health(server)["workers"] if w["node_id"] == node)
        os.kill(victim["pid"], signal.SIGKILL)  # a worker our server process started
        code = await first.clients[0].wait_closed(timeout=10)
        assert code == 1012  # "service restart": clients reconnect
    finally:
        await first.close()
    restarted = await _wait_restarted(server, victim)
    assert restarted["pid"] != victim["pid"] and restarted["restarts"] == 1
    again = Meeting()
    try:
        await again.start(server.base_url, room)
        await again.frames(10)
        assert room_node(server, room) in {w["node_id"] for w in health(server)["workers"]}
    finally:
        await again.close()


async def _wait_restarted(server: Any, victim: dict[str, Any]) -> dict[str, Any]:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        status, body = get_json(f"{server.base_url}/healthz")
        worker = next(w for w in body["workers"] if w["index"] == victim["index"])
        if worker["state"] == "ready" and worker["pid"] != victim["pid"]:
            return worker
        await asyncio.sleep(0.2)
    raise AssertionError(f"worker {victim['index']} was not restarted: {body}")


async def test_whip_and_whep_are_routed_to_the_rooms_worker(redis_url, start_commandpost):
    server = start_commandpost(redis_url, TWO_WORKERS)
    rooms = [server.create_room("Busy"), server.create_room("Streamed")]
    busy = Meeting()
    publisher = player = None
    try:
        await busy.start(server.base_url, rooms[0])  # pins room 0 to one worker
        room = rooms[1]
        token = server.mint_token(room["room_id"], "cam", ["join", "publish", "subscribe"])
        async with aiohttp.ClientSession() as http:
            publisher = new_pc()
            publisher.addTransceiver(SyntheticCamera(), direction="sendonly")
            publisher.addTransceiver(ToneMicrophone(), direction="sendonly")
            location = await _sdp_exchange(http, publisher, f"{server.base_url}/whip/"
                                           f"{room['room_id']}", token)
            assert location.startswith(f"/whip/{room['room_id']}/")
            nodes = {room_node(server, r) for r in rooms}
            assert len(nodes) == 2  # the WHIP room went to the other, idle worker
            status, info = get_json(f"{server.base_url}/api/rooms/{room['room_id']}",
                                    room["host_token"])
            video = next(t for t in info["tracks"] if t["kind"] == "video")
            player = new_pc()
            player.addTransceiver("video", direction="recvonly")
            frames = asyncio.get_running_loop().create_future()
            player.on("track", lambda track: frames.set_result(track)
                      if not frames.done() else None)
            whep = await _sdp_exchange(http, player, f"{server.base_url}/whep/"
                                       f"{room['room_id']}/{video['track_id']}", token)
            track = await asyncio.wait_for(frames, 20)
            for _ in range(5):
                await asyncio.wait_for(track.recv(), 20)
            for path in (whep, location):
                async with http.delete(server.base_url + path,
                                       headers={"Authorization": f"Bearer {token}"}) as resp:
                    assert resp.status == 200, await resp.text()
    finally:
        for pc in (publisher, player):
            if pc is not None:
                await pc.close()
        await busy.close()


async def _sdp_exchange(http: aiohttp.ClientSession, pc: Any, url: str, token: str) -> str:
    restrict_ice_addresses(pc, LOOPBACK)
    await pc.setLocalDescription(await pc.createOffer())
    async with http.post(url, data=pc.localDescription.sdp.encode(), headers={
            "Authorization": f"Bearer {token}", "Content-Type": "application/sdp"}) as resp:
        body = await resp.text()
        assert resp.status == 201, body
        location = resp.headers["Location"]
    await pc.setRemoteDescription(RTCSessionDescription(body, "answer"))
    return location


async def test_bad_input_gets_the_single_process_errors(redis_url, start_commandpost):
    server = start_commandpost(redis_url, TWO_WORKERS)
    room = server.create_room()
    status, body = get_json(f"{server.base_url}/api/rooms/r_nosuchroom", room["host_token"])
    assert (status, body["error"]) == (403, "wrong_room")
    token = server.mint_token("r_nosuchroom", "x", ["join", "subscribe"])
    status, body = get_json(f"{server.base_url}/api/rooms/r_nosuchroom", token)
    assert (status, body["error"]) == (404, "room_not_found")
    status, body = get_json(f"{server.base_url}/api/rooms/bad%20id", token)
    assert (status, body["error"]) == (404, "room_not_found")
    async with aiohttp.ClientSession() as http:
        async with http.post(f"{server.base_url}/whip/r_nosuchroom", data=b"v=0\r\n",
                             headers={"Authorization": f"Bearer {token}",
                                      "Content-Type": "application/sdp"}) as resp:
            assert resp.status == 403  # the token lacks publish: checked before the room
        async with http.get(f"{server.base_url}/static/no-such-file.js") as resp:
            assert resp.status == 404
        async with http.get(f"{server.base_url}/j/bad!code") as resp:
            assert (resp.status, (await resp.json())["error"]) == (404, "not_found")
    client = await WsClient.connect(server.base_url)
    try:
        await client.send({"type": "join", "token": token})
        error = await client.error("room_not_found")
        assert error["ref"] == "join"
        await client.send({"type": "join", "code": "nosuchcode"})
        await client.error("auth_failed")
        await client.send_raw("{not json")
        await client.error("bad_json")
        # After refused tries the same socket still joins a real room (on its worker).
        joined = await client.join(code=room["share_code"], name="Late")
        assert joined["room_id"] == room["room_id"]
        await client.send({"type": "ping", "t": 7})
        assert (await client.recv("pong"))["t"] == 7
    finally:
        await client.close()
    # SIGTERM to the front stops the workers cleanly too: no heartbeat left behind.
    pids = [w["pid"] for w in health(server)["workers"]]
    server.stop()
    assert server.proc.returncode == 0, server.log()
    assert not any(_running(pid) for pid in pids)
    client = redis.Redis.from_url(redis_url, decode_responses=True)
    try:
        assert client.keys("cp:node:*") == []
    finally:
        client.close()


async def test_a_socket_follows_its_join_to_the_rooms_worker(redis_url, start_commandpost):
    """A refused first join lands on one worker; the next join, for a room pinned to the
    other worker, moves the socket there (the client sees one socket throughout)."""
    server = start_commandpost(redis_url, TWO_WORKERS)
    room = server.create_room()
    host = await WsClient.connect(server.base_url)
    late = await WsClient.connect(server.base_url)
    try:
        await host.join(token=room["host_token"], name="Host")  # pins the room
        owner = room_node(server, room)
        await late.send({"type": "join", "token": "not-a-token"})
        await late.error("auth_failed")  # answered by the less loaded, other worker
        joined = await late.join(code=room["share_code"], name="Late")
        assert [p["name"] for p in joined["participants"]] == ["Host"]
        assert (await host.recv("participant_joined"))["participant"]["name"] == "Late"
        assert room_node(server, room) == owner
        for _ in range(200):  # flooding is still refused by the worker: close 1008
            await late.send_raw("{")
        assert await late.wait_closed(timeout=10) == 1008
        left = await host.recv("participant_left")
        assert left["participant_id"] == joined["participant_id"]
    finally:
        await host.close()
        await late.close()


def _running(pid: int) -> bool:
    """Alive and not a zombie (an orphan's zombie waits for whoever adopted it)."""
    try:
        stat = open(f"/proc/{pid}/stat", encoding="ascii").read()
    except FileNotFoundError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


async def test_workers_stop_when_their_front_is_killed(redis_url, start_commandpost):
    server = start_commandpost(redis_url, TWO_WORKERS)
    pids = [w["pid"] for w in health(server)["workers"]]
    assert all(_running(pid) for pid in pids)
    server.proc.kill()  # the front, which this test started: no chance to tidy up
    server.proc.wait(timeout=5)
    deadline = time.monotonic() + 15
    while any(_running(pid) for pid in pids):
        assert time.monotonic() < deadline, "workers outlived their front"
        await asyncio.sleep(0.2)


async def _raw_ws_join(base_url: str, message: dict[str, Any]) -> tuple[Any, dict[str, Any]]:
    """A WebSocket written by hand, so the test can drop its TCP connection without a close
    frame (a lost mobile link); returns the writer and the `joined` message."""
    host, port = base_url.removeprefix("http://").split(":")
    reader, writer = await asyncio.open_connection(host, int(port))
    writer.write((f"GET /ws HTTP/1.1\r\nHost: {host}:{port}\r\nUpgrade: websocket\r\n"
                  "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                  "Sec-WebSocket-Version: 13\r\n\r\n").encode())
    assert b" 101 " in await reader.readuntil(b"\r\n\r\n")
    payload, mask = json.dumps(message).encode(), os.urandom(4)
    header = bytes([0x81, 0x80 | 126]) + len(payload).to_bytes(2, "big") + mask
    writer.write(header + bytes(b ^ mask[i % 4] for i, b in enumerate(payload)))
    while True:
        first, size = await reader.readexactly(2)
        size = int.from_bytes(await reader.readexactly(2), "big") if size == 126 else size
        data = json.loads(await reader.readexactly(size)) if first & 0x0F == 1 else {}
        if data.get("type") == "joined":
            return writer, data


async def test_a_lost_connection_resumes_through_the_front(redis_url, start_commandpost):
    server = start_commandpost(redis_url, TWO_WORKERS)
    room = server.create_room()
    watcher = await WsClient.connect(server.base_url)
    try:
        await watcher.join(code=room["share_code"], name="Watcher")
        writer, joined = await _raw_ws_join(server.base_url, {
            "type": "join", "code": room["share_code"], "name": "Mobile"})
        writer.transport.abort()  # the link is gone: no close frame, no clean leave
        await asyncio.sleep(1.0)
        assert not watcher.of_type("participant_left")  # kept for a resume ...
        back = await WsClient.connect(server.base_url)
        try:
            again = await back.join(code=room["share_code"], name="Mobile",
                                    resume=joined["resume_token"])
            assert again["participant_id"] == joined["participant_id"]  # ... and resumed
        finally:
            await back.close()
    finally:
        await watcher.close()


async def test_no_worker_running_is_a_clear_error_then_recovers(redis_url, start_commandpost):
    server = start_commandpost(redis_url, TWO_WORKERS)
    room = server.create_room()
    workers = health(server)["workers"]
    for worker in workers:
        os.kill(worker["pid"], signal.SIGKILL)
    await asyncio.sleep(0.3)  # noticed at once; a restart takes 0.5 s plus start-up
    status, body = get_json(f"{server.base_url}/healthz")
    assert (status, body["status"]) == (503, "degraded"), body
    assert {w["state"] for w in body["workers"]} <= {"dead", "starting"}
    status, body = get_json(f"{server.base_url}/api/rooms/{room['room_id']}",
                            room["host_token"])
    assert (status, body["error"]) == (503, "unavailable")
    client = await WsClient.connect(server.base_url)
    try:
        await client.send({"type": "join", "code": room["share_code"]})
        assert (await client.error("unavailable"))["ref"] == "join"
        assert await client.wait_closed() == 1013
    finally:
        await client.close()
    for worker in workers:
        await _wait_restarted(server, worker)
    again = await WsClient.connect(server.base_url)
    try:
        assert (await again.join(code=room["share_code"]))["room_id"] == room["room_id"]
    finally:
        await again.close()
