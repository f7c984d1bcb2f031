"""Forwarding without transcoding: what a subscriber receives is what was published."""

from __future__ import annotations

import asyncio
import re
import time

import pytest

from sfu import aiortc_bridge as bridge
from sfu.keyframe import is_keyframe_start
from sfu.rtcp_events import KeyframeRequest, Nack, ReceiverReport, SenderReport
from sfu.rtcp_stats import NTP_EPOCH_OFFSET
from sfu_media import (FPS, VIDEO_CLOCK, EncodedVideoTrack, PatternVideoTrack,
                       ToneAudioTrack, encoded_frames)
from sfu_peers import Publisher, Subscriber, wait_for
from sfu_proxy import LossyRelay, rtp_header


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


@pytest.mark.parametrize("codec", ["VP8", "H264"])
async def test_late_joiner_decodes_a_frame_within_1_5_s(room, codec):
    """aiortc's encoders make a keyframe every 3000 (VP8) or 250 (x264) frames, so the
    joiner's picture can only come from the keyframe our PLI asks for."""
    alice = Publisher(room, "p_alice")
    alice.add(PatternVideoTrack(), "camera", codec=codec)
    early = Subscriber(room, "p_early")
    bob = Subscriber(room, "p_bob")
    try:
        await alice.publish()
        await early.sync()
        await asyncio.sleep(2.0)  # the publisher's first keyframe is long gone
        started = time.monotonic()
        await bob.sync()
        await wait_for(lambda: bob.tracks, 1.5, "the video track")
        frame = await asyncio.wait_for(bob.tracks[0].recv(), 1.5 - (time.monotonic() - started))
        elapsed = time.monotonic() - started
        stream = bob.stream(bob.mid_of("video"))
    finally:
        await alice.close()
        await bob.close()
        await early.close()
    assert frame.width == 160 and elapsed < 1.5
    assert is_keyframe_start(codec, stream.packets[0].payload), "must start at a keyframe"
    plis = [t for t, _ in alice.received(KeyframeRequest) if t >= started]
    assert plis, "the publisher got no keyframe request for the late joiner"


@pytest.mark.parametrize("rtx", [True, False])
async def test_lost_packet_is_retransmitted_from_history(room, rtx):
    """One packet to Bob is lost on the wire; Bob's NACK is answered from the SFU's
    history: over RTX when Bob negotiated it, else as a plain resend."""
    relay = LossyRelay()
    await relay.start()
    alice = Publisher(room, "p_alice")
    alice.add(EncodedVideoTrack(encoded_frames("vp8")), "camera")
    bob = Subscriber(room, "p_bob", rtx=rtx, relay=relay)
    lost: list[int] = []
    video_pts: set[int] = set()

    def drop(data: bytes) -> bool:
        header = rtp_header(data)
        if header is None or lost or header[0] not in video_pts:
            return False
        drop.seen += 1  # type: ignore[attr-defined]
        if drop.seen == 40:  # type: ignore[attr-defined]
            lost.append(header[1])
            return True
        return False

    drop.seen = 0  # type: ignore[attr-defined]
    try:
        await alice.publish()
        await bob.sync()
        mid = bob.mid_of("video")
        transceiver = next(t for t in bob.pc.getTransceivers() if t.mid == mid)
        video_pts.add(bridge.negotiated_codecs(transceiver)[0].payload_type)
        relay.drop_to_client = drop
        stream = bob.stream(mid)

        def retransmitted() -> list:
            if not stream.packets or not lost:
                return []
            media = stream.packets[0]
            if rtx:  # on the RTX stream, carrying the original sequence number
                return [p for p in stream.packets if p.ssrc != media.ssrc
                        and int.from_bytes(p.payload[:2], "big") == lost[0]]
            return [p for p in stream.packets
                    if p.ssrc == media.ssrc and p.sequence_number == lost[0]]

        await wait_for(lambda: retransmitted(), 5, "the retransmission")
        [again] = retransmitted()
    finally:
        relay.close()
        await alice.close()
        await bob.close()
    assert (again.payload_type != stream.packets[0].payload_type) == rtx


