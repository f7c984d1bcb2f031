"""Picture size from the first packet of a keyframe, without decoding.

A simulcast layer's resolution decides which subscriber it suits. Browsers do not put it
in the SDP, but every VP8 keyframe starts with its size (RFC 6386 9.1) and every H.264
IDR is preceded by a sequence parameter set (ITU-T H.264 7.3.2.1.1). Both are read from
the RTP payload of the packet `keyframe.is_keyframe_start` accepted.
"""

from __future__ import annotations

from sfu.h264_sps import SpsError, picture_size
from sfu.keyframe import H264_FU_A, H264_SPS, H264_STAP_A

VP8_START_CODE = b"\x9d\x01\x2a"
MAX_SIDE = 16384


def frame_size(codec: str, payload: bytes) -> tuple[int, int] | None:
    """(width, height) carried by a keyframe's first packet, or None if not found."""
    try:
        if codec == "VP8":
            return vp8_size(payload)
        if codec == "H264":
            return h264_size(payload)
    except IndexError:
        return None
    return None


def vp8_size(payload: bytes) -> tuple[int, int] | None:
    pos = _vp8_descriptor_length(payload)
    # 3-byte frame tag, 3-byte start code, then 14-bit width and height (little endian)
    if pos is None or len(payload) < pos + 10 or payload[pos] & 0x01:
        return None
    if payload[pos + 3:pos + 6] != VP8_START_CODE:
        return None
    width = (payload[pos + 6] | payload[pos + 7] << 8) & 0x3FFF
    height = (payload[pos + 8] | payload[pos + 9] << 8) & 0x3FFF
    return (width, height) if width and height else None


def _vp8_descriptor_length(payload: bytes) -> int | None:
    if not payload:
        return None
    pos = 1
    if payload[0] & 0x80:
        ext = payload[1]
        pos = 2
        if ext & 0x80:
            pos += 2 if payload[pos] & 0x80 else 1
        if ext & 0x40:
            pos += 1
        if ext & 0x30:
            pos += 1
    return pos


def h264_size(payload: bytes) -> tuple[int, int] | None:
    sps = _find_sps(payload)
    return None if sps is None else sps_size(sps)


def _find_sps(payload: bytes) -> bytes | None:
    nal_type = payload[0] & 0x1F
    if nal_type == H264_SPS:
        return payload
    if nal_type == H264_STAP_A:
        pos = 1
        while pos + 2 < len(payload):
            length = (payload[pos] << 8) | payload[pos + 1]
            pos += 2
            if payload[pos] & 0x1F == H264_SPS:
                return payload[pos:pos + length]
            pos += length
    if nal_type == H264_FU_A and payload[1] & 0x80 and payload[1] & 0x1F == H264_SPS:
        return bytes([H264_SPS]) + payload[2:]  # an SPS split across packets: its start
    return None


def sps_size(nal: bytes) -> tuple[int, int] | None:
    try:
        width, height = picture_size(nal)
    except SpsError:
        return None  # a truncated SPS (split across packets) or garbage: size unknown
    return (width, height) if width <= MAX_SIDE and height <= MAX_SIDE else None
