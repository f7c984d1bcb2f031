"""Join, leave, unpublish, re-publish, screen share, vanished peers and WHEP playback."""

from __future__ import annotations

import asyncio

import pytest

from sfu import RoomMedia, SfuSettings, UnknownTrackError
from sfu import aiortc_bridge as bridge
from sfu.keyframe import vp8_keyframe_start
from sfu.vp8_descriptor import parse_fields
from sfu_media import EncodedVideoTrack, ToneAudioTrack, encoded_frames
from sfu_peers import Publisher, Subscriber, wait_for
from sfu_whep import WhepPlayer


def flowing(stream, more_than: int = 10):
    start = len(stream.packets)
    return lambda: len(stream.packets) > start + more_than


async def stays_silent(stream, seconds: float = 0.5) -> bool:
    await asyncio.sleep(0.2)  # packets already in flight
    count = len(stream.packets)
    await asyncio.sleep(seconds)
    return len(stream.packets) == count


async def test_a_participant_who_leaves_is_gone_for_everyone(room):
    changes: list[int] = []
    room.on_tracks_changed = lambda: changes.append(len(room.tracks()))
    alice = Publisher(room, "p_alice")
    alice.add(ToneAudioTrack(), "microphone")
    alice.add(EncodedVideoTrack(encoded_frames("vp8")), "camera")
    bob = Subscriber(room, "p_bob")
    try:
        await alice.publish()
        assert changes == [2]
        await bob.sync()
        video = bob.stream(bob.mid_of("video"))
        await wait_for(flowing(video), 3, "video")
        await room.remove_participant("p_alice")
        assert room.tracks() == [] and changes == [2, 0]
        assert await stays_silent(video)
        offer = await bob.sync()
        assert offer.tracks == {}
        assert offer.sdp.count("a=inactive") == 2
    finally:
        await alice.close()
        await bob.close()


async def test_unpublish_then_republish_reuses_the_subscriber_transceiver(room):
    alice = Publisher(room, "p_alice")
    alice.add(ToneAudioTrack(), "microphone")
    camera = alice.add(EncodedVideoTrack(encoded_frames("vp8")), "camera")
    bob = Subscriber(room, "p_bob")
    try:
        await alice.publish()
        first_id = next(t.track_id for t in room.tracks() if t.kind == "video")
        await bob.sync()
        mid = bob.mid_of("video")
        video = bob.stream(mid)
        await wait_for(flowing(video), 3, "video")

        camera.direction = "inactive"
        await alice.publish()
        assert [t.kind for t in room.tracks()] == ["audio"]
        offer = await bob.sync()
        assert mid not in offer.tracks
        assert await stays_silent(video)
        last = video.packets[-1]

        camera.direction = "sendonly"
        await alice.publish()
        [again] = [t for t in room.tracks() if t.kind == "video"]
        assert again.track_id != first_id
        offer = await bob.sync()
        assert offer.tracks[mid] == again, "the idle transceiver must be reused"
        count = len(video.packets)
        await wait_for(flowing(video), 3, "video after re-publish")
    finally:
        await alice.close()
        await bob.close()
    resumed = video.packets[count]
    assert resumed.ssrc == last.ssrc, "one SSRC per subscriber transceiver"
    assert resumed.sequence_number == (last.sequence_number + 1) & 0xFFFF


async def test_screen_share_is_a_second_video_track(room):
    alice = Publisher(room, "p_alice")
    alice.add(EncodedVideoTrack(encoded_frames("vp8")), "camera")
    bob = Subscriber(room, "p_bob")
    try:
        await alice.publish()
        await bob.sync()
        alice.add(EncodedVideoTrack(encoded_frames("vp8")), "screen")
        await alice.publish()
        assert sorted(t.source for t in room.tracks()) == ["camera", "screen"]
        offer = await bob.sync()
        assert sorted(t.source for t in offer.tracks.values()) == ["camera", "screen"]
        camera = bob.stream(bob.mid_of("video", "camera"))
        screen = bob.stream(bob.mid_of("video", "screen"))
        await wait_for(lambda: len(camera.frames("VP8")) > 5 and len(screen.frames("VP8")) > 5,
                       5, "frames on both video tracks")
    finally:
        await alice.close()
        await bob.close()
    assert camera.packets[0].ssrc != screen.packets[0].ssrc


