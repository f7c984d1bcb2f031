"""Active speaker over the WebSocket: the SFU's dominant-speaker and level updates reach
every participant of the room, late joiners learn the current speaker, a host mute drops it."""

from __future__ import annotations

from local_node import LocalServer
from rtc_peer import MediaPeer


async def test_everyone_hears_who_speaks_and_how_loud(local: LocalServer) -> None:
    room = await local.create_room()
    alice_ws, alice_joined = await local.joined_client(room, "Alice", host=True)
    bob_ws, _ = await local.joined_client(room, "Bob")
    alice = MediaPeer(alice_ws)  # publishes a loud tone
    carol: MediaPeer | None = None
    try:
        await alice.publish(video=False)
        a = alice_joined["participant_id"]
        for ws in (alice_ws, bob_ws):
            await ws.recv("active_speaker", timeout=10, participant_id=a)
        levels = await bob_ws.recv("audio_levels", timeout=5)
        while levels["levels"].get(a, 0) < 0.5:
            levels = await bob_ws.recv("audio_levels", timeout=5)
        assert set(levels["levels"]) == {a}  # only participants with a counted microphone

        carol_ws, _ = await local.joined_client(room, "Carol")
        carol = MediaPeer(carol_ws)
        await carol_ws.recv("active_speaker", timeout=2, participant_id=a)

        await alice_ws.send({"type": "mute", "participant_id": a, "kind": "audio"})
        await bob_ws.recv("active_speaker", timeout=3, participant_id=None)
        update = await bob_ws.recv("audio_levels", timeout=3)
        while a in update["levels"]:
            update = await bob_ws.recv("audio_levels", timeout=3)
    finally:
        await alice.close()
        if carol is not None:
            await carol.close()
        await bob_ws.close()
