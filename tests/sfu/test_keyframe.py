"""Keyframe detection on VP8 and H.264 RTP payloads, and the PLI rate limiter."""

from __future__ import annotations

import asyncio

import av

from sfu.keyframe import h264_keyframe_start, is_keyframe_start, vp8_keyframe_start
from sfu.keyframe_limiter import KeyframeLimiter
from sfu_media import encoded_frames


def test_vp8_descriptor_variants():
    key, delta = b"\x10\x00", b"\x10\x01"  # S=1 PID=0, then P bit of the frame header
    assert vp8_keyframe_start(key) and not vp8_keyframe_start(delta)
    assert vp8_keyframe_start(b"\x90\x80\x12\x00")  # X, I, 7-bit picture id
    assert vp8_keyframe_start(b"\x90\x80\x92\x34\x00")  # 15-bit picture id
    assert vp8_keyframe_start(b"\x90\xe0\x92\x34\x05\x40\x00")  # + TL0PICIDX + TID
    assert not vp8_keyframe_start(b"\x00\x00")  # continuation packet (S=0)
    assert not vp8_keyframe_start(b"\x11\x00")  # partition 1
    assert not vp8_keyframe_start(b"\x90\x80")  # truncated
    assert not vp8_keyframe_start(b"")


def test_vp8_frames_from_libvpx():
    frames = encoded_frames("vp8")
    descriptor = b"\x10"
    assert vp8_keyframe_start(descriptor + frames[0])
    assert vp8_keyframe_start(descriptor + frames[30])
    assert not any(vp8_keyframe_start(descriptor + f) for f in frames[1:30])


def test_h264_nal_forms():
    assert h264_keyframe_start(b"\x65\x88")  # IDR slice
    assert h264_keyframe_start(b"\x67\x42")  # SPS
    assert not h264_keyframe_start(b"\x41\x9a")  # non-IDR slice
    stap = b"\x18" + b"\x00\x02\x67\x42" + b"\x00\x02\x68\xce"
    assert h264_keyframe_start(stap)
    assert not h264_keyframe_start(b"\x18\x00\x02\x41\x9a")
    assert not h264_keyframe_start(b"\x18\x00\x09\x67")  # truncated aggregate
    assert h264_keyframe_start(b"\x7c\x85\x88")  # FU-A start of IDR
    assert not h264_keyframe_start(b"\x7c\x05\x88")  # FU-A middle of IDR
    assert not h264_keyframe_start(b"\x7c\x81\x88")  # FU-A start of non-IDR
    assert not h264_keyframe_start(b"")


def test_h264_frames_from_libx264():
    frames = encoded_frames("h264")
    for index, frame in enumerate(frames):
        nals = [n for n in frame.replace(b"\x00\x00\x00\x01", b"\x00\x00\x01").split(b"\x00\x00\x01") if n]
        assert any(h264_keyframe_start(n) for n in nals) == (index % 30 == 0), index


def test_audio_never_waits_for_a_keyframe():
    assert is_keyframe_start("opus", b"\x00")


async def test_limiter_sends_at_once_then_coalesces_into_the_next_window():
    sent: list[float] = []
    loop = asyncio.get_running_loop()
    limiter = KeyframeLimiter(0.2, lambda: sent.append(loop.time()))
    start = loop.time()
    limiter.request()
    assert len(sent) == 1
    for _ in range(5):
        limiter.request()  # inside the window: one queued request
    assert len(sent) == 1 and limiter.pending
    await asyncio.sleep(0.3)
    assert len(sent) == 2 and 0.19 <= sent[1] - start < 0.3
    await asyncio.sleep(0.25)
    assert len(sent) == 2  # nothing asked, nothing sent
    limiter.request()
    assert len(sent) == 3  # window open again: immediate
    limiter.request()
    limiter.close()
    await asyncio.sleep(0.25)
    assert len(sent) == 3 and not limiter.pending


def test_av_is_pyav():
    assert av.codec.Codec("libvpx", "w").name == "libvpx"
