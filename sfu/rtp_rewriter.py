"""Per-subscriber RTP stream rewriting: one output SSRC, continuous numbering.

A subscriber transceiver keeps a single outgoing stream for its whole life while the
published source behind it changes (track switch, re-publish, mute/unmute). Each switch
re-anchors the offsets so the output sequence number continues at last+1 and the
timestamp advances by the wall-clock gap; the receiver never sees a jump or a gap.
Only the 12-byte fixed header is patched, so one serialised packet serves every
subscriber that shares the header-extension layout.
"""

from __future__ import annotations

import struct

SEQ_MOD = 1 << 16
TS_MOD = 1 << 32
_HALF_SEQ = 1 << 15
_HEADER = struct.Struct("!HII")


def seq_delta(a: int, b: int) -> int:
    """Signed distance from b to a in 16-bit sequence space (-32768..32767)."""
    d = (a - b) & 0xFFFF
    return d - SEQ_MOD if d >= _HALF_SEQ else d


def patch_header(buf: bytearray, payload_type: int, seq: int, ts: int, ssrc: int) -> None:
    """Overwrite payload type, sequence number, timestamp and SSRC; keep the marker bit."""
    buf[1] = (buf[1] & 0x80) | payload_type
    _HEADER.pack_into(buf, 2, seq, ts, ssrc)


def patched_copy(data: bytes, header_len: int, payload_type: int, seq: int, ts: int,
                 ssrc: int, pid_at: int, pid_bits: int, pid: int, tl0_at: int,
                 tl0: int) -> bytes:
    """One subscriber's copy of a serialised packet: its header values and, for VP8,
    its picture id (7 or 15 bits) and TL0PICIDX at these payload offsets (-1: none).
    The Python twin of sfu/_fastsend.c's Route.send."""
    buf = bytearray(data)
    patch_header(buf, payload_type, seq, ts, ssrc)
    if pid_at >= 0:
        at = header_len + pid_at
        if pid_bits == 15:
            buf[at] = 0x80 | (pid >> 8) & 0x7F
            buf[at + 1] = pid & 0xFF
        else:
            buf[at] = pid & 0x7F
    if tl0_at >= 0:
        buf[header_len + tl0_at] = tl0 & 0xFF
    return bytes(buf)


class StreamRewriter:
    """Maps (seq, ts) of the current source onto one continuous output stream."""

    def __init__(self, first_seq: int, first_ts: int) -> None:
        self._start_seq = first_seq & 0xFFFF
        self._start_ts = first_ts & 0xFFFFFFFF
        self.seq_offset = 0
        self.ts_offset = 0
        self.anchor_seq: int | None = None  # first input seq of the current source
        self.last_out_seq: int | None = None
        self.last_out_ts: int | None = None

    @property
    def anchored(self) -> bool:
        return self.anchor_seq is not None

    def unanchor(self) -> None:
        """Forget the current source; the next packet accepted must call switch_source."""
        self.anchor_seq = None

    def switch_source(self, first_seq: int, first_ts: int, ts_gap: int) -> None:
        """Make input (first_seq, first_ts) follow the last output packet.

        ts_gap is how far the output timestamp advances, normally the wall-clock time
        since the last output packet in clock-rate units; at least 1 so that two frames
        never share a timestamp.
        """
        if self.last_out_seq is None or self.last_out_ts is None:
            target_seq, target_ts = self._start_seq, self._start_ts
        else:
            target_seq = (self.last_out_seq + 1) & 0xFFFF
            target_ts = (self.last_out_ts + max(1, ts_gap)) & 0xFFFFFFFF
        self.seq_offset = (target_seq - first_seq) & 0xFFFF
        self.ts_offset = (target_ts - first_ts) & 0xFFFFFFFF
        self.anchor_seq = first_seq & 0xFFFF

    def rewrite(self, seq: int, ts: int) -> tuple[int, int] | None:
        """Output (seq, ts) for an input packet, or None if it predates the anchor."""
        anchor = self.anchor_seq
        if anchor is None or ((seq - anchor) & 0xFFFF) >= _HALF_SEQ:
            return None
        out_seq = (seq + self.seq_offset) & 0xFFFF
        out_ts = (ts + self.ts_offset) & 0xFFFFFFFF
        last = self.last_out_seq
        if last is None or ((out_seq - last) & 0xFFFF) < _HALF_SEQ:
            self.last_out_seq = out_seq
            self.last_out_ts = out_ts
        return out_seq, out_ts

    def source_seq(self, out_seq: int) -> int | None:
        """The input sequence number that produced out_seq (for NACKs), if it was sent."""
        anchor, last = self.anchor_seq, self.last_out_seq
        if anchor is None or last is None or seq_delta(out_seq, last) > 0:
            return None
        seq = (out_seq - self.seq_offset) & 0xFFFF
        if ((seq - anchor) & 0xFFFF) >= _HALF_SEQ:
            return None
        return seq

    def output_ts(self, ts: int) -> int:
        """Translate a source RTP timestamp (e.g. from a sender report) to the output."""
        return (ts + self.ts_offset) & 0xFFFFFFFF
