"""Splitting a subscriber's estimate: audio first, ranked video, audio-only, hysteresis."""

from __future__ import annotations

from sfu.bandwidth_allocator import DEFAULT_LAYER_BPS, BandwidthAllocator, VideoDemand

LAYERS = (150_000, 500_000, 1_500_000)  # a browser's three simulcast layers
AUDIO = 50_000


def video(key: str, area: int | None = 640 * 360, speaker: bool = False,
          layers: tuple[int, ...] = LAYERS, wanted: int | None = None) -> VideoDemand:
    return VideoDemand(key=key, layer_bitrates=layers,
                       wanted_layer=len(layers) - 1 if wanted is None else wanted,
                       area=area, speaker=speaker)


def test_plenty_gives_every_track_the_layer_its_tile_needs():
    alloc = BandwidthAllocator()
    small = video("small", area=160 * 90, wanted=0)
    big = video("big", area=1280 * 720)
    result = alloc.allocate(5_000_000, AUDIO, [small, big], 0.0)
    assert not result.paused and not result.video_paused
    assert result.budgets["small"] == 150_000  # a thumbnail never gets more than layer 0
    assert result.budgets["big"] >= 1_500_000  # the leftover goes to the first in rank


def test_speaker_and_bigger_tiles_go_first():
    alloc = BandwidthAllocator()
    tracks = [video("a", area=320 * 180), video("b", area=1280 * 720),
              video("c", area=320 * 180, speaker=True)]
    # Audio + 3 x layer 0 = 500 k; 900 k leaves 400 k: one upgrade to layer 1 (+350 k).
    result = alloc.allocate(950_000, AUDIO, tracks, 0.0)
    assert result.budgets["c"] >= 500_000  # the speaker is upgraded first
    assert result.budgets["b"] == 150_000 and result.budgets["a"] == 150_000
    # Only two lowest layers fit: the small non-speaker tile is paused.
    alloc = BandwidthAllocator()
    result = alloc.allocate(AUDIO + 320_000, AUDIO, tracks, 0.0)
    assert set(result.budgets) == {"c", "b"} and result.paused == ["a"]
    assert not result.video_paused


def test_audio_only_when_audio_plus_the_lowest_layer_does_not_fit():
    alloc = BandwidthAllocator()
    result = alloc.allocate(AUDIO + 140_000, AUDIO, [video("v")], 0.0)
    assert result.video_paused and result.paused == ["v"] and not result.budgets
    # The next step the estimator may grow to: resuming video, with the margin.
    assert result.next_step_bps == AUDIO + int(150_000 * alloc.resume_margin)


def test_unmeasured_layers_count_as_a_default():
    alloc = BandwidthAllocator()
    result = alloc.allocate(AUDIO + DEFAULT_LAYER_BPS - 1, AUDIO,
                            [video("v", layers=(0,))], 0.0)
    assert result.video_paused


def test_drop_is_immediate_resume_needs_margin_and_hold():
    alloc = BandwidthAllocator(resume_margin=1.2, resume_hold_s=2.0)
    tracks = [video("v")]
    assert not alloc.allocate(1_000_000, AUDIO, tracks, 0.0).video_paused
    assert alloc.allocate(AUDIO + 100_000, AUDIO, tracks, 1.0).video_paused  # at once
    # Enough for layer 0 but not with the margin: stays paused however long.
    for t in range(2, 10):
        assert alloc.allocate(AUDIO + 170_000, AUDIO, tracks, float(t)).video_paused
    # With the margin: resumes after the hold, not before.
    assert alloc.allocate(AUDIO + 200_000, AUDIO, tracks, 40.0).video_paused
    assert alloc.allocate(AUDIO + 200_000, AUDIO, tracks, 41.0).video_paused
    result = alloc.allocate(AUDIO + 200_000, AUDIO, tracks, 42.0)
    assert not result.video_paused and result.budgets["v"] == 200_000


def test_a_failed_resume_doubles_the_hold():
    alloc = BandwidthAllocator(resume_margin=1.0, resume_hold_s=2.0, max_hold_s=8.0)
    tracks = [video("v")]
    good, bad = AUDIO + 300_000, AUDIO + 100_000
    alloc.allocate(good, AUDIO, tracks, 0.0)
    alloc.allocate(bad, AUDIO, tracks, 1.0)
    t = 1.0
    holds = []
    for _ in range(4):
        started = t
        while alloc.allocate(good, AUDIO, tracks, t).video_paused:
            t += 0.5
        holds.append(t - started)
        t += 1.0
        assert alloc.allocate(bad, AUDIO, tracks, t).video_paused  # the probe failed
        t += 0.5
    assert holds == [2.0, 4.0, 8.0, 8.0]


