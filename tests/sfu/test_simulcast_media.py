"""Simulcast over real aiortc transports: layers routed by rid, sizes read from keyframes,
each subscriber forwarded the layer its tile needs, switches on keyframes with continuous
numbering, and the publisher told which layers nobody needs."""

from __future__ import annotations

import asyncio

import pytest

from sfu import RoomMedia, SfuSettings
from sfu.frame_size import frame_size
from sfu.keyframe import is_keyframe_start
from sfu.rtcp_events import Nack, Remb
from sfu.rtp_rewriter import seq_delta
from sfu.vp8_descriptor import parse_fields
from sfu_peers import Subscriber, wait_for
from sfu_simulcast import SIZES, SimulcastPublisher



def settings(estimate_bps: int) -> SfuSettings:
    """The downlink estimate pinned (bwe's allocator sets every down track's budget)."""
    return SfuSettings(ice_host_addresses=("127.0.0.1",), layer_idle_s=1.0,
                       bwe_min_bps=estimate_bps, bwe_start_bps=estimate_bps,
                       bwe_max_bps=estimate_bps)


ROOM_SETTINGS = settings(50_000_000)


@pytest.fixture
async def narrow_room():
    media = RoomMedia("r_simulcast_narrow", settings(700_000))
    yield media
    await media.close()


async def start(room: RoomMedia, **options) -> tuple[SimulcastPublisher, Subscriber, str]:
    alice = SimulcastPublisher(room, "p_alice", **options)
    answer = await alice.publish()
    assert "a=simulcast:recv q;h;f" in answer and "a=rid:f recv" in answer
    assert "urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id" in answer
    [info] = room.tracks()
    track = room.track(info.track_id)
    await wait_for(lambda: all(layer.size_seen for layer in track.layers), 10,
                   "every layer's size from its first keyframe")
    bob = Subscriber(room, "p_bob")
    await bob.sync()
    return alice, bob, info.track_id


def keyframe_sizes(packets) -> list[tuple[int, int]]:
    return [frame_size("VP8", p.payload) for p in packets if is_keyframe_start("VP8", p.payload)]


def assert_continuous(packets) -> None:
    """One SSRC, sequence numbers without a gap, VP8 picture ids never going back."""
    media = [p for p in packets if p.ssrc == packets[0].ssrc]
    assert len(media) == len(packets)
    for a, b in zip(media, media[1:]):
        assert seq_delta(b.sequence_number, a.sequence_number) == 1
    pids = []
    for p in media:
        pid = parse_fields(p.payload).picture_id(p.payload)
        if not pids or pid != pids[-1]:
            pids.append(pid)
    assert all((b - a) & 0x7FFF == 1 for a, b in zip(pids, pids[1:])), pids[:50]


async def test_layers_are_learned_by_rid_with_sizes_and_bitrates(room):
    # The SDP's size is only a first guess: the keyframe's size wins.
    alice, bob, track_id = await start(room, restrictions={"h": "max-width=330;max-height=200"})
    try:
        track = room.track(track_id)
        assert [layer.rid for layer in track.layers] == ["q", "h", "f"]
        assert [layer.media_ssrc for layer in track.layers] == [
            alice.layers[rid].ssrc for rid in "qhf"]
        assert [(layer.width, layer.height) for layer in track.layers] == list(SIZES.values())
        await asyncio.sleep(1.2)
        # REMB: what all layers may use, about every SSRC (so the browser starts there).
        rembs = [e for e in alice.rtcp if isinstance(e, Remb)]
        assert rembs and rembs[-1].bitrate == 2_900_000
        assert set(rembs[-1].ssrcs) == {alice.layers[rid].ssrc for rid in "qhf"}
        infos = room.down_tracks("p_bob")[track_id].layers_available()
        assert [i.rid for i in infos] == ["q", "h", "f"]
        assert 0 < infos[0].bitrate_bps < infos[2].bitrate_bps
    finally:
        await alice.close()
        await bob.close()


