"""Bad SDP gets SdpError and changes nothing: everyone else keeps their media."""

from __future__ import annotations

import re

import pytest

from sdp_samples import CHROME_OFFER, mutate
from sfu import SdpError
from sfu import aiortc_bridge as bridge
from sfu_media import EncodedVideoTrack, ToneAudioTrack, encoded_frames
from sfu_peers import LOOPBACK, Publisher, Subscriber, wait_for

BOMB = "v=0\r\n" + "".join(f"m=audio 9 UDP/TLS/RTP/SAVPF 0\r\na=mid:{i}\r\n" for i in range(500))

BAD_OFFERS = [
    ("x" * 70_000, "offer is more than 65536 bytes, limit is 65536"),
    (BOMB, "offer has 500 m-sections, limit is 16"),
    ("\x00garbage", "offer contains control character U+0000 at offset 0"),
    (mutate("a=setup:actpass", "a=setup:holdconn")[0], "a=setup must be actpass"),
    (mutate("a=rtcp-fb:96 nack", "a=rtcp-fb:96")[0], "a=rtcp-fb must be"),
    (mutate("a=fmtp:97 apt=96", "a=fmtp:55 apt=96")[0], "has no a=rtpmap"),
    (CHROME_OFFER.replace("a=rtpmap:96 VP8/90000", "a=rtpmap:96 VP9/90000")
     .replace("a=rtpmap:102 H264/90000", "a=rtpmap:102 AV1/90000"), "no codec in common"),
    (CHROME_OFFER.replace("a=rtpmap:111 opus/48000/2", "a=rtpmap:111 foo/48000/2"),
     "no codec we can forward (opus, VP8, H264 packetization-mode=1); offered: G722, PCMU, PCMA",
     "m-section 0 (audio): the codec cannot change from opus during a call"),
]


def flowing(stream, more_than: int = 10):
    start = len(stream.packets)
    return lambda: len(stream.packets) > start + more_than


async def test_bad_offers_and_answers_leave_the_call_running(room):
    alice = Publisher(room, "p_alice")
    alice.add(ToneAudioTrack(), "microphone")
    alice.add(EncodedVideoTrack(encoded_frames("vp8")), "camera")
    bob = Subscriber(room, "p_bob")
    try:
        await alice.publish()
        await bob.sync()
        video = bob.stream(bob.mid_of("video"))
        audio = bob.stream(bob.mid_of("audio"))
        await wait_for(flowing(video), 3, "video")
        before = room.tracks()

        for sdp, *messages in BAD_OFFERS:
            # a newcomer, and a live publisher's re-offer
            for pid, message in zip(("p_carol", "p_alice"), messages * 2):
                with pytest.raises(SdpError, match=re.escape(message)):
                    await room.publish(pid, pid, sdp, {})
            assert "p_carol" not in room._publishers, "a failed first offer leaves nothing"
        recycled = alice.pc.localDescription.sdp.replace("a=mid:1", "a=mid:9").replace(
            "BUNDLE 0 1", "BUNDLE 0 9")
        with pytest.raises(SdpError, match="m-lines cannot be recycled"):
            await room.publish("p_alice", "Alice", recycled, {})
        assert room.tracks() == before

        offer = await room.subscribe_offer("p_bob")  # an offer is outstanding now
        await bridge.set_remote(bob.pc, offer.sdp, "offer")
        good = await bridge.local_answer(bob.pc, LOOPBACK)
        for bad, message in [
            ("garbage", "answer has no m-sections"),
            ("v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\n", "answer has no m-sections"),
            (good.replace("a=setup:active", "a=setup:actpass"), "must be active or passive"),
            (good.split("m=video")[0].replace("BUNDLE 0 1", "BUNDLE 0"), "do not match"),
            (BOMB, "answer has 500 m-sections"),
        ]:
            with pytest.raises(SdpError, match=message):
                await room.subscribe_answer("p_bob", bad)
        await room.subscribe_answer("p_bob", good)
        with pytest.raises(SdpError, match="no subscribe offer is waiting"):
            await room.subscribe_answer("p_bob", good)

        await wait_for(flowing(video), 3, "video after the bad input")
        await wait_for(flowing(audio), 3, "audio after the bad input")

        carol = Publisher(room, "p_carol")
        carol.add(ToneAudioTrack(), "microphone")
        await carol.publish()  # the same id works once it sends a good offer
        assert len(room.tracks()) == 3
        await carol.close()
    finally:
        await alice.close()
        await bob.close()
