"""One output stream per subscriber transceiver: wrap-around and source switches."""

from __future__ import annotations

import struct

from sfu.rtp_rewriter import StreamRewriter, patch_header, seq_delta


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
