"""Device feeds through a real `commandpost serve`: a GStreamer RTSP camera and an ffmpeg RTMP
push appear in a room, reach subscribers and WHEP players with the H.264 NAL units of the
source clip (not re-encoded), and bad input leaves the meeting beside them alone."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from rtc_peer import LOOPBACK, MediaPeer
from signal_client import WsClient
from test_feeds_api import next_feed_state

from sfu import aiortc_bridge as bridge
from aiortc.codecs.h264 import h264_depayload
from media_tools.cameras import RtspCamera, end_process, free_port, rtmp_push
from media_tools.clips import annexb_nal_units, make_clip

FEED_LIVE_S = 20  # a camera or a push is listed live within this
NAL_SLICE_TYPES = (1, 5)


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """30 s of 320x240 H.264 (constrained baseline, keyframe each second) + AAC: longer than
    a test, since the RTSP camera serves the file once per session."""
    return make_clip(tmp_path_factory.mktemp("clips") / "clip.mp4", seconds=30,
                     size="320x240", extra=["-profile:v", "baseline"])


@pytest.fixture(scope="module")
def source_nals(clip: Path) -> list[bytes]:
    return annexb_nal_units(clip)


@pytest.fixture
def camera(clip: Path) -> Iterator[RtspCamera]:
    cam = RtspCamera(file=clip)
    cam.start()
    try:
        yield cam
    finally:
        cam.stop()


class Api:
    def __init__(self, base_url: str, token: str, http: aiohttp.ClientSession) -> None:
        self.base_url, self.token, self.http = base_url, token, http

    async def call(self, method: str, path: str, body: Any = None,
                   headers: dict[str, str] | None = None, data: bytes | None = None
                   ) -> tuple[int, Any, Any]:
        headers = {"Authorization": f"Bearer {self.token}", **(headers or {})}
        async with self.http.request(method, self.base_url + path, json=body, data=data,
                                     headers=headers) as response:
            text = await response.text()
            try:
                return response.status, json.loads(text), response.headers
            except ValueError:
                return response.status, text, response.headers


@pytest.fixture
async def api(server) -> AsyncIterator[Api]:
    async with aiohttp.ClientSession() as http:
        yield Api(server.base_url, "", http)


async def meeting(server, room: dict) -> tuple[MediaPeer, MediaPeer, str]:
    """Alice publishes, Bob subscribes: the bystanders every feed must leave alone."""
    alice_ws = await WsClient.connect(server.base_url)
    bob_ws = await WsClient.connect(server.base_url)
    alice_joined = await alice_ws.join(code=room["share_code"], name="Alice")
    await bob_ws.join(code=room["share_code"], name="Bob")
    alice, bob = MediaPeer(alice_ws), MediaPeer(bob_ws)
    await alice.publish()
    await bob.wait_frames(alice_joined["participant_id"], "video", 5, timeout=15)
    return alice, bob, alice_joined["participant_id"]


async def close_meeting(*peers: MediaPeer) -> None:
    for peer in peers:
        await peer.close()
        await peer.ws.close()


async def wait_feed(api: Api, room_id: str, feed_id: str, check, what: str,
                    timeout: float = FEED_LIVE_S) -> dict:
    deadline = time.monotonic() + timeout
    feed: dict = {}
    while time.monotonic() < deadline:
        status, feed, _ = await api.call("GET", f"/api/rooms/{room_id}/feeds/{feed_id}")
        if status == 503:  # the room's worker just died: the front says "try again shortly"
            await asyncio.sleep(0.2)
            continue
        assert status == 200, feed
        if check(feed):
            return feed
        await asyncio.sleep(0.2)
    raise AssertionError(f"feed {feed_id}: {what} not within {timeout} s; last {feed}")


async def feed_tracks(api: Api, room_id: str, participant_id: str) -> dict[str, dict]:
    status, info, _ = await api.call("GET", f"/api/rooms/{room_id}")
    assert status == 200, info
    return {t["kind"]: t for t in info["tracks"] if t["participant_id"] == participant_id}


class WhepProbe:
    """A WHEP player (aiortc) that keeps the RTP it receives and decodes nothing."""

    def __init__(self) -> None:
        self.pc = bridge.new_peer_connection()
        self.transceiver = self.pc.addTransceiver("video", direction="recvonly")
        self.packets: list[Any] = []

        async def on_rtp(packet: Any, arrival_ms: int) -> bool:
            self.packets.append(packet)
            return True

        # No passthrough: the packets are all we compare, and decoding them too would load
        # the test process, which also runs Alice and Bob.
        bridge.tap_receiver_of(self.transceiver, on_rtp)

    async def play(self, api: Api, room_id: str, track_id: str, token: str) -> None:
        offer = await bridge.local_offer(self.pc, LOOPBACK)
        status, answer, _ = await api.call("POST", f"/whep/{room_id}/{track_id}",
                                           data=offer.encode(),
                                           headers={"Content-Type": "application/sdp",
                                                    "Authorization": f"Bearer {token}"})
        assert status == 201, answer
        await bridge.set_remote(self.pc, answer, "answer")

    def nal_units(self) -> list[bytes]:
        """Depacketised NAL units of every frame received complete (aiortc's depayloader
        writes Annex B; NAL units never hold a start code, so splitting at them is exact)."""
        by_ts: dict[int, dict[int, Any]] = {}
        ended = set()
        for packet in list(self.packets):
            by_ts.setdefault(packet.timestamp, {})[packet.sequence_number] = packet
            if packet.marker:
                ended.add(packet.timestamp)
        nals: list[bytes] = []
        for ts in ended:
            seqs = sorted(by_ts[ts])
            if seqs != list(range(seqs[0], seqs[0] + len(seqs))):
                continue  # a lost packet (or a sequence wrap): skip the frame
            data = b"".join(h264_depayload(by_ts[ts][s].payload) for s in seqs)
            nals += [n for n in data.split(b"\x00\x00\x00\x01") if n]
        return nals

    async def close(self) -> None:
        await self.pc.close()


async def assert_not_reencoded(probe: WhepProbe, source: list[bytes], minimum: int = 20
                               ) -> None:
    """Every slice and parameter set that arrived is byte-identical to one of the clip's."""
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        got = probe.nal_units()
        slices = [n for n in got if n[0] & 0x1F in NAL_SLICE_TYPES]
        if len(slices) >= minimum and any(n[0] & 0x1F == 5 for n in slices):
            break
        await asyncio.sleep(0.2)
    known = set(source)
    foreign = [n[:8].hex() for n in got if n[0] & 0x1F in (1, 5, 7, 8) and n not in known]
    assert not foreign, f"{len(foreign)} of {len(got)} NAL units are not the clip's: {foreign[:5]}"
    assert len({n for n in slices}) >= minimum, f"only {len(slices)} slices arrived"
    sps = [n for n in source if n[0] & 0x1F == 7]
    assert any(n == sps[0] for n in got), "the clip's SPS did not arrive byte-identical"
    print(f"\n[feeds] {len(slices)} slices ({len(set(slices))} distinct) and the SPS arrived "
          "byte-identical to the clip's")


