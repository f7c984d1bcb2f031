"""RTP payloads to codec frames, byte for byte (no decoding): VP8 (RFC 7741), H.264
(RFC 6184, packetization-mode 1: single NAL units, STAP-A, FU-A) and Opus (RFC 7587).

An assembler takes the packets of one stream in arrival order and returns whole frames.
A frame with a missing packet is dropped, and so is every later video frame until the next
keyframe (an inter frame whose reference is gone would decode to garbage); `wants_keyframe`
tells the caller to ask the sender for one.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

START_CODE = b"\x00\x00\x00\x01"
NAL_IDR, NAL_SPS, NAL_PPS, NAL_STAP_A, NAL_FU_A = 5, 7, 8, 24, 28


class DepacketizeError(ValueError):
    """A payload that does not follow its RTP payload format."""


class RtpLike(Protocol):
    sequence_number: int
    timestamp: int
    marker: int
    payload: bytes


@dataclass(frozen=True)
class Frame:
    data: bytes
    rtp_timestamp: int
    keyframe: bool
    # VP8 keyframes: picture size; H.264 keyframes: the SPS and PPS (for the file header).
    width: int = 0
    height: int = 0
    parameter_sets: tuple[bytes, ...] = ()


def vp8_payload(payload: bytes) -> tuple[bool, bytes]:
    """(starts a frame, VP8 data) of one RTP payload: the payload descriptor removed."""
    if not payload:
        raise DepacketizeError("empty VP8 payload")
    first = payload[0]
    offset = 1
    if first & 0x80:  # X: extension byte
        if len(payload) < 2:
            raise DepacketizeError("VP8 descriptor truncated")
        ext = payload[1]
        offset = 2
        if ext & 0x80:  # I: picture id, 7 or 15 bits
            if len(payload) <= offset:
                raise DepacketizeError("VP8 picture id truncated")
            offset += 2 if payload[offset] & 0x80 else 1
        if ext & 0x40:  # L: TL0PICIDX
            offset += 1
        if ext & 0x30:  # T or K: TID/Y/KEYIDX
            offset += 1
    if offset >= len(payload):
        raise DepacketizeError("VP8 payload has a descriptor and no data")
    starts = bool(first & 0x10) and (first & 0x07) == 0
    return starts, payload[offset:]


def vp8_keyframe_info(data: bytes) -> tuple[bool, int, int]:
    """(is keyframe, width, height) from the start of a VP8 frame (RFC 6386 9.1)."""
    if len(data) < 3 or data[0] & 0x01:
        return False, 0, 0
    if len(data) < 10 or data[3:6] != b"\x9d\x01\x2a":
        raise DepacketizeError("VP8 keyframe without its start code")
    width = int.from_bytes(data[6:8], "little") & 0x3FFF
    height = int.from_bytes(data[8:10], "little") & 0x3FFF
    return True, width, height


def h264_nal_units(payload: bytes, fu_buffer: bytearray | None) -> tuple[list[bytes], bytearray | None]:
    """Whole NAL units of one payload, and the FU-A unit still being assembled."""
    if not payload:
        raise DepacketizeError("empty H.264 payload")
    kind = payload[0] & 0x1F
    if 1 <= kind <= 23:
        return [payload], None
    if kind == NAL_STAP_A:
        units, offset = [], 1
        while offset < len(payload):
            if offset + 2 > len(payload):
                raise DepacketizeError("STAP-A size field truncated")
            size = int.from_bytes(payload[offset:offset + 2], "big")
            offset += 2
            if size == 0 or offset + size > len(payload):
                raise DepacketizeError("STAP-A unit overruns the payload")
            units.append(payload[offset:offset + size])
            offset += size
        return units, None
    if kind == NAL_FU_A:
        if len(payload) < 3:
            raise DepacketizeError("FU-A payload truncated")
        header = payload[1]
        if header & 0x80:  # S: first fragment carries the reconstructed NAL header
            fu_buffer = bytearray([(payload[0] & 0xE0) | (header & 0x1F)])
        elif fu_buffer is None:
            raise DepacketizeError("FU-A fragment without its start")
        fu_buffer += payload[2:]
        if header & 0x40:  # E: last fragment
            return [bytes(fu_buffer)], None
        return [], fu_buffer
    raise DepacketizeError(f"H.264 NAL unit type {kind} is not supported (mode 1 only)")


@dataclass
class _Pending:
    timestamp: int
    parts: list[bytes] = field(default_factory=list)
    broken: bool = False
    started: bool = False
    fu: bytearray | None = None


class FrameAssembler:
    """One RTP stream of `codec` ("vp8", "h264" or "opus") to frames."""

    def __init__(self, codec: str) -> None:
        if codec not in ("vp8", "h264", "opus"):
            raise ValueError(f"unsupported codec {codec!r}")
        self.codec = codec
        self.wants_keyframe = codec != "opus"
        self.dropped_frames = 0
        self._next_seq: int | None = None
        self._pending: _Pending | None = None

    def push(self, packet: RtpLike) -> list[Frame]:
        seq = packet.sequence_number
        lost = self._next_seq is not None and seq != self._next_seq
        if lost and (seq - self._next_seq) & 0xFFFF > 0x8000:
            return []  # late or duplicate: its frame was already given up or emitted
        self._next_seq = (seq + 1) & 0xFFFF
        if self.codec == "opus":
            return [Frame(bytes(packet.payload), packet.timestamp, True)] if packet.payload \
                else []
        out: list[Frame] = []
        pending = self._pending
        if pending is not None and (pending.timestamp != packet.timestamp or lost):
            # A new timestamp before the marker, or a gap: the open frame is incomplete.
            self._drop(pending)
            pending = None
        if pending is None:
            pending = self._pending = _Pending(packet.timestamp, broken=lost)
        try:
            self._add(pending, bytes(packet.payload))
        except DepacketizeError:
            pending.broken = True
        if packet.marker:
            self._pending = None
            frame = self._finish(pending)
            if frame is not None:
                out.append(frame)
        return out

    def _add(self, pending: _Pending, payload: bytes) -> None:
        if self.codec == "vp8":
            starts, data = vp8_payload(payload)
            if not pending.parts and not starts:
                pending.broken = True  # the first packet of this frame was lost
            pending.started = pending.started or starts
            pending.parts.append(data)
            return
        units, pending.fu = h264_nal_units(payload, pending.fu)
        pending.parts.extend(units)

    def _finish(self, pending: _Pending) -> Frame | None:
        if pending.broken or not pending.parts or pending.fu is not None:
            self._drop(pending)
            return None
        frame = self._vp8(pending) if self.codec == "vp8" else self._h264(pending)
        if frame.keyframe:
            self.wants_keyframe = False
        elif self.wants_keyframe:
            self.dropped_frames += 1
            return None
        return frame

    def _vp8(self, pending: _Pending) -> Frame:
        data = b"".join(pending.parts)
        key, width, height = vp8_keyframe_info(data)
        return Frame(data, pending.timestamp, key, width, height)

    def _h264(self, pending: _Pending) -> Frame:
        types = [unit[0] & 0x1F for unit in pending.parts]
        sets = tuple(u for u, t in zip(pending.parts, types) if t in (NAL_SPS, NAL_PPS))
        key = NAL_IDR in types
        data = b"".join(START_CODE + unit for unit in pending.parts)
        return Frame(data, pending.timestamp, key, parameter_sets=sets if key else ())

    def _drop(self, pending: _Pending) -> None:
        self.dropped_frames += 1
        self.wants_keyframe = True