def test_next_step_is_one_layer_up_when_everything_runs():
    alloc = BandwidthAllocator(resume_margin=1.0)
    result = alloc.allocate(AUDIO + 200_000, AUDIO, [video("v")], 0.0)
    assert result.budgets == {"v": 200_000}
    assert result.next_step_bps == AUDIO + 500_000  # layer 1 of the only track
    result = alloc.allocate(AUDIO + 2_000_000, AUDIO, [video("v")], 1.0)
    assert result.budgets == {"v": 499_999}  # the step up waits for its hold ...
    assert result.next_step_bps == AUDIO + 500_000
    result = alloc.allocate(AUDIO + 2_000_000, AUDIO, [video("v")], 4.0)
    assert result.budgets["v"] >= 1_500_000  # ... then goes to the top at once
    assert result.next_step_bps == 0  # at the top: nothing to probe for


def test_a_layer_step_up_waits_and_a_failed_one_doubles_the_wait():
    """After a loss cut the estimate soon fits the higher layer again: without a hold the
    track would flap between layers on a link that cannot carry the higher one."""
    alloc = BandwidthAllocator()
    high, low = AUDIO + 2_000_000, AUDIO + 800_000  # full layer fits / only the half one
    assert alloc.allocate(high, AUDIO, [video("v")], 0.0).budgets["v"] >= 1_500_000
    assert alloc.allocate(low, AUDIO, [video("v")], 20.0).budgets["v"] < 1_500_000  # at once
    assert alloc.allocate(high, AUDIO, [video("v")], 21.0).budgets["v"] < 1_500_000  # held
    assert alloc.allocate(high, AUDIO, [video("v")], 23.9).budgets["v"] < 1_500_000
    assert alloc.allocate(high, AUDIO, [video("v")], 24.0).budgets["v"] >= 1_500_000
    # The link could not carry it: down again 2 s later, so the next step up waits 6 s.
    assert alloc.allocate(low, AUDIO, [video("v")], 26.0).budgets["v"] < 1_500_000
    assert alloc.allocate(high, AUDIO, [video("v")], 27.0).budgets["v"] < 1_500_000
    assert alloc.allocate(high, AUDIO, [video("v")], 32.9).budgets["v"] < 1_500_000
    assert alloc.allocate(high, AUDIO, [video("v")], 33.0).budgets["v"] >= 1_500_000
    # A long quiet spell on the higher layer resets the wait.
    assert alloc.allocate(low, AUDIO, [video("v")], 80.0).budgets["v"] < 1_500_000
    assert alloc.allocate(high, AUDIO, [video("v")], 81.0).budgets["v"] < 1_500_000
    assert alloc.allocate(high, AUDIO, [video("v")], 84.0).budgets["v"] >= 1_500_000


def test_before_the_link_has_complained_layers_go_up_at_once():
    alloc = BandwidthAllocator()
    assert alloc.allocate(AUDIO + 200_000, AUDIO, [video("v")], 0.0,
                          eager=True).budgets["v"] < 500_000
    assert alloc.allocate(AUDIO + 2_000_000, AUDIO, [video("v")], 0.5,
                          eager=True).budgets["v"] >= 1_500_000


def test_eager_before_congestion_pauses_nothing_and_reports_the_demand():
    alloc = BandwidthAllocator(resume_hold_s=2.0)
    tracks = [video("a", wanted=1), video("b", wanted=2)]
    result = alloc.allocate(AUDIO + 100_000, AUDIO, tracks, 0.0, eager=True)
    assert not result.paused and set(result.budgets) == {"a", "b"}
    assert result.demand_bps == AUDIO + 500_000 + 1_500_000
    # The first congestion ends it: what does not fit is paused at once.
    result = alloc.allocate(AUDIO + 200_000, AUDIO, tracks, 1.0)
    assert set(result.budgets) == {"a"} and result.paused == ["b"]


def test_the_hold_timer_survives_noise_once_started():
    alloc = BandwidthAllocator(resume_margin=1.2, resume_hold_s=2.0)
    alloc.allocate(AUDIO + 100_000, AUDIO, [video("v")], 0.0)  # paused
    wobbly = [video("v", layers=(150_000,)), video("v", layers=(170_000,))]
    assert alloc.allocate(AUDIO + 185_000, AUDIO, [wobbly[0]], 40.0).video_paused  # starts
    assert alloc.allocate(AUDIO + 185_000, AUDIO, [wobbly[1]], 41.0).video_paused  # still fits
    assert not alloc.allocate(AUDIO + 185_000, AUDIO, [wobbly[0]], 42.0).video_paused


def test_a_small_shortfall_keeps_a_running_track():
    alloc = BandwidthAllocator(keep_fraction=0.75)
    tracks = [video("v", layers=(1_000_000,))]  # one layer, no simulcast
    assert not alloc.allocate(AUDIO + 1_200_000, AUDIO, tracks, 0.0).video_paused
    assert not alloc.allocate(AUDIO + 850_000, AUDIO, tracks, 1.0).video_paused  # REMB dip
    assert alloc.allocate(AUDIO + 700_000, AUDIO, tracks, 2.0).video_paused
