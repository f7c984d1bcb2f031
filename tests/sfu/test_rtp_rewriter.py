"""One output stream per subscriber transceiver: wrap-around and source switches."""

from __future__ import annotations

import struct

from sfu.rtp_rewriter import StreamRewriter, patch_header, seq_delta
from sfu.vp8_descriptor import PictureIdRewriter, Vp8Fields, parse_fields, rtp_header_length


def test_sequence_number_wraps_from_65535_to_0():
    rw = StreamRewriter(first_seq=65534, first_ts=1000)
    rw.switch_source(first_seq=100, first_ts=5000, ts_gap=0)
    out = [rw.rewrite(seq, 5000)[0] for seq in (100, 101, 102, 103)]
    assert out == [65534, 65535, 0, 1]
    assert rw.last_out_seq == 1


def test_input_sequence_wrap_keeps_output_continuous():
    rw = StreamRewriter(first_seq=10, first_ts=0)
    rw.switch_source(first_seq=65534, first_ts=0, ts_gap=0)
    assert [rw.rewrite(s, 0)[0] for s in (65534, 65535, 0, 1)] == [10, 11, 12, 13]


def test_timestamp_wraps_at_2_pow_32():
    rw = StreamRewriter(first_seq=0, first_ts=(1 << 32) - 3000)
    rw.switch_source(first_seq=7, first_ts=90000, ts_gap=0)
    assert rw.rewrite(7, 90000) == (0, (1 << 32) - 3000)
    assert rw.rewrite(8, 93000) == (1, 0)
    assert rw.rewrite(9, 96000) == (2, 3000)
    assert rw.output_ts(99000) == 6000


def test_source_switch_continues_sequence_and_advances_timestamp():
    rw = StreamRewriter(first_seq=500, first_ts=10_000)
    rw.switch_source(first_seq=40_000, first_ts=3_000_000, ts_gap=0)
    assert rw.rewrite(40_000, 3_000_000) == (500, 10_000)
    assert rw.rewrite(40_001, 3_003_000) == (501, 13_000)
    # a new publisher with unrelated numbering, 0.5 s later at 90 kHz
    rw.switch_source(first_seq=12, first_ts=77, ts_gap=45_000)
    assert rw.rewrite(12, 77) == (502, 58_000)
    assert rw.rewrite(13, 3_077) == (503, 61_000)


def test_source_switch_across_both_wraps():
    rw = StreamRewriter(first_seq=65535, first_ts=(1 << 32) - 1)
    rw.switch_source(first_seq=1, first_ts=1, ts_gap=0)
    assert rw.rewrite(1, 1) == (65535, (1 << 32) - 1)
    rw.switch_source(first_seq=9000, first_ts=123, ts_gap=10)
    assert rw.rewrite(9000, 123) == (0, 9)


def test_packets_older_than_the_anchor_are_not_forwarded():
    rw = StreamRewriter(first_seq=0, first_ts=0)
    assert rw.rewrite(5, 0) is None  # not anchored yet
    rw.switch_source(first_seq=100, first_ts=0, ts_gap=0)
    assert rw.rewrite(99, 0) is None
    assert rw.rewrite(100, 0) == (0, 0)


def test_reordered_packet_does_not_move_the_last_output_back():
    rw = StreamRewriter(first_seq=0, first_ts=0)
    rw.switch_source(first_seq=10, first_ts=0, ts_gap=0)
    rw.rewrite(10, 0)
    rw.rewrite(12, 6000)
    assert rw.rewrite(11, 3000) == (1, 3000)
    assert (rw.last_out_seq, rw.last_out_ts) == (2, 6000)


def test_nacked_output_sequence_maps_back_to_the_source():
    rw = StreamRewriter(first_seq=65530, first_ts=0)
    rw.switch_source(first_seq=200, first_ts=0, ts_gap=0)
    for seq in range(200, 212):
        rw.rewrite(seq, 0)
    assert rw.source_seq(65530) == 200
    assert rw.source_seq(3) == 209  # across the output wrap
    assert rw.source_seq(6) is None  # not sent yet
    rw.switch_source(first_seq=7, first_ts=0, ts_gap=1)
    rw.rewrite(7, 0)
    assert rw.source_seq(65530) is None  # belonged to the previous source
    assert rw.source_seq(6) == 7