async def test_tile_size_picks_the_layer_and_switches_are_seamless(room):
    alice, bob, track_id = await start(room)
    try:
        video = bob.stream(bob.mid_of("video"))
        down = room.down_tracks("p_bob")[track_id]
        room.set_track_view("p_bob", track_id, True, 160, 96)
        await wait_for(lambda: down.current_layer == 0 and keyframe_sizes(video.packets)[-1:] == [SIZES["q"]],
                       10, "the smallest layer for a small tile")
        start_at = len(video.packets)
        room.set_track_view("p_bob", track_id, True, 640, 384)
        assert down.target_layer == 2
        await wait_for(lambda: down.current_layer == 2, 10, "switch to the full layer")
        await wait_for(lambda: len(video.packets) > start_at + 60, 10, "full layer flowing")
        assert keyframe_sizes(video.packets[start_at:])[-1] == SIZES["f"]
        room.set_track_view("p_bob", track_id, True, 300, 180)
        await wait_for(lambda: down.current_layer == 1, 10, "switch down to the half layer")
        await asyncio.sleep(0.5)
        assert_continuous(video.packets)
        assert down.layer_switches >= 2
        assert alice.layers["h"].keyframe_requests >= 1  # the switch asked that layer for one
    finally:
        await alice.close()
        await bob.close()


async def test_downlink_budget_caps_the_layer(narrow_room):
    """A 700 kbit/s downlink: the big tile wants f (about 1 Mbit/s), the allocator's
    budget only fits h."""
    alice, bob, track_id = await start(narrow_room)
    try:
        down = narrow_room.down_tracks("p_bob")[track_id]
        narrow_room.set_track_view("p_bob", track_id, True, 640, 384)
        await wait_for(lambda: down.layers_available()[2].bitrate_bps > 700_000, 10,
                       "f measured above the downlink")
        await wait_for(lambda: down.budget_bps is not None and down.current_layer == 1
                       and down.target_layer == 1, 10, "h within the budget")
        assert down.budget_bps < down.layers_available()[2].bitrate_bps
        assert down.desired_layer == 1
        with pytest.raises(ValueError):
            down.set_budget(-1)
    finally:
        await alice.close()
        await bob.close()


async def test_bw_pause_leaves_the_fan_out_and_resumes_seamlessly(room):
    alice, bob, track_id = await start(room)
    try:
        down = room.down_tracks("p_bob")[track_id]
        track = room.track(track_id)
        video = bob.stream(bob.mid_of("video"))
        await wait_for(lambda: len(video.packets) > 30, 10, "video")
        down.set_bw_paused(True)  # what the allocator does when nothing fits
        assert down.paused and all(down not in layer.downs and down not in layer.waiting
                                   for layer in track.layers)
        paused_at = len(video.packets)
        down.set_bw_paused(False)
        assert not down.paused and down.needs_keyframe
        await wait_for(lambda: len(video.packets) > paused_at + 30, 10, "video after the pause")
        assert_continuous(video.packets)
    finally:
        await alice.close()
        await bob.close()


async def test_publisher_is_told_which_layers_nobody_needs(room):
    told: list[tuple[str, str, list[str]]] = []
    room.on_active_layers = lambda pid, tid, mid, rids: told.append((pid, tid, rids))
    alice, bob, track_id = await start(room)
    try:
        room.set_track_view("p_bob", track_id, True, 160, 96)
        await wait_for(lambda: told and told[-1][2] == ["q"], 5, "h and f switched off")
        assert told[-1][:2] == ("p_alice", track_id)
        for layer in "hf":
            alice.layers[layer].sending = False  # what the browser does when told
        room.set_track_view("p_bob", track_id, True, 640, 384)
        assert told[-1][2] == ["q", "f"]  # at once, not after a tick; h stays off
        for layer in "hf":
            alice.layers[layer].sending = True
        down = room.down_tracks("p_bob")[track_id]
        await wait_for(lambda: down.current_layer == 2, 10, "the re-enabled full layer")
        room.set_track_view("p_bob", track_id, False)  # off screen: wants nothing
        await wait_for(lambda: told[-1][2] == ["q"], 5, "only the lowest layer kept")
    finally:
        await alice.close()
        await bob.close()


