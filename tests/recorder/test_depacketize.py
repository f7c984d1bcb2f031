"""RTP payload formats to frames (recorder/depacketize.py): good and bad packets."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from recorder.depacketize import (DepacketizeError, FrameAssembler, h264_nal_units,
                                  vp8_keyframe_info, vp8_payload)

# A VP8 keyframe header: frame tag (P=0), start code, 640x480.
VP8_KEY = bytes([0x10, 0x02, 0x00, 0x9D, 0x01, 0x2A]) + (640).to_bytes(2, "little") + \
    (480).to_bytes(2, "little") + b"key-data"
VP8_DELTA = bytes([0x11, 0x00, 0x00]) + b"delta"


@dataclass
class Rtp:
    sequence_number: int
    timestamp: int
    marker: int
    payload: bytes


def test_vp8_descriptor_forms() -> None:
    assert vp8_payload(b"\x10abc") == (True, b"abc")  # S=1, PID=0, no extension
    assert vp8_payload(b"\x00abc") == (False, b"abc")  # continuation
    # X=1 with I (15-bit picture id), L (TL0PICIDX) and T/K (one byte)
    assert vp8_payload(bytes([0x90, 0xF0, 0x80, 0x01, 0x05, 0x20]) + b"v") == (True, b"v")
    assert vp8_payload(bytes([0x90, 0x80, 0x05]) + b"v") == (True, b"v")  # 7-bit picture id
    assert vp8_payload(bytes([0x14]) + b"v") == (False, b"v")  # partition 4 is not a start


@pytest.mark.parametrize("payload, message", [
    (b"", "empty VP8 payload"),
    (b"\x90", "VP8 descriptor truncated"),
    (b"\x90\x80", "VP8 picture id truncated"),
    (b"\x10", "VP8 payload has a descriptor and no data"),
])
def test_vp8_bad_payloads(payload: bytes, message: str) -> None:
    with pytest.raises(DepacketizeError, match=f"^{message}$"):
        vp8_payload(payload)


def test_vp8_keyframe_info() -> None:
    assert vp8_keyframe_info(VP8_KEY) == (True, 640, 480)
    assert vp8_keyframe_info(VP8_DELTA) == (False, 0, 0)
    with pytest.raises(DepacketizeError, match="^VP8 keyframe without its start code$"):
        vp8_keyframe_info(bytes([0x10, 0x02, 0x00, 0x00, 0x00, 0x00, 0, 0, 0, 0]))


def test_h264_units() -> None:
    sps, pps, idr = b"\x67SPS", b"\x68PPS", b"\x65IDR-slice"
    stap = b"\x78" + len(sps).to_bytes(2, "big") + sps + len(pps).to_bytes(2, "big") + pps
    assert h264_nal_units(stap, None) == ([sps, pps], None)
    assert h264_nal_units(idr, None) == ([idr], None)
    # FU-A: indicator NRI from the original header, type 28; header S/E + type 5
    units, buffer = h264_nal_units(bytes([0x7C, 0x85]) + b"IDR-", None)
    assert units == [] and buffer == bytearray(b"\x65IDR-")
    units, buffer = h264_nal_units(bytes([0x7C, 0x45]) + b"slice", buffer)
    assert units == [b"\x65IDR-slice"] and buffer is None


@pytest.mark.parametrize("payload, message", [
    (b"", "empty H.264 payload"),
    (b"\x78\x00", "STAP-A size field truncated"),
    (b"\x78\x00\x09abc", "STAP-A unit overruns the payload"),
    (b"\x7C\x05", "FU-A payload truncated"),
    (bytes([0x7C, 0x05]) + b"middle", "FU-A fragment without its start"),
    (b"\x79abc", "H.264 NAL unit type 25 is not supported (mode 1 only)"),
])
def test_h264_bad_payloads(payload: bytes, message: str) -> None:
    with pytest.raises(DepacketizeError, match=f"^{message}$".replace("(", r"\(")
                       .replace(")", r"\)").replace(".", r"\.")):
        h264_nal_units(payload, None)


def test_vp8_frames_and_loss() -> None:
    asm = FrameAssembler("vp8")
    assert asm.wants_keyframe
    # a delta frame before any keyframe is dropped
    assert asm.push(Rtp(1, 100, 1, b"\x10" + VP8_DELTA)) == []
    frames = asm.push(Rtp(2, 200, 0, b"\x10" + VP8_KEY[:5])) + \
        asm.push(Rtp(3, 200, 1, b"\x00" + VP8_KEY[5:]))
    assert [(f.data, f.keyframe, f.width, f.height) for f in frames] == [(VP8_KEY, True, 640, 480)]
    assert not asm.wants_keyframe
    assert asm.push(Rtp(4, 300, 1, b"\x10" + VP8_DELTA))[0].data == VP8_DELTA
    # packet 5 (the start of the next frame) is lost: that frame and the next are dropped
    assert asm.push(Rtp(6, 400, 1, b"\x00" + VP8_DELTA)) == []
    assert asm.wants_keyframe
    assert asm.push(Rtp(7, 500, 1, b"\x10" + VP8_DELTA)) == []
    assert asm.push(Rtp(5, 400, 0, b"\x10x")) == [], "a late packet changes nothing"
    assert asm.push(Rtp(8, 600, 1, b"\x10" + VP8_KEY))[0].keyframe
    assert asm.push(Rtp(0xFFFF, 0, 1, b"\x10" + VP8_DELTA)) == [], "old sequence number"


def test_h264_frames_carry_parameter_sets() -> None:
    asm = FrameAssembler("h264")
    sps, pps, idr = b"\x67SPS", b"\x68PPS", b"\x65IDR"
    stap = b"\x78" + len(sps).to_bytes(2, "big") + sps + len(pps).to_bytes(2, "big") + pps
    assert asm.push(Rtp(10, 90, 0, stap)) == []
    (frame,) = asm.push(Rtp(11, 90, 1, idr))
    assert frame.keyframe and frame.parameter_sets == (sps, pps)
    assert frame.data == b"\0\0\0\1" + sps + b"\0\0\0\1" + pps + b"\0\0\0\1" + idr
    (delta,) = asm.push(Rtp(12, 180, 1, b"\x41P-slice"))
    assert not delta.keyframe and delta.data == b"\0\0\0\1\x41P-slice"


def test_opus_frames_and_codecs() -> None:
    asm = FrameAssembler("opus")
    (frame,) = asm.push(Rtp(1, 960, 1, b"\xfc\x01\x02"))
    assert frame.keyframe and frame.data == b"\xfc\x01\x02" and not asm.wants_keyframe
    with pytest.raises(ValueError, match="unsupported codec 'vp9'"):
        FrameAssembler("vp9")
