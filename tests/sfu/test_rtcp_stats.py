"""Sender-report translation, reception statistics and upstream NACK bookkeeping."""

from __future__ import annotations

from sfu.packet_history import PacketHistory
from sfu.rtcp_stats import (NTP_EPOCH_OFFSET, NackTracker, ReceiveStats, derive_sender_report,
                            ntp_from_unix, ntp_middle32)


def test_sender_report_keeps_the_publisher_mapping_and_adds_the_offset():
    ntp, rtp = derive_sender_report(src_ntp=5 << 32, src_rtp=1000, src_received=10.0,
                                    now=10.5, clock_rate=90000, ts_offset=7)
    assert ntp == (5 << 32) + (1 << 31)  # half a second later
    assert rtp == 1000 + 45000 + 7


def test_sender_report_rtp_time_wraps():
    _, rtp = derive_sender_report(0, (1 << 32) - 10, 1.0, 1.0, 48000, ts_offset=20)
    assert rtp == 10


def test_sender_report_for_audio_and_video_agree_on_wall_clock():
    """Audio and video of one publisher, translated through different offsets, still
    name the same NTP instant for samples captured together."""
    sr_ntp = ntp_from_unix(1_700_000_000.0)
    a_ntp, a_rtp = derive_sender_report(sr_ntp, 480_000, 50.0, 51.0, 48000, ts_offset=111)
    v_ntp, v_rtp = derive_sender_report(sr_ntp, 900_000, 50.0, 51.0, 90000, ts_offset=222)
    assert a_ntp == v_ntp
    assert (a_rtp - 111 - 480_000) / 48000 == (v_rtp - 222 - 900_000) / 90000 == 1.0


def test_ntp_helpers():
    assert ntp_from_unix(0) >> 32 == NTP_EPOCH_OFFSET
    assert ntp_middle32(0x1122334455667788) == 0x33445566


def test_receive_stats_counts_loss_wrap_and_jitter():
    stats = ReceiveStats(clock_rate=90000)
    seqs = [65533, 65534, 0, 1, 2]  # 65535 lost, sequence wraps
    for i, seq in enumerate(seqs):
        stats.add(seq, ts=i * 3000, arrival_s=100 + i / 30)
    stats.on_sender_report(ntp=0x0000_1111_2222_0000, arrival_s=100.0)
    block = stats.report(now_s=100.5)
    assert block.highest_sequence == (1 << 16) + 2
    assert block.packets_lost == 1
    assert block.fraction_lost == (1 << 8) // 6
    assert block.jitter == 0  # perfectly paced
    assert block.lsr == 0x1111_2222 and block.dlsr == 32768
    stats.add(3, ts=15000, arrival_s=100.2)
    assert stats.report(now_s=101).fraction_lost == 0  # new interval, nothing lost


def test_receive_stats_jitter_grows_with_uneven_arrival():
    stats = ReceiveStats(clock_rate=90000)
    for i in range(20):
        stats.add(i, ts=i * 3000, arrival_s=i / 30 + (0.01 if i % 2 else 0.0))
    assert stats.report(now_s=1).jitter > 300  # ~10 ms of 90 kHz ticks, smoothed


def test_nack_tracker_asks_again_then_gives_up():
    nacks = NackTracker(retry_interval_s=0.1, max_retries=3)
    nacks.add(10, now=0.0)
    nacks.add(13, now=0.0)  # 11, 12 missing
    assert nacks.due(0.0) == [11, 12]
    assert nacks.due(0.05) == []  # not before the retry interval
    nacks.add(11, now=0.06)  # 11 arrives (retransmission)
    assert nacks.due(0.1) == [12]
    assert nacks.due(0.2) == [12]
    assert nacks.due(0.3) == [] and nacks.missing == []


def test_nack_tracker_is_bounded():
    nacks = NackTracker(max_missing=5, max_gap=20)
    nacks.add(0, 0.0)
    assert nacks.add(30, 0.0) is True  # gap of 29: ask for a keyframe instead
    assert nacks.missing == []
    nacks.add(40, 0.0)  # 9 missing, only the newest 5 kept
    assert nacks.missing == [35, 36, 37, 38, 39]


def test_nack_tracker_across_sequence_wrap():
    nacks = NackTracker()
    nacks.add(65534, 0.0)
    nacks.add(1, 0.0)
    assert nacks.due(0.0) == [65535, 0]


def test_packet_history_keeps_packets_for_at_least_its_age():
    history: PacketHistory[str] = PacketHistory(min_age_ms=1000)
    for i in range(100):
        history.add(i, i * 10, f"p{i}", now=i * 0.01)  # 100 packets over 0.99 s
    assert history.get(0) == "p0" and len(history) == 100
    history.add(100, 1000, "p100", now=1.5)
    assert history.get(0) is None and history.get(49) is None  # older than 1 s
    assert history.get(51) == "p51" and history.get(100) == "p100"


def test_packet_history_duplicates_and_restarted_senders():
    history: PacketHistory[str] = PacketHistory(min_age_ms=1000, max_packets=3)
    assert history.add(7, 100, "a", now=0.0)
    assert not history.add(7, 100, "a-again", now=0.0)  # duplicate
    assert history.add(7, 999, "b", now=0.0)  # same seq, new timestamp: replaces
    assert history.get(7) == "b"
    for seq in (8, 9, 10):
        history.add(seq, 0, str(seq), now=0.1)
    assert history.get(7) is None and len(history) == 3  # hard cap
