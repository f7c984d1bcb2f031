"""Retransmissions per down track are capped relative to the media it sends."""

from __future__ import annotations

from sfu.resend_budget import ResendBudget


def test_repairs_up_to_half_the_media_of_the_last_second():
    budget = ResendBudget(share=0.5, floor_bytes=20_000)
    assert budget.allow(1_200, media_octets=0, now=0.0)  # the floor allows a first repair
    sent = 0
    for _ in range(100):  # one second of 100 kB media
        sent += 1_000
    # A new window: half of the 100 kB sent since the first allow() call.
    allowed = sum(budget.allow(1_000, sent, 1.0) for _ in range(80))
    assert allowed == 50 and budget.refused == 30


def test_a_quiet_stream_always_gets_the_floor():
    budget = ResendBudget(share=0.5, floor_bytes=20_000)
    assert sum(budget.allow(1_000, 0, t / 100) for t in range(100)) == 20
    assert budget.allow(1_000, 0, 1.5)  # the next second starts afresh


def test_a_long_quiet_spell_does_not_bank_budget():
    budget = ResendBudget(share=0.5, floor_bytes=20_000)
    budget.allow(1_000, media_octets=0, now=0.0)
    # 10 s of 100 kB/s media without a NACK, then a burst: half of ONE second's media.
    allowed = sum(budget.allow(1_000, 1_000_000, 10.0) for _ in range(200))
    assert allowed == 50
