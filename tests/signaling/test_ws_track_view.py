"""track_view over the WebSocket: a subscriber that hides a video track stops receiving it
(audio goes on) and gets it back when it shows it; bad messages get errors, the session lives."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

from local_node import LocalServer
from rtc_peer import MediaPeer

FRAMES = 10


@contextlib.asynccontextmanager
async def alice_publishes_to_bob(
        local: LocalServer) -> AsyncIterator[tuple[str, str, MediaPeer, Any]]:
    """Alice publishes and Bob receives her video; yields (Alice's id, her video track id,
    Bob's peer, Bob's socket)."""
    room = await local.create_room()
    alice_ws, alice_joined = await local.joined_client(room, "Alice")
    bob_ws, _ = await local.joined_client(room, "Bob")
    alice, bob = MediaPeer(alice_ws), MediaPeer(bob_ws)
    try:
        await alice.publish()
        a = alice_joined["participant_id"]
        await bob.wait_frames(a, "video", FRAMES)
        video_id = next(t["track_id"] for t in bob.offer_tracks.values()
                        if t["kind"] == "video")
        yield a, video_id, bob, bob_ws
    finally:
        await alice.close()
        await bob.close()


async def test_track_view_pauses_and_resumes_video(local: LocalServer) -> None:
    async with alice_publishes_to_bob(local) as (a, video_id, bob, bob_ws):
        await bob_ws.send({"type": "track_view", "track_id": video_id, "visible": False})
        await asyncio.sleep(0.5)  # packets in flight drain
        before = bob.frames_of(a, "video")
        await asyncio.sleep(1.0)
        assert bob.frames_of(a, "video") - before <= 1, "hidden video is still forwarded"
        await bob.wait_frames(a, "audio", FRAMES)  # audio is never paused
        await bob_ws.send({"type": "track_view", "track_id": video_id, "visible": True,
                           "width": 640, "height": 360})
        await bob.wait_frames(a, "video", FRAMES, timeout=3)
        assert not bob_ws.of_type("error")


BAD = [
    ({"type": "track_view", "visible": False}, "bad_message"),
    ({"type": "track_view", "track_id": "t_x"}, "bad_message"),
    ({"type": "track_view", "track_id": "t_x", "visible": "no"}, "bad_message"),
    ({"type": "track_view", "track_id": 5, "visible": True}, "bad_message"),
    ({"type": "track_view", "track_id": "", "visible": True}, "bad_message"),
    ({"type": "track_view", "track_id": "t" * 500, "visible": True}, "bad_message"),
    ({"type": "track_view", "track_id": "VIDEO", "visible": True, "width": 640},
     "bad_message"),
    ({"type": "track_view", "track_id": "VIDEO", "visible": True, "width": 0, "height": 9},
     "bad_message"),
    ({"type": "track_view", "track_id": "VIDEO", "visible": True, "width": 640.5,
      "height": 360}, "bad_message"),
    ({"type": "track_view", "track_id": "VIDEO", "visible": True, "width": 99999,
      "height": 360}, "bad_message"),
    ({"type": "track_view", "track_id": "VIDEO", "visible": True, "width": True,
      "height": 360}, "bad_message"),
    ({"type": "track_view", "track_id": "t_nope", "visible": False}, "unknown_track"),
]


async def test_bad_track_view_gets_errors_and_the_session_lives(local: LocalServer) -> None:
    async with alice_publishes_to_bob(local) as (a, video_id, bob, bob_ws):
        for message, code in BAD:
            if message.get("track_id") == "VIDEO":
                message = message | {"track_id": video_id}
            await bob_ws.send(message)
            error = await bob_ws.error(code)
            assert error["ref"] == "track_view" and error["message"]
        await bob.wait_frames(a, "video", FRAMES)  # nothing was paused by the bad ones
        await bob_ws.send({"type": "ping", "t": 1})
        await bob_ws.recv("pong")
        assert not bob_ws.closed.is_set()
