"""Media through signalling: real aiortc peers publish and subscribe over the WebSocket; bad
SDP is refused without disturbing anyone; host mute stops forwarding; the REST track list."""

from __future__ import annotations

import asyncio
import re

from local_node import LocalServer
from rtc_peer import MediaPeer

FRAMES = 10  # decoded frames that prove media flows (about 1/3 s of video)


async def join_peer(local: LocalServer, room: dict, name: str, host: bool = False,
                    ) -> tuple[MediaPeer, dict]:
    client, joined = await local.joined_client(room, name, host=host)
    return MediaPeer(client), joined


async def test_two_clients_publish_and_receive_each_other(local: LocalServer) -> None:
    room = await local.create_room()
    alice, alice_joined = await join_peer(local, room, "Alice", host=True)
    bob, bob_joined = await join_peer(local, room, "Bob")
    try:
        await alice.publish()
        await bob.publish()
        a, b = alice_joined["participant_id"], bob_joined["participant_id"]
        await bob.wait_frames(a, "video", FRAMES)
        await bob.wait_frames(a, "audio", FRAMES)
        await alice.wait_frames(b, "video", FRAMES)
        await alice.wait_frames(b, "audio", FRAMES)
        tracks = (await alice.ws.recv("tracks"))["tracks"]
        assert {(t["participant_id"], t["kind"]) for t in tracks} <= {
            (a, "audio"), (a, "video"), (b, "audio"), (b, "video")}
        offered = {info["participant_id"] for info in bob.offer_tracks.values()}
        assert offered == {a}  # nobody is sent their own media back
        status, info, _ = await local.request(
            "GET", f"/api/rooms/{room['room_id']}",
            headers={"Authorization": f"Bearer {room['host_token']}"})
        assert status == 200
        listed = {(t["name"], t["kind"], t["source"], t["codec"]) for t in info["tracks"]}
        assert listed == {("Alice", "audio", "microphone", "opus"),
                          ("Alice", "video", "camera", "VP8"),
                          ("Bob", "audio", "microphone", "opus"),
                          ("Bob", "video", "camera", "VP8")}
        assert all(t["track_id"] for t in info["tracks"])
        assert {p["name"] for p in info["participants"]} == {"Alice", "Bob"}
    finally:
        await alice.close()
        await bob.close()


async def test_leaving_publisher_disappears_from_tracks_and_offers(local: LocalServer) -> None:
    room = await local.create_room()
    alice, alice_joined = await join_peer(local, room, "Alice")
    bob, _ = await join_peer(local, room, "Bob")
    try:
        await alice.publish()
        await bob.wait_frames(alice_joined["participant_id"], "video", FRAMES)
        await alice.ws.send({"type": "leave"})
        await bob.ws.recv("participant_left", participant_id=alice_joined["participant_id"])
        await bob.ws.recv("tracks", tracks=[])
        for _ in range(100):
            if not bob.offer_tracks:
                break
            await asyncio.sleep(0.05)
        assert bob.offer_tracks == {}  # the re-offer made those m-sections idle
    finally:
        await alice.close()
        await bob.close()


MALFORMED = [
    "v=0\r\nm=audio\r\n",                                        # IndexError in aiortc
    "v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\nm=video 9 UDP/TLS/RTP/SAVPF 96\r\n"
    "a=rtpmap:96\r\n",                                           # rtpmap without codec
    "v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\nm=audio x UDP/TLS/RTP/SAVPF 111\r\n",
    "v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\n"
    "a=ssrc-group:FID\r\na=fingerprint:sha-256\r\n",
]


def mangle(good: str) -> list[str]:
    """Realistic offers broken in the ways aiortc's parser trips over."""
    return [
        good.replace("a=fingerprint:sha-256 ", "a=fingerprint:sha-256"),
        good.replace("a=ice-ufrag:", "a=ice-ufragX:").replace("a=ice-pwd:", "a=ice-pwdX:"),
        good.replace("a=rtpmap:", "a=rtpmap:x"),
        good.replace("a=group:BUNDLE", "a=group:BUNDLE 77"),
        good.replace("a=setup:actpass", "a=setup:bogus"),
        good.replace("a=extmap:", "a=extmap:x"),
        good.replace("a=ssrc:", "a=ssrc:abc "),
        re.sub(r"a=mid:.*\r\n", "", good),
    ]