async def test_a_whip_publisher_is_told_by_remb_which_layers_nobody_needs(room):
    """No `layers` channel: the REMB covers only the layers somebody needs (q is always
    kept), so the encoder's own allocation drops the others."""
    alice, bob, track_id = await start(room, layers_by_remb=True)

    def last_remb() -> int | None:
        rembs = [e for e in alice.rtcp if isinstance(e, Remb)]
        return rembs[-1].bitrate if rembs else None

    try:
        # Before Bob's view arrives, which layers are active depends on timing (h may have
        # idled out already): start from a known view.
        room.set_track_view("p_bob", track_id, True, 640, 384)
        await wait_for(lambda: (last_remb() or 0) >= 2_200_000, 5, "a REMB with the full layer")
        room.set_track_view("p_bob", track_id, True, 160, 96)
        await wait_for(lambda: last_remb() == 200_000, 10, "a REMB for q alone")
        room.set_track_view("p_bob", track_id, True, 640, 384)  # wants f again
        await wait_for(lambda: last_remb() == 2_200_000, 5, "a REMB for q and f")
    finally:
        await alice.close()
        await bob.close()


async def test_a_layer_that_stops_moves_its_subscribers_down(room):
    alice, bob, track_id = await start(room)
    try:
        down = room.down_tracks("p_bob")[track_id]
        room.set_track_view("p_bob", track_id, True, 640, 384)
        await wait_for(lambda: down.current_layer == 2, 10, "full layer")
        alice.layers["f"].sending = False  # e.g. the publisher's uplink got too thin
        await wait_for(lambda: down.current_layer == 1, 10, "moved to the half layer")
        assert down.desired_layer == 2
        alice.layers["f"].sending = True
        await wait_for(lambda: down.current_layer == 2, 10, "back on the full layer")
    finally:
        await alice.close()
        await bob.close()


async def test_rtx_is_routed_by_repaired_rid_and_fills_the_history(room):
    alice, bob, track_id = await start(room)
    try:
        track = room.track(track_id)
        layer = alice.layers["h"]
        alice.lose_next["h"] = 3
        await wait_for(lambda: len(layer.dropped) == 3, 5, "three packets of h lost")
        lost = set(layer.dropped)
        up = track.layers[1]
        await wait_for(lambda: any(isinstance(e, Nack) and e.media_ssrc == layer.ssrc
                                   for e in alice.rtcp), 5, "a NACK for the half layer")
        await wait_for(lambda: not layer.withheld, 5, "the lost packets resent as RTX")
        await wait_for(lambda: all(up.packet(seq) is not None for seq in lost), 5,
                       "the resent packets in the half layer's history")
        assert up.rtx_ssrc == layer.rtx_ssrc
        assert all(up.packet(seq).ssrc == layer.ssrc for seq in lost)  # unwrapped
    finally:
        await alice.close()
        await bob.close()


async def test_layers_listed_high_first_are_sorted_by_size(room):
    alice = SimulcastPublisher(room, "p_alice", rids=("f", "h", "q"))
    answer = await alice.publish()
    assert "a=simulcast:recv f;h;q" in answer
    bob = Subscriber(room, "p_bob")
    try:
        [info] = room.tracks()
        track = room.track(info.track_id)
        await wait_for(lambda: [layer.rid for layer in track.layers] == ["q", "h", "f"], 10,
                       "layers sorted lowest first once their sizes are known")
        assert [layer.index for layer in track.layers] == [0, 1, 2]
        await bob.sync()
        down = room.down_tracks("p_bob")[info.track_id]
        room.set_track_view("p_bob", info.track_id, True, 160, 96)
        await wait_for(lambda: down.current_layer == 0 and down._layer is track.layers[0], 10,
                       "the smallest layer for a small tile")
    finally:
        await alice.close()
        await bob.close()
