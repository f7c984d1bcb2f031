"""Pausing video a subscriber has not on screen (track_view), and resuming it cleanly."""

from __future__ import annotations

import asyncio
import time

import pytest

from sfu import UnknownTrackError
from sfu.keyframe import is_keyframe_start
from sfu.rtcp_events import KeyframeRequest
from sfu_media import PatternVideoTrack, ToneAudioTrack
from sfu_peers import Publisher, Subscriber, wait_for

SETTLE_S = 0.3  # packets already on the wire when the view changes


def media_packets(stream) -> list:
    """The stream's packets on its media SSRC (RTX resends left out)."""
    ssrc = stream.packets[0].ssrc if stream.packets else None
    return [p for p in stream.packets if p.ssrc == ssrc]


def track_id(room, kind: str) -> str:
    return next(t.track_id for t in room.tracks() if t.kind == kind)


async def start(room) -> tuple[Publisher, Subscriber]:
    alice = Publisher(room, "p_alice")
    alice.add(ToneAudioTrack(), "microphone")
    alice.add(PatternVideoTrack(), "camera", codec="VP8")
    bob = Subscriber(room, "p_bob")
    await alice.publish()
    await bob.sync()
    return alice, bob


async def test_hidden_video_stops_audio_continues_and_resume_is_gapless(room):
    alice, bob = await start(room)
    try:
        video = bob.stream(bob.mid_of("video"))
        audio = bob.stream(bob.mid_of("audio"))
        await wait_for(lambda: len(video.frames("VP8")) >= 10 and len(audio.packets) >= 20,
                       10, "video and audio flowing")
        # Hiding audio too: audio is never paused.
        room.set_track_view("p_bob", track_id(room, "video"), False)
        room.set_track_view("p_bob", track_id(room, "audio"), False, 64, 64)
        await asyncio.sleep(SETTLE_S)
        before_video = len(media_packets(video))
        last_seq = media_packets(video)[-1].sequence_number
        last_ts = media_packets(video)[-1].timestamp
        before_audio = len(audio.packets)
        await asyncio.sleep(1.5)
        assert len(media_packets(video)) == before_video, "a hidden video track still flows"
        assert len(audio.packets) - before_audio >= 50, "audio must keep flowing"

        resumed_at = time.monotonic()
        room.set_track_view("p_bob", track_id(room, "video"), True, 640, 360)
        await wait_for(lambda: len(media_packets(video)) > before_video + 5, 1.5,
                       "video again after showing it")
        elapsed = time.monotonic() - resumed_at
        after = media_packets(video)[before_video:]
    finally:
        await alice.close()
        await bob.close()
    assert elapsed < 1.5
    assert is_keyframe_start("VP8", after[0].payload), "resumed video must start at a keyframe"
    assert after[0].sequence_number == (last_seq + 1) & 0xFFFF, "sequence gap at resume"
    seqs = [p.sequence_number for p in after]
    assert all((b - a) & 0xFFFF == 1 for a, b in zip(seqs, seqs[1:])), "gap after resume"
    assert 0 < (after[0].timestamp - last_ts) & 0xFFFFFFFF < 90000 * 5, "timestamp jumps"
    plis = [t for t, _ in alice.received(KeyframeRequest) if t >= resumed_at]
    assert plis, "showing the track again must ask the publisher for a keyframe"


async def test_paused_down_track_keeps_size_and_leaves_fan_out(room):
    alice, bob = await start(room)
    try:
        vid = track_id(room, "video")
        room.set_track_view("p_bob", vid, False)
        room.set_track_view("p_bob", vid, False, 320, 180)
        [slot] = [s for s in room._subscribers["p_bob"].slots if s.kind == "video"]
        assert slot.down.paused and (slot.down.view_width, slot.down.view_height) == (320, 180)
        # A paused down track costs nothing per packet: its source does not see it.
        assert slot.down not in room._tracks[vid].layers[0].downs
        room.set_track_view("p_bob", vid, True)
        assert not slot.down.paused and slot.down.view_width is None
        assert slot.down in room._tracks[vid].layers[0].downs
    finally:
        await alice.close()
        await bob.close()


async def test_view_sent_before_subscribing_applies_at_negotiation(room):
    alice = Publisher(room, "p_alice")
    alice.add(ToneAudioTrack(), "microphone")
    alice.add(PatternVideoTrack(), "camera", codec="VP8")
    bob = Subscriber(room, "p_bob")
    try:
        await alice.publish()
        room.set_track_view("p_bob", track_id(room, "video"), False)
        await bob.sync()
        audio = bob.stream(bob.mid_of("audio"))
        await wait_for(lambda: len(audio.packets) >= 50, 10, "audio flowing")
        assert not bob.stream(bob.mid_of("video")).packets
    finally:
        await alice.close()
        await bob.close()


async def test_bad_track_view_is_refused(room):
    alice, bob = await start(room)
    try:
        with pytest.raises(UnknownTrackError):
            room.set_track_view("p_bob", "t_nope", False)
        vid = track_id(room, "video")
        for width, height in ((0, 10), (10, None), (10, 99999), (True, 10), (1.5, 10)):
            with pytest.raises(ValueError):
                room.set_track_view("p_bob", vid, True, width, height)
    finally:
        await alice.close()
        await bob.close()
