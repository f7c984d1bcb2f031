"""Is this RTP payload the start of a keyframe?  VP8 (RFC 7741) and H.264 (RFC 6184).

A subscriber that joins (or a stream that resumes) gets nothing until such a packet,
because deltas without their reference frame only produce garbage and PLI storms.
"""

from __future__ import annotations

H264_IDR = 5
H264_SPS = 7
H264_STAP_A = 24
H264_FU_A = 28


def vp8_keyframe_start(payload: bytes) -> bool:
    """First packet of a VP8 keyframe: S=1, partition 0, and the P bit of the frame clear."""
    size = len(payload)
    if size < 1:
        return False
    first = payload[0]
    if not first & 0x10 or first & 0x07:  # S bit, partition index
        return False
    pos = 1
    if first & 0x80:  # X: extension byte follows
        if size < 2:
            return False
        ext = payload[1]
        pos = 2
        if ext & 0x80:  # I: picture id, 7 or 15 bits
            if size <= pos:
                return False
            pos += 2 if payload[pos] & 0x80 else 1
        if ext & 0x40:  # L: TL0PICIDX
            pos += 1
        if ext & 0x30:  # T or K: TID/Y/KEYIDX
            pos += 1
    if size <= pos:
        return False
    return not payload[pos] & 0x01


def h264_keyframe_start(payload: bytes) -> bool:
    """Packet carrying an SPS or the start of an IDR slice (single NAL, STAP-A or FU-A)."""
    if not payload:
        return False
    nal_type = payload[0] & 0x1F
    if nal_type in (H264_IDR, H264_SPS):
        return True
    if nal_type == H264_STAP_A:
        return _stap_a_has_keyframe(payload)
    if nal_type == H264_FU_A:
        return len(payload) >= 2 and bool(payload[1] & 0x80) and (
            payload[1] & 0x1F) in (H264_IDR, H264_SPS)
    return False


def _stap_a_has_keyframe(payload: bytes) -> bool:
    pos, size = 1, len(payload)
    while pos + 2 < size:
        length = (payload[pos] << 8) | payload[pos + 1]
        pos += 2
        if length == 0 or pos + length > size:
            return False
        if (payload[pos] & 0x1F) in (H264_IDR, H264_SPS):
            return True
        pos += length
    return False


def is_keyframe_start(codec: str, payload: bytes) -> bool:
    """Dispatch on codec name ("VP8", "H264"); audio codecs never need a keyframe."""
    if codec == "VP8":
        return vp8_keyframe_start(payload)
    if codec == "H264":
        return h264_keyframe_start(payload)
    return True
