"""The downlink estimator, fed with RTCP datagrams as a subscriber sends them."""

from __future__ import annotations

import struct

import pytest

from sfu import aiortc_bridge as bridge
from sfu.bandwidth_estimator import BandwidthEstimator, EstimatorLimits
from sfu.rtcp_events import ReceiverReport, Remb

OUR_SSRC = 0x22222222
THEIR_SSRC = 0x11111111

# RR (PT 201) from 0x11111111 with one block about 0x22222222: fraction 64/256,
# cumulative lost 100, extended highest sequence 0x00010064, jitter 5, no LSR.
RR_BYTES = bytes.fromhex("81c90007" "11111111" "22222222" "40000064" "00010064"
                         "00000005" "00000000" "00000000")
# REMB (PSFB PT 206, FMT 15) from 0x11111111: 'REMB', one SSRC, exp 1 mantissa 0x2ab98
# (350000 bps), about 0x22222222.
REMB_BYTES = bytes.fromhex("8fce0005" "11111111" "00000000" "52454d42" "0106ab98"
                           "22222222")


def block(highest: int, lost: int, fraction: int = 0, ssrc: int = OUR_SSRC) -> bytes:
    return struct.pack("!IB3sIIII", ssrc, fraction, (lost & 0xFFFFFF).to_bytes(3, "big"),
                       highest, 0, 0, 0)


def rr(highest: int, lost: int, fraction: int = 0, ssrc: int = OUR_SSRC) -> bytes:
    """A receiver report datagram laid out by hand (RFC 3550 6.4.2)."""
    return rr_blocks([block(highest, lost, fraction, ssrc)])


def rr_blocks(blocks: list[bytes]) -> bytes:
    length = 1 + 6 * len(blocks)  # in 32-bit words, minus one
    return struct.pack("!BBHI", 0x80 | len(blocks), 201, length, THEIR_SSRC) + b"".join(blocks)


def feed(estimator: BandwidthEstimator, data: bytes, now: float,
         covered: int | None = None) -> None:
    for event in bridge.rtcp_events(data):
        if isinstance(event, ReceiverReport):
            estimator.on_report_block(event.ssrc, event.highest_sequence, event.packets_lost,
                                      now)
        elif isinstance(event, Remb):
            estimator.on_remb(event.bitrate, now, event.ssrcs, covered)
    estimator.update(now)  # the subscriber's tick: one decision per datagram here


def test_fixture_bytes_parse_to_the_fields_we_rely_on():
    [report] = bridge.rtcp_events(RR_BYTES)
    assert report == ReceiverReport(OUR_SSRC, 64, 100, 0x00010064, 5, 0, 0)
    assert rr(0x00010064, 100, 64)[:20] == RR_BYTES[:20]
    [remb] = bridge.rtcp_events(REMB_BYTES)
    assert remb == Remb(350_000, (OUR_SSRC,))


def test_malformed_rtcp_raises_value_error():
    with pytest.raises(ValueError):
        bridge.rtcp_events(RR_BYTES[:20])


def test_heavy_loss_decreases_by_half_the_loss_fraction():
    est = BandwidthEstimator(EstimatorLimits(start_bps=1_000_000))
    feed(est, rr(1000, 0), 0.0)
    feed(est, rr(1100, 25), 1.0)  # 25 of 100 lost
    assert est.loss == pytest.approx(0.25)
    assert est.estimate_bps == int(1_000_000 * (1 - 0.5 * 0.25))


def test_heavy_loss_decreases_from_what_was_sent_when_that_is_less():
    est = BandwidthEstimator(EstimatorLimits(start_bps=3_000_000))
    est.set_sent(400_000)  # the estimate is not what the link failed to carry
    feed(est, rr(1000, 0), 0.0)
    feed(est, rr(1100, 40), 1.0)
    assert est.congested and est.estimate_bps == int(400_000 * (1 - 0.5 * 0.4))


