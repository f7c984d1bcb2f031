"""Keyframe requests reach the publisher rate-limited; host mute stops forwarding."""

from __future__ import annotations

import asyncio
import time

from sfu import aiortc_bridge as bridge
from sfu.keyframe import vp8_keyframe_start
from sfu.rtcp_events import KeyframeRequest
from sfu_media import EncodedVideoTrack, PatternVideoTrack, encoded_frames
from sfu_peers import Publisher, Subscriber, wait_for
from sfu_proxy import LossyRelay


async def test_subscriber_plis_reach_the_publisher_at_most_once_a_second(room):
    alice = Publisher(room, "p_alice")
    alice.add(PatternVideoTrack(), "camera")
    bob = Subscriber(room, "p_bob")
    try:
        await alice.publish()
        await bob.sync()
        stream = bob.stream(bob.mid_of("video"))
        await wait_for(lambda: len(stream.packets) > 10, 3, "video")
        transceiver = bob.pc.getTransceivers()[0]
        media_ssrc = stream.packets[0].ssrc
        started = time.monotonic()
        for _ in range(22):  # a PLI every 100 ms for 2.1 s
            await bridge.send(bridge.transport(transceiver), bridge.pli(1234, media_ssrc))
            await asyncio.sleep(0.1)
        await asyncio.sleep(1.1)  # the last request falls in a window: it must still come
        times = [t for t, _ in alice.received(KeyframeRequest) if t >= started]
    finally:
        await alice.close()
        await bob.close()
    assert 3 <= len(times) <= 4, times  # ~3.2 s of demand, one per second
    gaps = [b - a for a, b in zip(times, times[1:])]
    assert all(gap >= 0.95 for gap in gaps), gaps
    assert times[-1] - started > 2.1, "a request inside the window must be sent later"


async def test_host_mute_stops_forwarding_and_unmute_resumes_at_a_keyframe(room):
    alice = Publisher(room, "p_alice")
    alice.add(EncodedVideoTrack(encoded_frames("vp8")), "camera")
    bob = Subscriber(room, "p_bob")
    try:
        await alice.publish()
        await bob.sync()
        stream = bob.stream(bob.mid_of("video"))
        await wait_for(lambda: len(stream.packets) > 20, 3, "video")
        room.set_muted("p_alice", "video", True)
        await asyncio.sleep(0.2)
        muted_count = len(stream.packets)
        await asyncio.sleep(0.6)
        assert len(stream.packets) == muted_count, "muted video was still forwarded"
        last = stream.packets[-1]
        room.set_muted("p_alice", "video", False)
        await wait_for(lambda: len(stream.packets) > muted_count + 5, 3, "video after unmute")
    finally:
        await alice.close()
        await bob.close()
    resumed = stream.packets[muted_count]
    assert resumed.ssrc == last.ssrc
    assert resumed.sequence_number == (last.sequence_number + 1) & 0xFFFF
    assert vp8_keyframe_start(resumed.payload)


async def test_a_lost_pli_is_asked_again_while_a_subscriber_waits(room):
    """The PLI for Bob's join is lost on the wire; the SFU keeps asking (once per
    window) until a keyframe comes, so Bob still gets a picture."""
    relay = LossyRelay()
    await relay.start()
    alice = Publisher(room, "p_alice")
    alice.add(PatternVideoTrack(), "camera")
    bob = Subscriber(room, "p_bob")
    plis_lost: list[float] = []

    def drop_first_pli(data: bytes) -> bool:
        is_pli = len(data) >= 8 and data[1] == 206 and data[0] & 0x1F == 1
        if is_pli and armed and not plis_lost:
            plis_lost.append(time.monotonic())
            return True
        return False

    armed = False
    relay.drop_to_client = drop_first_pli
    try:
        offer = await alice.offer()
        answer = await room.publish("p_alice", "Alice", offer, alice.current_sources())
        await bridge.set_remote(alice.pc, relay.route_answer(answer), "answer")
        await asyncio.sleep(1.5)
        armed = True
        await bob.sync()
        await wait_for(lambda: bob.tracks, 2, "the video track")
        frame = await asyncio.wait_for(bob.tracks[0].recv(), 3)
    finally:
        relay.close()
        await alice.close()
        await bob.close()
    assert plis_lost, "the first PLI was not seen on the wire"
    assert frame.width == 160
    assert any(t > plis_lost[0] for t, _ in alice.received(KeyframeRequest))