async def test_rtsp_camera_and_rtmp_push_reach_the_room_unchanged(
        server, api: Api, camera: RtspCamera, clip: Path, source_nals: list[bytes]) -> None:
    room = server.create_room("Feeds")
    room_id = room["room_id"]
    api.token = room["host_token"]
    alice, bob, alice_id = await meeting(server, room)
    viewer = server.mint_token(room_id, "wall", ["subscribe"])
    probes: list[WhepProbe] = []
    push = None
    try:
        status, cam, _ = await api.call("POST", f"/api/rooms/{room_id}/feeds", {
            "kind": "rtsp", "url": camera.url, "name": "Gate camera",
            "location": {"lat": 31.23, "lon": 121.47}})
        assert status == 201, cam
        status, drone, _ = await api.call("POST", f"/api/rooms/{room_id}/feeds",
                                          {"kind": "rtmp", "name": "Drone 7"})
        assert status == 201, drone
        assert drone["ingest_url"].startswith("rtmp://127.0.0.1:")
        push = rtmp_push(clip, drone["ingest_url"], loop=True)
        started = time.monotonic()

        async def timed_live(feed: dict) -> dict:
            live = await wait_feed(api, room_id, feed["feed_id"],
                                   lambda f: f["state"] == "live" and f["width"], "live")
            print(f"\n[feeds] {feed['kind']} feed listed live {time.monotonic() - started:.1f} s "
                  "after it was registered (rtsp) / the push started (rtmp)")
            return live

        await asyncio.gather(timed_live(cam), timed_live(drone))
        for feed, name in ((cam, "Gate camera"), (drone, "Drone 7")):
            live = await wait_feed(api, room_id, feed["feed_id"],
                                   lambda f: f["state"] == "live", "still live")
            assert (live["name"], live["width"], live["height"]) == (name, 320, 240), live
            assert (live["video_codec"], live["audio_codec"]) == ("h264", "aac"), live
            assert live["last_frame_at"] > time.time() - 5
            tracks = await feed_tracks(api, room_id, feed["participant_id"])
            assert (tracks["video"]["codec"], tracks["audio"]["codec"]) == ("H264", "opus")
            assert tracks["video"]["source"] == "feed"
            # a meeting subscriber decodes it, a WHEP player gets the clip's own NAL units
            await bob.wait_frames(feed["participant_id"], "video", 10, timeout=15)
            await bob.wait_frames(feed["participant_id"], "audio", 10, timeout=15)
            probe = WhepProbe()
            probes.append(probe)
            await probe.play(api, room_id, tracks["video"]["track_id"], viewer)
            await assert_not_reencoded(probe, source_nals)

        status, listed, _ = await api.call("GET", f"/api/rooms/{room_id}/feeds")
        assert [f["state"] for f in listed["feeds"]] == ["live", "live"]
        for feed in (cam, drone):  # the room was told
            await next_feed_state(bob.ws, feed["feed_id"], "live")
        assert listed["feeds"][0]["bitrate_bps"] > 0 or listed["feeds"][1]["bitrate_bps"] > 0
        await bob.wait_frames(alice_id, "video", 10)  # the meeting goes on beside them

        for feed in (cam, drone):
            status, _, _ = await api.call("DELETE",
                                          f"/api/rooms/{room_id}/feeds/{feed['feed_id']}")
            assert status == 204
            assert await feed_tracks(api, room_id, feed["participant_id"]) == {}
            await bob.ws.recv("feed_removed", feed_id=feed["feed_id"])
        await bob.wait_frames(alice_id, "video", 10)
    finally:
        if push is not None:
            end_process(push)
        for probe in probes:
            await probe.close()
        await close_meeting(alice, bob)