async def test_sender_reports_follow_the_publisher_clock(room):
    """Our SRs map RTP time to the publisher's NTP clock: on one host, the mapping
    predicts when each packet was sent, for audio and video alike (lip sync)."""
    alice = Publisher(room, "p_alice")
    alice.add(ToneAudioTrack(), "microphone")
    alice.add(PatternVideoTrack(), "camera")
    bob = Subscriber(room, "p_bob")
    try:
        await alice.publish()
        await bob.sync()
        streams = {kind: bob.stream(bob.mid_of(kind)) for kind in ("audio", "video")}
        await wait_for(lambda: all(len(_reports(s)) >= 2 for s in streams.values()), 6,
                       "two sender reports per stream")
        for kind, stream in streams.items():
            _check_reports(kind, stream)
        await wait_for(lambda: len(alice.received(ReceiverReport)) >= 2, 3, "receiver reports")
    finally:
        await alice.close()
        await bob.close()
    reports = [e for _, e in alice.received(ReceiverReport)]
    assert {r.ssrc for r in reports} == {t.sender._ssrc for t, _ in alice.transceivers}
    assert all(r.highest_sequence > 0 and r.packets_lost == 0 for r in reports)
    assert any(r.lsr and r.dlsr for r in reports), "RRs must echo the publisher's SR"


def _reports(stream) -> list:
    media_ssrc = stream.packets[0].ssrc if stream.packets else None
    return [e for e in stream.rtcp if isinstance(e, SenderReport) and e.ssrc == media_ssrc]


def _check_reports(kind: str, stream) -> None:
    clock_rate = 48000 if kind == "audio" else VIDEO_CLOCK
    report = _reports(stream)[-1]
    sent = [p for p in stream.packets if p.ssrc == report.ssrc]
    assert abs(report.packets - len(sent)) <= len(sent) * 0.2 + 5, (report, len(sent))
    assert report.octets > 0
    ntp_s = report.ntp / (1 << 32) - NTP_EPOCH_OFFSET
    for packet, arrival in list(zip(stream.packets, stream.arrivals))[-20:]:
        if packet.ssrc != report.ssrc:
            continue
        delta = ((packet.timestamp - report.rtp + (1 << 31)) % (1 << 32) - (1 << 31))
        predicted = ntp_s + delta / clock_rate
        assert abs(predicted - arrival) < 0.2, f"{kind}: SR mapping off by {predicted - arrival:.3f} s"


async def test_loss_from_the_publisher_is_nacked_upstream_and_repaired(room):
    """One video packet from Alice is lost on the wire; the SFU NACKs it, Alice
    resends it over RTX, and Bob still gets every frame byte for byte."""
    frames = encoded_frames("vp8")
    relay = LossyRelay()
    await relay.start()
    alice = Publisher(room, "p_alice")
    alice.add(EncodedVideoTrack(frames), "camera")
    bob = Subscriber(room, "p_bob")
    lost: list[int] = []

    def drop(data: bytes) -> bool:
        header = rtp_header(data)
        if header is None or lost or header[0] != video_pt:
            return False
        drop.seen += 1  # type: ignore[attr-defined]
        if drop.seen == 60:  # type: ignore[attr-defined]
            lost.append(header[1])
            return True
        return False

    drop.seen = 0  # type: ignore[attr-defined]
    try:
        await bob.sync()
        offer = await alice.offer()
        answer = await room.publish("p_alice", "Alice", offer, alice.current_sources())
        video_pt = int(re.search(r"m=video \d+ \S+ (\d+)", answer).group(1))
        relay.drop = drop
        await bridge.set_remote(alice.pc, relay.route_answer(answer), "answer")
        await bob.sync()
        stream = bob.stream(bob.mid_of("video"))
        await wait_for(lambda: lost and len(stream.frames("VP8")) >= 50, 10, "50 frames")
        nacked = [seq for _, e in alice.received(Nack) for seq in e.lost]
        await wait_for(lambda: len(alice.received(ReceiverReport)) >= 2, 3, "receiver reports")
        received = stream.frames("VP8")
    finally:
        relay.close()
        await alice.close()
        await bob.close()
    assert lost[0] in nacked, "the SFU did not NACK the lost packet"
    assert len(nacked) < 10, "one loss must not cause a NACK storm"
    first_ts, first = received[0]
    start = frames.index(first)
    step = VIDEO_CLOCK // FPS
    indexes = [start + ((ts - first_ts) % (1 << 32)) // step for ts, _ in received]
    assert indexes == list(range(start, start + len(received))), "a frame is missing"
    assert all(data == frames[i % len(frames)] for i, (_, data) in zip(indexes, received))
    report = [e for _, e in alice.received(ReceiverReport)][-1]
    assert report.packets_lost == 1  # counted before the repair, as RFC 3550 does
