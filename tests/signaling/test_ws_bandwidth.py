"""The `bandwidth` message: a subscriber hears its downlink estimate, and a link (here: an
estimate capped by [sfu] bwe_max_bps) too narrow for audio plus video makes it audio-only."""

from __future__ import annotations

import asyncio

from local_node import LocalServer
from rtc_peer import MediaPeer

from signaling.config import SfuConfig

FRAMES = 10


async def test_subscriber_hears_its_estimate(local: LocalServer) -> None:
    room = await local.create_room()
    alice_ws, alice_joined = await local.joined_client(room, "Alice")
    bob_ws, _ = await local.joined_client(room, "Bob")
    alice, bob = MediaPeer(alice_ws), MediaPeer(bob_ws)
    try:
        await alice.publish()
        await bob.wait_frames(alice_joined["participant_id"], "video", FRAMES)
        message = await bob_ws.recv("bandwidth", timeout=5)
        assert message == {"type": "bandwidth", "estimate_bps": message["estimate_bps"],
                           "video_paused": False}
        assert isinstance(message["estimate_bps"], int) and message["estimate_bps"] > 0
        assert not alice_ws.of_type("bandwidth"), "only a subscriber's own estimate is sent"
    finally:
        await alice.close()
        await bob.close()


async def test_estimate_below_audio_plus_video_is_audio_only(start_local) -> None:
    assert SfuConfig().bwe_max_bps > 60_000  # the default is not what this test uses
    local: LocalServer = await start_local({"COMMANDPOST_SFU_BWE_START_BPS": "60000",
                                            "COMMANDPOST_SFU_BWE_MIN_BPS": "60000",
                                            "COMMANDPOST_SFU_BWE_MAX_BPS": "60000"})
    room = await local.create_room()
    alice_ws, alice_joined = await local.joined_client(room, "Alice")
    bob_ws, _ = await local.joined_client(room, "Bob")
    alice, bob = MediaPeer(alice_ws), MediaPeer(bob_ws)
    a = alice_joined["participant_id"]
    try:
        await alice.publish()
        message = await bob_ws.recv("bandwidth", timeout=5, video_paused=True)
        assert message["estimate_bps"] == 60_000
        await bob.wait_frames(a, "audio", FRAMES * 5)  # audio keeps flowing
        before = bob.frames_of(a, "video")
        await asyncio.sleep(1.5)
        assert bob.frames_of(a, "video") - before <= 1, "video flows on a link too narrow"
        assert not bob_ws.of_type("error")
    finally:
        await alice.close()
        await bob.close()
