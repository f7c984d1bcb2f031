"""What the simulcast load reads of a VP8 RTP payload without decoding it: where the
payload descriptor ends (RFC 7741 section 4.2) and a keyframe's size (the SFU's own
pure parsers, sfu/keyframe.py and sfu/frame_size.py)."""

from __future__ import annotations

from sfu.frame_size import vp8_size
from sfu.keyframe import vp8_keyframe_start


def descriptor_length(payload: bytes) -> int:
    """Bytes of the VP8 payload descriptor; the SFU rewrites its picture id / TL0PICIDX
    when it switches layers, so the simulcast load matches payloads after it."""
    if len(payload) < 2 or not payload[0] & 0x80:
        return 1
    ext = payload[1]
    length = 2
    if ext & 0x80:  # PictureID, 7 or 15 bits
        length += 2 if len(payload) > 2 and payload[2] & 0x80 else 1
    if ext & 0x40:  # TL0PICIDX
        length += 1
    if ext & 0x30:  # TID/KEYIDX
        length += 1
    return min(length, len(payload))


def keyframe_size(payload: bytes) -> tuple[int, int] | None:
    """(width, height) if this packet starts a keyframe, else None."""
    if not vp8_keyframe_start(payload):
        return None
    try:
        return vp8_size(payload)
    except IndexError:  # a truncated descriptor
        return None