def test_patch_header_rewrites_fixed_header_and_keeps_marker():
    header = struct.pack("!BBHII", 0x80, 0x80 | 111, 1, 2, 3)
    buf = bytearray(header + b"payload")
    patch_header(buf, 96, 65535, 0xFFFFFFFF, 0xCAFEBABE)
    assert buf[0] == 0x80 and buf[1] == 0x80 | 96
    assert struct.unpack("!HII", bytes(buf[2:12])) == (65535, 0xFFFFFFFF, 0xCAFEBABE)
    assert bytes(buf[12:]) == b"payload"
    buf[1] = 111
    patch_header(buf, 100, 0, 0, 0)
    assert buf[1] == 100  # marker clear stays clear


def test_seq_delta_is_signed_across_the_wrap():
    assert seq_delta(0, 65535) == 1
    assert seq_delta(65535, 0) == -1
    assert seq_delta(100, 100) == 0


def vp8_payload(picture_id: int, tl0: int | None = None, fifteen_bits: bool = True) -> bytes:
    ext = 0x80 | (0x40 if tl0 is not None else 0)
    out = bytes([0x90, ext])
    out += (bytes([0x80 | picture_id >> 8, picture_id & 0xFF]) if fifteen_bits
            else bytes([picture_id & 0x7F]))
    if tl0 is not None:
        out += bytes([tl0, 0x20])  # TL0PICIDX, then TID/Y/KEYIDX is absent (T=0)
    return out + b"\x9d\x01\x2a"


def test_vp8_descriptor_fields():
    assert parse_fields(vp8_payload(300)) == Vp8Fields(2, 15, -1)
    assert parse_fields(vp8_payload(5, fifteen_bits=False)) == Vp8Fields(2, 7, -1)
    assert parse_fields(vp8_payload(300, tl0=9)) == Vp8Fields(2, 15, 4)
    assert parse_fields(b"\x10\x00") == Vp8Fields()  # no extension byte
    assert parse_fields(b"\x90\x80") == Vp8Fields()  # truncated


def test_vp8_picture_id_continues_across_a_source_switch_and_wraps():
    pids = PictureIdRewriter()
    header = bytes(12)
    first = vp8_payload(32766, tl0=254)
    pids.anchor(first, parse_fields(first))
    out = []
    for pid, tl0 in ((32766, 254), (32767, 255), (0, 0)):
        payload = vp8_payload(pid, tl0=tl0)
        buf = bytearray(header + payload)
        pids.rewrite(buf, 12, parse_fields(payload))
        out.append((parse_fields(payload).picture_id(buf[12:]), buf[12 + 4]))
    assert out == [(32766, 254), (32767, 255), (0, 0)]  # first source passes unchanged
    other = vp8_payload(1234, tl0=77)  # another publisher, unrelated numbering
    pids.anchor(other, parse_fields(other))
    buf = bytearray(header + other)
    pids.rewrite(buf, 12, parse_fields(other))
    assert parse_fields(other).picture_id(buf[12:]) == 1 and buf[16] == 1
    old = bytearray(header + vp8_payload(1230, tl0=77))
    pids.rewrite(old, 12, parse_fields(other), remember=False)  # a retransmission
    nxt = bytearray(header + vp8_payload(1235, tl0=78))
    pids.rewrite(nxt, 12, parse_fields(other))
    assert parse_fields(other).picture_id(nxt[12:]) == 2 and nxt[16] == 2


def test_rtp_header_length_with_csrc_and_extension():
    assert rtp_header_length(bytes([0x80, 96]) + bytes(10)) == 12
    data = bytes([0x92, 96]) + bytes(10) + bytes(8) + b"\xbe\xde\x00\x02" + bytes(8)
    assert rtp_header_length(data) == 12 + 8 + 4 + 8
