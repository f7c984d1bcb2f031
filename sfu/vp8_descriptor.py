"""VP8 payload descriptor picture-id continuity (RFC 7741 section 4.2).

Browsers order VP8 frames by PictureID (and temporal layers by TL0PICIDX). When a
subscriber transceiver switches from one publisher to another, those jump to unrelated
values and may look *older*, so the receiver would drop frames. Like the sequence
numbers, they are re-based per subscriber at each switch and patched in place.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Vp8Fields:
    """Offsets inside the RTP payload; -1 when the field is absent."""

    picture_id_at: int = -1
    picture_id_bits: int = 0  # 7 or 15
    tl0_at: int = -1

    def picture_id(self, payload: bytes | bytearray) -> int | None:
        at = self.picture_id_at
        if at < 0:
            return None
        if self.picture_id_bits == 15:
            return ((payload[at] & 0x7F) << 8) | payload[at + 1]
        return payload[at] & 0x7F


NO_FIELDS = Vp8Fields()


def parse_fields(payload: bytes) -> Vp8Fields:
    size = len(payload)
    if size < 2 or not payload[0] & 0x80:
        return NO_FIELDS
    ext = payload[1]
    pos = 2
    picture_id_at, bits, tl0_at = -1, 0, -1
    if ext & 0x80:
        if pos >= size:
            return NO_FIELDS
        bits = 15 if payload[pos] & 0x80 else 7
        picture_id_at = pos
        pos += 2 if bits == 15 else 1
    if ext & 0x40:
        tl0_at = pos
        pos += 1
    if pos > size:
        return NO_FIELDS
    return Vp8Fields(picture_id_at, bits, tl0_at)


class PictureIdRewriter:
    def __init__(self) -> None:
        self._pid_offset = 0
        self._tl0_offset = 0
        self._last_pid: int | None = None
        self._last_tl0: int | None = None

    def anchor(self, payload: bytes, fields: Vp8Fields) -> None:
        """The first packet of a new source: continue after the last values sent."""
        pid = fields.picture_id(payload)
        self._pid_offset = 0
        if pid is not None and self._last_pid is not None:
            self._pid_offset = (self._last_pid + 1 - pid) & 0x7FFF
        self._tl0_offset = 0
        if fields.tl0_at >= 0 and self._last_tl0 is not None:
            self._tl0_offset = (self._last_tl0 + 1 - payload[fields.tl0_at]) & 0xFF

    def next_values(self, pid: int, pid_bits: int, tl0: int) -> tuple[int, int]:
        """This subscriber's picture id and TL0PICIDX for a packet carrying `pid` and
        `tl0` (-1: the packet has none; pid_bits 0: no picture id). Each sent packet moves
        the continuation point, as `rewrite` does."""
        if pid_bits:
            pid = (pid + self._pid_offset) & (0x7FFF if pid_bits == 15 else 0x7F)
            self._last_pid = pid
        if tl0 < 0:
            return pid, 0
        tl0 = (tl0 + self._tl0_offset) & 0xFF
        self._last_tl0 = tl0
        return pid, tl0

    def rewrite(self, buf: bytearray, base: int, fields: Vp8Fields,
                remember: bool = True) -> None:
        """Patch the descriptor of the payload starting at buf[base]; retransmissions
        pass remember=False so an old packet does not move the continuation point."""
        at = fields.picture_id_at
        if at >= 0:
            at += base
            if fields.picture_id_bits == 15:
                pid = ((((buf[at] & 0x7F) << 8) | buf[at + 1]) + self._pid_offset) & 0x7FFF
                buf[at] = 0x80 | (pid >> 8)
                buf[at + 1] = pid & 0xFF
            else:
                pid = ((buf[at] & 0x7F) + self._pid_offset) & 0x7F
                buf[at] = pid
            if remember:
                self._last_pid = pid
        if fields.tl0_at >= 0:
            at = base + fields.tl0_at
            buf[at] = (buf[at] + self._tl0_offset) & 0xFF
            if remember:
                self._last_tl0 = buf[at]


def rtp_header_length(data: bytes) -> int:
    """Length of the fixed header, CSRCs and header extension of a serialised packet."""
    length = 12 + 4 * (data[0] & 0x0F)
    if data[0] & 0x10:
        length += 4 + 4 * ((data[length + 2] << 8) | data[length + 3])
    return length
