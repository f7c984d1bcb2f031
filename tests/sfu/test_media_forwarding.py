"""Forwarding without transcoding: what a subscriber receives is what was published."""

from __future__ import annotations

import re

import pytest

from sfu_media import FPS, VIDEO_CLOCK, EncodedVideoTrack, encoded_frames
from sfu_peers import Publisher, Subscriber, wait_for


def canonical(codec: str, frame: bytes) -> object:
    """VP8 frames compare as bytes; H.264 as their NAL units, since RTP carries NAL
    units and the Annex B start codes (3 or 4 bytes) are not part of the payload."""
    if codec == "vp8":
        return frame
    return [nal for nal in re.split(b"\x00\x00\x00\x01|\x00\x00\x01", frame) if nal]


@pytest.mark.parametrize("codec", ["vp8", "h264"])
async def test_subscriber_receives_byte_identical_frames(room, codec):
    frames = encoded_frames(codec)
    alice = Publisher(room, "p_alice", "Alice")
    alice.add(EncodedVideoTrack(frames), "camera", codec=codec)
    bob = Subscriber(room, "p_bob")
    try:
        await alice.publish()
        [info] = room.tracks()
        assert info.codec == {"vp8": "VP8", "h264": "H264"}[codec]
        offer = await bob.sync()
        assert list(offer.tracks.values()) == [info]
        stream = bob.stream(bob.mid_of("video"))
        await wait_for(lambda: len(stream.frames(info.codec)) >= 40, 10, "40 frames")
        received = [(ts, canonical(codec, data)) for ts, data in stream.frames(info.codec)]
    finally:
        await alice.close()
        await bob.close()
    sent = [canonical(codec, data) for data in frames]
    first_ts, first = received[0]
    start = sent.index(first)
    assert start % 30 == 0, "the first forwarded frame must be one of our keyframes"
    step = VIDEO_CLOCK // FPS
    for ts, data in received:
        index = start + ((ts - first_ts) % (1 << 32)) // step
        assert data == sent[index % len(sent)], f"frame {index} differs"