async def test_bad_feed_input_gets_clear_errors_and_the_meeting_goes_on(
        server, api: Api, clip: Path) -> None:
    room = server.create_room("Bad feeds")
    room_id = room["room_id"]
    api.token = room["host_token"]
    alice, bob, alice_id = await meeting(server, room)
    feeds = f"/api/rooms/{room_id}/feeds"
    push = None
    try:
        # a URL with a disallowed scheme, a room that does not exist
        status, body, _ = await api.call("POST", feeds, {"kind": "rtsp",
                                                         "url": "file:///etc/passwd"})
        assert (status, body["error"]) == (400, "bad_request"), body
        assert "only rtsp:// and rtsps://" in body["message"]
        ghost = Api(server.base_url, server.mint_token("r_nope", "h", ["admin"]), api.http)
        status, body, _ = await ghost.call("POST", "/api/rooms/r_nope/feeds",
                                           {"kind": "rtsp", "url": "rtsp://127.0.0.1/cam"})
        assert (status, body["error"]) == (404, "room_not_found"), body

        # an RTSP URL nobody answers: lost with the reason, retried with backoff
        dead_url = f"rtsp://127.0.0.1:{free_port()}/cam"
        status, dead, _ = await api.call("POST", feeds, {"kind": "rtsp", "url": dead_url})
        assert status == 201, dead
        lost = await wait_feed(api, room_id, dead["feed_id"],
                               lambda f: f["state"] == "lost" and f["retries"] >= 2,
                               "lost and retried twice", timeout=15)
        assert lost["error"] and "refused" in lost["error"].lower(), lost
        assert lost["last_frame_at"] is None
        await bob.wait_frames(alice_id, "video", 10)

        # garbage on an RTMP feed's port: the feed keeps waiting, a real push still works
        status, drone, _ = await api.call("POST", feeds, {"kind": "rtmp", "name": "Drone"})
        assert status == 201, drone
        port = int(drone["ingest_url"].split(":")[2].split("/")[0])
        for junk in (os.urandom(4096), b"\x03" + os.urandom(1536) * 3, b"GET / HTTP/1.0\r\n\r\n"):
            await _send_junk(port, junk)
        key = drone["ingest_url"].split("/")[3]
        wrong = rtmp_push(clip, drone["ingest_url"].replace(key, "0" * len(key)))
        try:
            for _ in range(150):
                if wrong.poll() is not None:
                    break
                await asyncio.sleep(0.1)
            assert wrong.returncode not in (0, None), "a push with a wrong key was accepted"
        finally:
            end_process(wrong)
        await asyncio.sleep(1)
        status, waiting, _ = await api.call("GET", f"{feeds}/{drone['feed_id']}")
        assert waiting["state"] in ("connecting", "lost"), waiting
        status, health, _ = await api.call("GET", "/healthz")
        assert (status, health["status"]) == (200, "ok")
        await bob.wait_frames(alice_id, "video", 10)
        push = rtmp_push(clip, drone["ingest_url"], loop=True)
        await wait_feed(api, room_id, drone["feed_id"], lambda f: f["state"] == "live",
                        "live after the junk")
        await bob.wait_frames(drone["participant_id"], "video", 10, timeout=15)
        await bob.wait_frames(alice_id, "video", 10)
    finally:
        if push is not None:
            end_process(push)
        await close_meeting(alice, bob)


