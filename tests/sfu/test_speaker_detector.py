"""The dominant-speaker detector on synthetic level sequences (ticks of 0.25 s)."""

from __future__ import annotations

import pytest

from sfu.speaker_detector import LevelMeter, SpeakerDetector, loudness

TICK = 0.25
LOUD = loudness(25)     # speech around -25 dBov
QUIET = loudness(60)    # room noise
SILENT = loudness(127)


def run(detector: SpeakerDetector, frames: list[dict[str, float]], start: float = 0.0
        ) -> list[str | None]:
    """Feed one tick per frame; the dominant speaker after each."""
    out = []
    for i, raw in enumerate(frames):
        detector.update(raw, start + i * TICK)
        out.append(detector.dominant)
    return out


def test_level_meter_keeps_the_loudest_byte_since_last_take():
    meter = LevelMeter()
    assert meter.take() is None
    for level in (127, 30, 20, 127, 40):
        meter.add(level)
    assert meter.take() == 20
    assert meter.take() is None
    meter.add(127)
    assert meter.take() == 127


def test_loudness_scale():
    assert loudness(None) == 0.0
    assert SILENT == 0.0
    assert loudness(0) == 1.0
    assert 0 < QUIET < 0.2 < LOUD < 1


def test_loud_speaker_becomes_dominant_only_after_the_hold_interval():
    detector = SpeakerDetector(hold_s=1.0)
    frames = [{"a": LOUD, "b": SILENT}] * 8
    dominant = run(detector, frames)
    first = dominant.index("a")
    # The level passes the threshold on the first tick, so the hold starts there.
    assert first * TICK >= 1.0
    assert first * TICK <= 1.0 + 2 * TICK
    assert all(d is None for d in dominant[:first])
    assert all(d == "a" for d in dominant[first:])


def test_brief_blips_from_another_do_not_switch():
    detector = SpeakerDetector(hold_s=1.0)
    run(detector, [{"a": LOUD, "b": SILENT}] * 8)
    assert detector.dominant == "a"
    blip = [{"a": QUIET, "b": 1.0}] * 2 + [{"a": LOUD, "b": SILENT}] * 4
    dominant = run(detector, blip * 3, start=10.0)
    assert set(dominant) == {"a"}


def test_sustained_louder_challenger_switches():
    detector = SpeakerDetector(hold_s=1.0)
    run(detector, [{"a": LOUD, "b": SILENT}] * 8)
    dominant = run(detector, [{"a": QUIET, "b": LOUD}] * 10, start=10.0)
    assert dominant[0] == "a"
    switch = dominant.index("b")
    assert 1.0 <= switch * TICK <= 1.0 + 3 * TICK
    assert all(d == "b" for d in dominant[switch:])


def test_equal_challenger_does_not_switch():
    detector = SpeakerDetector(hold_s=1.0)
    run(detector, [{"a": LOUD, "b": SILENT}] * 8)
    dominant = run(detector, [{"a": LOUD, "b": LOUD}] * 20, start=10.0)
    assert set(dominant) == {"a"}


def test_silence_keeps_the_current_speaker():
    detector = SpeakerDetector(hold_s=1.0)
    run(detector, [{"a": LOUD, "b": SILENT}] * 8)
    dominant = run(detector, [{"a": SILENT, "b": SILENT}] * 40, start=10.0)
    assert set(dominant) == {"a"}
    assert detector.levels == {"a": 0.0, "b": 0.0}  # the level decays to zero


def test_silence_then_anyone_speaking_takes_over():
    detector = SpeakerDetector(hold_s=1.0)
    run(detector, [{"a": LOUD, "b": SILENT}] * 8)
    run(detector, [{"a": SILENT, "b": SILENT}] * 8, start=10.0)
    dominant = run(detector, [{"a": SILENT, "b": 0.3}] * 8, start=20.0)
    assert dominant[-1] == "b"


def test_muted_or_gone_participants_do_not_count():
    """The room leaves muted tracks out of the input: a muted loud voice never wins,
    and a dominant speaker who is muted loses the highlight at once."""
    detector = SpeakerDetector(hold_s=1.0)
    # "a" shouts but is muted (absent); "b" speaks normally.
    dominant = run(detector, [{"b": LOUD}] * 8)
    assert dominant[-1] == "b"
    assert "a" not in detector.levels
    assert detector.update({"a": LOUD}, 100.0) is True  # b muted: dropped at once
    assert detector.dominant is None


@pytest.mark.parametrize("kwargs", [{"hold_s": -1}, {"rise": 0}, {"fall": 1.5}])
def test_bad_parameters(kwargs):
    with pytest.raises(ValueError):
        SpeakerDetector(**kwargs)


def test_intermittent_peaks_still_make_a_speaker():
    """Syllables (or a test beep every 500 ms) leave every other tick loud: still speech."""
    detector = SpeakerDetector(hold_s=1.0)
    dominant = run(detector, [{"a": LOUD, "b": SILENT}, {"a": SILENT, "b": SILENT}] * 6)
    assert dominant[-1] == "a"
