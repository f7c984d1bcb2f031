"""Simulcast through signalling: `joined` says whether to publish layers ([sfu] simulcast);
a simulcast offer is answered with the rid lines; one we cannot receive gets `bad_sdp` with
the reason while everyone else's media keeps flowing."""

from __future__ import annotations

import re

from local_node import LocalServer, StartLocal
from rtc_peer import MediaPeer

FRAMES = 10


def with_rids(offer: str, rids: list[str]) -> str:
    """The offer's video m-section sending `rids` (Chromium's shape, minus its a=ssrc)."""
    head, video = offer.split("m=video", 1)
    video = re.sub(r"a=ssrc[^\r]*\r\n", "", video)
    lines = "a=extmap:10 urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id\r\n"
    lines += "".join(f"a=rid:{rid} send\r\n" for rid in rids)
    lines += "a=simulcast:send " + ";".join(rids) + "\r\n"
    return head + "m=video" + video + lines


async def test_joined_says_whether_to_publish_simulcast(start_local: StartLocal) -> None:
    on = await start_local()
    off = await start_local({"COMMANDPOST_SFU_SIMULCAST": "false"})
    for server, expected in ((on, True), (off, False)):
        room = await server.create_room()
        client, joined = await server.joined_client(room, "Alice")
        assert joined["simulcast"] is expected
        await client.close()


async def test_simulcast_offer_is_answered_and_a_bad_one_refused(local: LocalServer) -> None:
    room = await local.create_room()
    client, alice_joined = await local.joined_client(room, "Alice")
    alice = MediaPeer(client)
    bob_client, _ = await local.joined_client(room, "Bob")
    bob = MediaPeer(bob_client)
    mallory, _ = await local.joined_client(room, "Mallory")
    try:
        await alice.publish()
        a = alice_joined["participant_id"]
        await bob.wait_frames(a, "video", FRAMES)
        good = alice.pub.localDescription.sdp
        await mallory.send({"type": "publish", "sdp": with_rids(good, ["q", "h", "f", "x"]),
                            "sources": {}})
        error = await mallory.recv("error", timeout=10, ref="publish")
        assert error["code"] == "bad_sdp"
        assert error["message"] == "m-section 1 (video): a=simulcast lists 4 streams, limit is 3"
        await mallory.send({"type": "publish", "sdp": with_rids(good, ["q", "h", "f"]),
                            "sources": {}})
        answer = (await mallory.recv("answer", timeout=10))["sdp"]
        assert "a=rid:q recv\r\na=rid:h recv\r\na=rid:f recv\r\na=simulcast:recv q;h;f" in answer
        assert "urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id" in answer
        await bob.wait_frames(a, "video", FRAMES)  # Alice's media never stopped
    finally:
        await alice.close()
        await bob.close()
        await mallory.close()
