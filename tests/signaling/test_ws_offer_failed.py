"""offer_failed: a client that cannot apply a subscribe offer says so and gets a new one on
a new peer connection (bounded per minute); before, the server waited for an answer forever."""

from __future__ import annotations

import asyncio
import re

from aiortc import RTCSessionDescription

from local_node import LocalServer
from rtc_peer import LOOPBACK, MediaPeer
from sfu.aiortc_bridge import restrict_ice_addresses

FRAMES = 10


def ice_ufrag(sdp: str) -> str:
    found = re.search(r"^a=ice-ufrag:(\S+)", sdp, re.M)
    assert found, sdp
    return found.group(1)


async def answer_on_new_pc(client, offer: dict) -> MediaPeer:
    """A fresh peer connection (as a browser would after giving up on the old one)."""
    peer = MediaPeer(client)  # answers every later offer by itself
    peer.offer_tracks = offer["tracks"]
    await peer.sub.setRemoteDescription(RTCSessionDescription(offer["sdp"], "offer"))
    restrict_ice_addresses(peer.sub, LOOPBACK)
    await peer.sub.setLocalDescription(await peer.sub.createAnswer())
    await client.send({"type": "answer", "sdp": peer.sub.localDescription.sdp})
    return peer


async def test_offer_failed_brings_a_new_offer_that_carries_media(local: LocalServer) -> None:
    room = await local.create_room()
    alice_ws, alice_joined = await local.joined_client(room, "Alice")
    alice = MediaPeer(alice_ws)
    bob, _ = await local.joined_client(room, "Bob")
    bob_peer = None
    try:
        await alice.publish()
        first = await bob.recv("offer", timeout=10)
        assert first["tracks"], "the offer carries Alice's tracks"
        await bob.send({"type": "offer_failed", "error": "OperationError: Failed to parse "
                        "SessionDescription. Duplicate a=msid lines detected"})
        second = await bob.recv("offer", timeout=10)
        assert ice_ufrag(second["sdp"]) != ice_ufrag(first["sdp"]), \
            "the new offer must come from a new peer connection"
        assert {t["track_id"] for t in second["tracks"].values()} == \
            {t["track_id"] for t in first["tracks"].values()}
        bob_peer = await answer_on_new_pc(bob, second)
        await bob_peer.wait_frames(alice_joined["participant_id"], "video", FRAMES)
        await bob_peer.wait_frames(alice_joined["participant_id"], "audio", FRAMES)
        # Nothing is waiting for an answer now.
        await bob.send({"type": "offer_failed"})
        error = await bob.error("bad_message")
        assert error["ref"] == "offer_failed"
    finally:
        await alice.close()
        if bob_peer is not None:
            await bob_peer.close()
        await bob.close()


async def test_offer_failed_is_bounded_and_others_keep_their_media(local: LocalServer) -> None:
    room = await local.create_room()
    alice_ws, alice_joined = await local.joined_client(room, "Alice")
    alice = MediaPeer(alice_ws)
    bob_ws, _ = await local.joined_client(room, "Bob")
    bob = MediaPeer(bob_ws)
    carol, carol_joined = await local.joined_client(room, "Carol")
    try:
        await alice.publish()
        await bob.wait_frames(alice_joined["participant_id"], "video", FRAMES)
        ufrags = set()
        for _ in range(3):  # FRESH_OFFERS_PER_MINUTE
            offer = await carol.recv("offer", timeout=10)
            ufrags.add(ice_ufrag(offer["sdp"]))
            await carol.send({"type": "offer_failed", "error": "cannot apply"})
        last = await carol.recv("offer", timeout=10)
        ufrags.add(ice_ufrag(last["sdp"]))
        assert len(ufrags) == 4, "every retry is a new peer connection"
        await carol.send({"type": "offer_failed", "error": "cannot apply"})
        error = await carol.error("limit_reached")
        assert error["ref"] == "offer_failed" and "rejoin" in error["message"]
        await asyncio.sleep(1.0)
        assert len(carol.of_type("offer")) == 4, "no offer after the bound"
        await bob.wait_frames(alice_joined["participant_id"], "video", FRAMES)
        # A rejoin (resume) still gets media: a new subscribe loop, a new bound.
        resumed = await local.client()
        await resumed.join(code=room["share_code"], name="Carol",
                           resume=carol_joined["resume_token"])
        carol_peer = MediaPeer(resumed)
        try:
            await carol_peer.wait_frames(alice_joined["participant_id"], "video", FRAMES)
        finally:
            await carol_peer.close()
            await resumed.close()
    finally:
        await alice.close()
        await bob.close()
        await carol.close()