def test_moderate_loss_holds_and_low_loss_grows_8_percent_per_second():
    est = BandwidthEstimator(EstimatorLimits(start_bps=1_000_000))
    est.set_sent(4_000_000)  # plenty sent: growth not capped
    feed(est, rr(1000, 0), 0.0)
    feed(est, rr(1100, 20), 1.0)  # 20 %: the link shows its limit
    assert est.congested and est.estimate_bps == 900_000
    feed(est, rr(1200, 25), 2.0)  # 5 %: hold
    assert est.estimate_bps == 900_000
    feed(est, rr(1300, 25), 3.0)  # 0 %: one second of growth
    assert est.estimate_bps == int(900_000 * 1.08)
    feed(est, rr(1400, 25), 3.5)  # half a second
    assert est.estimate_bps == int(900_000 * 1.08 * 1.08 ** 0.5)


def test_slow_start_doubles_per_second_up_to_the_demand_until_congestion():
    est = BandwidthEstimator(EstimatorLimits(start_bps=1_000_000))
    est.set_sent(900_000, next_step_bps=1_200_000, demand_bps=5_000_000)
    feed(est, rr(1000, 0), 0.0)
    feed(est, rr(1100, 0), 1.0)
    assert est.estimate_bps == 2_000_000  # not capped by the next step: the demand
    feed(est, rr(1200, 0), 2.0)
    assert est.estimate_bps == 4_000_000
    feed(est, rr(1300, 0), 3.0)
    assert est.estimate_bps == 5_500_000
    assert not est.congested and not est.proven
    assert BandwidthEstimator(EstimatorLimits(60_000, 50_000, 60_000)).proven  # at the cap


def test_growth_is_capped_by_what_is_sent_or_the_next_step():
    est = BandwidthEstimator(EstimatorLimits(start_bps=100_000))
    est.set_sent(70_000)
    est.congested = True  # past slow start
    seq = 0
    for second in range(1, 30):
        seq += 100
        feed(est, rr(seq, 0), float(second))
    assert est.estimate_bps == 70_000 * 1.5 + 10_000
    est.set_sent(70_000, next_step_bps=400_000)  # the allocator wants to try more
    for second in range(30, 60):
        seq += 100
        feed(est, rr(seq, 0), float(second))
    assert est.estimate_bps == 440_000  # with 10 % room: a measured step is noisy


def remb(bitrate: int) -> bytes:
    return bridge.remb(THEIR_SSRC, bitrate, [OUR_SSRC])


def test_a_remb_drop_below_the_covered_rate_caps_at_once():
    est = BandwidthEstimator(EstimatorLimits(start_bps=1_000_000))
    est.set_sent(700_000)  # 100 k of it audio, which carries no abs-send-time
    feed(est, remb(500_000), 0.0, covered=600_000)
    feed(est, remb(500_000), 2.5, covered=600_000)  # the first 4 s: the receiver settles
    feed(est, REMB_BYTES, 4.5, covered=600_000)  # 500 k -> 350 k: the receiver saw a queue
    assert est.congested and est.estimate_bps == 350_000 + 100_000


def test_rembs_about_different_streams_are_not_compared():
    """aiortc sends one REMB per receiver (per video track), about that track only."""
    est = BandwidthEstimator(EstimatorLimits(start_bps=2_000_000))
    est.set_sent(1_200_000)
    for t in (0.0, 2.0, 4.0):
        est.on_remb(900_000, t, (1,), 600_000)
        est.on_remb(300_000, t + 0.1, (2,), 200_000)  # another track's, not a drop
    est.on_remb(850_000, 4.6, (1,), 600_000)  # lower, but above 90 % of what it covers
    assert not est.congested
    est.on_remb(400_000, 5.1, (1,), 600_000)  # a real drop on track 1
    assert est.congested and est.estimate_bps == 400_000 + 600_000


def test_first_rising_or_high_rembs_bound_nothing():
    est = BandwidthEstimator(EstimatorLimits(start_bps=1_000_000))
    est.set_sent(600_000)
    feed(est, remb(17_000), 0.0)  # a receiver's first REMB can be tiny
    feed(est, REMB_BYTES, 0.5)  # ramping up after we started sending more
    feed(est, remb(8_000), 1.0)  # a drop while the receiver's estimator settles
    assert est.estimate_bps == 1_000_000 and not est.congested
    est.set_sent(370_000)
    feed(est, remb(360_000), 5.0)
    feed(est, remb(340_000), 5.5)  # a drop, but 92 % of the send rate: noise, not a queue
    assert est.estimate_bps == 1_000_000 and not est.congested
    feed(est, remb(300_000), 10.0)  # lower, but the last REMB is stale: a new baseline
    assert not est.congested