async def test_bad_sdp_and_m_section_bomb_are_refused_while_media_flows(
        local: LocalServer) -> None:
    room = await local.create_room()
    alice, alice_joined = await join_peer(local, room, "Alice")
    bob, _ = await join_peer(local, room, "Bob")
    mallory, _ = await local.joined_client(room, "Mallory")
    try:
        await alice.publish()
        a = alice_joined["participant_id"]
        await bob.wait_frames(a, "video", FRAMES)
        good = alice.pub.localDescription.sdp
        header = "v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\n"
        bomb = header + "".join(f"m=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=mid:{i}\r\n"
                                for i in range(500))
        for sdp in MALFORMED + mangle(good) + [bomb]:
            await mallory.send({"type": "publish", "sdp": sdp, "sources": {}})
            error = await mallory.recv("error", timeout=10, ref="publish")
            assert error["code"] == "bad_sdp", (sdp[:200], error)
            assert error["message"]
        assert "500 m-sections, limit is 16" in mallory.of_type("error")[-1]["message"]
        # Someone else's media never stopped, and the room is as it was.
        await bob.wait_frames(a, "video", FRAMES)
        assert not mallory.closed.is_set()
        assert {t["participant_id"] for t in local.node.rooms[room["room_id"]].tracks_json()} \
            == {a}
        await mallory.send({"type": "ping"})
        await mallory.recv("pong")
    finally:
        await alice.close()
        await bob.close()


async def test_bad_subscribe_answer_gets_bad_sdp(local: LocalServer) -> None:
    room = await local.create_room()
    alice, _ = await join_peer(local, room, "Alice")
    lazy, _ = await local.joined_client(room, "Lazy")  # answers by hand
    try:
        await alice.publish()
        offer = await lazy.recv("offer", timeout=10)
        assert offer["tracks"]
        await lazy.send({"type": "answer", "sdp": "v=0\r\nm=audio\r\n"})
        assert (await lazy.recv("error", ref="answer"))["code"] == "bad_sdp"
    finally:
        await alice.close()


async def test_host_mute_stops_forwarding_until_unmuted(local: LocalServer) -> None:
    room = await local.create_room()
    host, _ = await join_peer(local, room, "Host", host=True)
    talker, talker_joined = await join_peer(local, room, "Talker")
    try:
        await talker.publish()
        t = talker_joined["participant_id"]
        await host.wait_frames(t, "audio", FRAMES)
        await host.ws.send({"type": "mute", "participant_id": t, "kind": "audio"})
        await talker.ws.recv("muted")
        await asyncio.sleep(0.5)  # packets in flight drain
        before = host.frames_of(t, "audio")
        await asyncio.sleep(1.0)
        assert host.frames_of(t, "audio") - before <= 2
        await host.wait_frames(t, "video", FRAMES)  # video was not muted
        await talker.ws.send({"type": "state", "audio": True})
        await host.wait_frames(t, "audio", FRAMES)
    finally:
        await host.close()
        await talker.close()


async def test_resumed_participant_gets_fresh_media_both_ways(local: LocalServer) -> None:
    room = await local.create_room()
    alice, alice_joined = await join_peer(local, room, "Alice")
    bob, bob_joined = await join_peer(local, room, "Bob")
    a, b = alice_joined["participant_id"], bob_joined["participant_id"]
    again = None
    try:
        await alice.publish()
        await bob.publish()
        await bob.wait_frames(a, "video", FRAMES)
        # Alice's network changes: a new socket resumes, with new peer connections.
        new_socket = await local.client()
        rejoined = await new_socket.join(code=room["share_code"], name="Alice",
                                          resume=alice_joined["resume_token"])
        assert rejoined["participant_id"] == a
        await alice.close()
        again = MediaPeer(new_socket)
        await again.publish()
        await again.wait_frames(b, "video", FRAMES)
        await bob.wait_frames(a, "video", FRAMES)
        assert not bob.ws.of_type("participant_left")
    finally:
        await bob.close()
        if again is not None:
            await again.close()