async def test_vanished_publisher_is_cleaned_up(room):
    changes: list[int] = []
    alice = Publisher(room, "p_alice")
    alice.add(EncodedVideoTrack(encoded_frames("vp8")), "camera")
    bob = Subscriber(room, "p_bob")
    try:
        await alice.publish()
        room.on_tracks_changed = lambda: changes.append(len(room.tracks()))
        await bob.sync()
        await wait_for(flowing(bob.stream(bob.mid_of("video"))), 3, "video")
        await alice.close()  # DTLS close_notify: the peer is gone
        await wait_for(lambda: room.tracks() == [], 5, "the track to go")
        assert changes == [0]
        await bob.close()
        await wait_for(lambda: "p_bob" not in room._subscribers, 5, "the subscriber to go")
    finally:
        await alice.close()
        await bob.close()


async def test_whep_player_receives_the_requested_track(room):
    alice = Publisher(room, "p_alice")
    alice.add(ToneAudioTrack(), "microphone")
    alice.add(EncodedVideoTrack(encoded_frames("vp8")), "camera")
    player = WhepPlayer(room, ("video",))
    received = player.streams["video"].packets
    try:
        await alice.publish()
        video = next(t for t in room.tracks() if t.kind == "video")
        with pytest.raises(UnknownTrackError):
            await room.play("v=0\r\n", ["t_missing"])
        session_id = await player.play([video.track_id])
        await wait_for(lambda: len(received) > 20, 5, "WHEP video")
        assert all(p.payload_type == received[0].payload_type for p in received[:20])
        assert await room.stop_session(session_id)
        assert not await room.stop_session(session_id)
        count = len(received)
        await asyncio.sleep(0.6)
        assert len(received) <= count + 5  # in flight at most
    finally:
        await alice.close()
        await player.close()


async def test_idle_transceiver_carries_the_next_publisher_seamlessly(room):
    """Bob's video transceiver, idle after Alice left, is reused for Carol: same SSRC,
    sequence numbers and VP8 picture ids continue where Alice's stopped."""
    alice = Publisher(room, "p_alice")
    alice.add(EncodedVideoTrack(encoded_frames("vp8")), "camera")
    carol = Publisher(room, "p_carol")
    carol.add(EncodedVideoTrack(encoded_frames("vp8")), "camera")
    bob = Subscriber(room, "p_bob")
    try:
        await alice.publish()
        await bob.sync()
        mid = bob.mid_of("video")
        video = bob.stream(mid)
        await wait_for(flowing(video), 3, "Alice's video")
        await room.remove_participant("p_alice")
        assert (await bob.sync()).tracks == {}
        assert await stays_silent(video)
        last = video.packets[-1]
        count = len(video.packets)
        await carol.publish()
        offer = await bob.sync()
        assert list(offer.tracks) == [mid] and offer.tracks[mid].participant_id == "p_carol"
        await wait_for(flowing(video), 3, "Carol's video")
    finally:
        await alice.close()
        await carol.close()
        await bob.close()
    first = video.packets[count]
    assert first.ssrc == last.ssrc
    assert first.sequence_number == (last.sequence_number + 1) & 0xFFFF
    assert vp8_keyframe_start(first.payload)
    last_pid = parse_fields(last.payload).picture_id(last.payload)
    assert parse_fields(first.payload).picture_id(first.payload) == (last_pid + 1) & 0x7FFF


async def test_public_addresses_are_advertised_and_host_candidates_still_work():
    settings = SfuSettings(ice_host_addresses=("127.0.0.1",), ice_public_addresses=("203.0.113.7",))
    media = RoomMedia("r_nat", settings)
    alice = Publisher(media, "p_alice")
    alice.add(EncodedVideoTrack(encoded_frames("vp8")), "camera")
    bob = Subscriber(media, "p_bob")
    try:
        answer = await media.publish("p_alice", "Alice", await alice.offer(), {})
        await bridge.set_remote(alice.pc, answer, "answer")
        offer = await bob.sync()
        await wait_for(flowing(bob.stream(bob.mid_of("video"))), 5, "video")
    finally:
        await alice.close()
        await bob.close()
        await media.close()
    for sdp in (answer, offer.sdp):
        host = [line for line in sdp.split("\r\n") if " typ host" in line]
        assert [line.split()[4] for line in host] == ["127.0.0.1", "203.0.113.7"]
        assert host[0].split()[5] == host[1].split()[5]  # same port


async def test_whep_without_track_ids_plays_what_fits(room):
    alice = Publisher(room, "p_alice")
    alice.add(ToneAudioTrack(), "microphone")
    alice.add(EncodedVideoTrack(encoded_frames("vp8")), "camera")
    player = WhepPlayer(room, ("audio", "video"))
    audio, video = player.streams["audio"], player.streams["video"]
    try:
        with pytest.raises(UnknownTrackError, match="has no tracks to play"):
            await room.play("v=0\r\n", [])
        await alice.publish()
        await player.play([])
        await wait_for(lambda: len(audio.packets) > 10 and len(video.packets) > 10, 5,
                       "both tracks")
    finally:
        await alice.close()
        await player.close()