def test_after_a_remb_drop_growth_waits_for_remb_to_rise():
    est = BandwidthEstimator(EstimatorLimits(start_bps=340_000))
    est.set_sent(400_000)
    feed(est, remb(380_000), 0.0)
    feed(est, remb(390_000), 2.5)
    feed(est, REMB_BYTES, 4.1)
    assert est.estimate_bps == 340_000  # never raised by a REMB
    feed(est, rr(1000, 0), 4.5)
    feed(est, rr(1100, 0), 5.5)
    assert est.estimate_bps == 350_000  # capped at the REMB while it stays low
    feed(est, remb(360_000), 5.6)  # rising again
    feed(est, rr(1200, 0), 6.6)
    assert est.estimate_bps == int(350_000 * 1.08)


def test_loss_is_aggregated_over_streams_and_small_samples_wait():
    est = BandwidthEstimator(EstimatorLimits(start_bps=1_000_000))
    feed(est, rr_blocks([block(500, 0, ssrc=1), block(500, 0, ssrc=2)]), 0.0)
    feed(est, rr(505, 3, ssrc=1), 1.0)  # 5 packets: too few to judge yet
    assert est.estimate_bps == 1_000_000
    feed(est, rr(600, 20, ssrc=2), 1.1)  # together 20 + 3 lost of 105
    assert est.loss == pytest.approx(23 / 105)
    assert est.estimate_bps == int(1_000_000 * (1 - 0.5 * 23 / 105))


def test_sequence_wrap_counts_and_reordered_reports_are_ignored():
    est = BandwidthEstimator(EstimatorLimits(start_bps=1_000_000))
    feed(est, rr(0x0000FFF0, 0), 0.0)
    feed(est, rr(0x00010050, 40), 1.0)  # 96 expected across the wrap, 40 lost
    assert est.loss == pytest.approx(40 / 96)
    before = est.estimate_bps
    feed(est, rr(0x00010000, 40), 2.0)  # older than the last: no effect
    assert est.estimate_bps == before


def test_limits_bound_the_estimate():
    est = BandwidthEstimator(EstimatorLimits(start_bps=60_000, min_bps=50_000))
    feed(est, rr(1000, 0), 0.0)
    feed(est, rr(1100, 90), 1.0)
    assert est.estimate_bps == 50_000
    with pytest.raises(ValueError, match="min_bps <= start_bps"):
        EstimatorLimits(start_bps=10, min_bps=50_000)


def test_one_compound_report_is_one_loss_decision():
    """Chrome reports audio and video in one RR: its two blocks must not cut twice."""
    est = BandwidthEstimator(EstimatorLimits(start_bps=1_000_000))
    est.set_sent(1_000_000)
    feed(est, rr_blocks([block(1000, 0, ssrc=1), block(5000, 0, ssrc=2)]), 0.0)
    feed(est, rr_blocks([block(1050, 25, ssrc=1), block(5200, 100, ssrc=2)]), 1.0)
    assert est.estimate_bps == int(1_000_000 * (1 - 0.5 * 0.5))  # 25 of 50, then 125 of 250
    feed(est, rr_blocks([block(1100, 25, ssrc=1), block(5400, 100, ssrc=2)]), 2.0)
    assert est.loss == pytest.approx(0.0)  # both blocks of the clean report, added up


def test_reports_right_after_a_cut_do_not_cut_again():
    est = BandwidthEstimator(EstimatorLimits(start_bps=1_000_000))
    est.set_sent(1_000_000)
    feed(est, rr(1000, 0), 0.0)
    feed(est, rr(1100, 40), 1.0)  # 40 %: cut to 800 k
    assert est.estimate_bps == 800_000
    feed(est, rr(1200, 80), 1.5)  # still 40 %, but about traffic from before the cut
    assert est.estimate_bps == 800_000
    feed(est, rr(1300, 120), 2.5)  # a second later: the cut did not help, cut again
    assert est.estimate_bps == int(800_000 * 0.8)