async def _send_junk(port: int, junk: bytes) -> None:
    try:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
    except OSError:
        return  # between two listens: nothing to disturb
    try:
        writer.write(junk)
        await writer.drain()
        await asyncio.wait_for(reader.read(65536), 2)
    except (OSError, asyncio.TimeoutError):
        pass
    finally:
        writer.close()


async def test_a_restarted_node_resumes_pulling_its_feeds(
        redis_url: str, start_commandpost, camera: RtspCamera) -> None:
    first = start_commandpost(redis_url)
    room = first.create_room("Restart")
    room_id = room["room_id"]
    async with aiohttp.ClientSession() as http:
        api = Api(first.base_url, room["host_token"], http)
        status, cam, _ = await api.call("POST", f"/api/rooms/{room_id}/feeds",
                                        {"kind": "rtsp", "url": camera.url, "name": "Gate"})
        assert status == 201, cam
        await wait_feed(api, room_id, cam["feed_id"], lambda f: f["state"] == "live", "live")
        first.stop()
        # same data dir (node id, secret) and Redis: nobody asks, the feed comes back
        second = start_commandpost(redis_url, {"COMMANDPOST_SERVER_SECRET": first.secret})
        api.base_url = second.base_url
        await wait_feed(api, room_id, cam["feed_id"],
                        lambda f: f["state"] == "live" and f["last_frame_at"] > time.time() - 2,
                        "live again after the restart")
        tracks = await feed_tracks(api, room_id, cam["participant_id"])
        assert set(tracks) == {"video", "audio"}


async def test_feeds_through_the_front_move_when_their_worker_dies(
        redis_url: str, start_commandpost, camera: RtspCamera) -> None:
    server = start_commandpost(redis_url, {"COMMANDPOST_SERVER_WORKERS": "2"})
    room = server.create_room("Workers")
    room_id = room["room_id"]
    async with aiohttp.ClientSession() as http:
        api = Api(server.base_url, room["host_token"], http)
        status, cam, _ = await api.call("POST", f"/api/rooms/{room_id}/feeds",
                                        {"kind": "rtsp", "url": camera.url, "name": "Gate"})
        assert status == 201, cam
        await wait_feed(api, room_id, cam["feed_id"], lambda f: f["state"] == "live", "live")
        status, info, _ = await api.call("GET", f"/api/rooms/{room_id}")
        status, health, _ = await api.call("GET", "/healthz")
        owner = next(w for w in health["workers"] if w["node_id"] == info["node"])
        os.kill(owner["pid"], signal.SIGKILL)  # a worker of the server this test started
        killed_at = time.time()
        moved = await wait_feed(api, room_id, cam["feed_id"],
                                lambda f: f["state"] == "live"
                                and (f["last_frame_at"] or 0) > killed_at + 1,
                                "live again on a worker", timeout=30)
        status, info, _ = await api.call("GET", f"/api/rooms/{room_id}")
        assert {t["kind"] for t in info["tracks"]
                if t["participant_id"] == cam["participant_id"]} == {"video", "audio"}
        print(f"\n[feeds] feed live again {moved['last_frame_at'] - killed_at:.1f} s after "
              f"its worker was killed")


async def test_an_h265_camera_is_an_error_with_the_reason(server, api: Api,
                                                         tmp_path: Path) -> None:
    clip = make_clip(tmp_path / "hevc.mp4", seconds=20, codec="hevc", size="320x240")
    camera = RtspCamera(file=clip, codec="h265")
    camera.start()
    room = server.create_room("HEVC")
    room_id = room["room_id"]
    api.token = room["host_token"]
    alice, bob, alice_id = await meeting(server, room)
    try:
        status, cam, _ = await api.call("POST", f"/api/rooms/{room_id}/feeds",
                                        {"kind": "rtsp", "url": camera.url, "name": "Old cam"})
        assert status == 201, cam
        failed = await wait_feed(api, room_id, cam["feed_id"],
                                 lambda f: f["state"] == "error", "state error")
        assert "H.265" in failed["error"] and "H.264" in failed["error"], failed
        assert await feed_tracks(api, room_id, cam["participant_id"]) == {}
        await next_feed_state(bob.ws, cam["feed_id"], "error")  # the room heard it too
        await bob.wait_frames(alice_id, "video", 10)
    finally:
        camera.stop()
        await close_meeting(alice, bob)
