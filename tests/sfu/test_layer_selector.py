"""Layer choice by tile size and budget, layer activity, and picture sizes read from
keyframes (pure functions; real encoder output for the sizes)."""

from __future__ import annotations

import fractions

import av
import numpy as np
import pytest

from sfu.frame_size import frame_size, sps_size
from sfu.keyframe import is_keyframe_start
from sfu.tracks import LayerInfo
from sfu.layer_selector import (LayerActivity, arriving_layer, budget_layer,
                                estimated_sizes, size_layer, wanted_layer)

LADDER = [LayerInfo(0, "q", 320, 180, 150_000), LayerInfo(1, "h", 640, 360, 500_000),
          LayerInfo(2, "f", 1280, 720, 1_500_000)]


@pytest.mark.parametrize("tile, layer", [
    ((320, 180), 0), ((300, 200), 0), ((370, 208), 1), ((640, 360), 1), ((730, 420), 2),
    ((1920, 1080), 2), ((100, 100), 0), ((None, None), 2),
])
def test_lowest_layer_covering_the_tile(tile, layer):
    assert size_layer(LADDER, *tile) == layer


def test_budget_caps_the_size_choice_and_never_goes_below_layer_0():
    assert wanted_layer(LADDER, 1280, 720, None) == 2
    assert wanted_layer(LADDER, 1280, 720, 1_000_000) == 1
    assert wanted_layer(LADDER, 1280, 720, 100_000) == 0
    assert wanted_layer(LADDER, 320, 180, 10_000_000) == 0
    assert budget_layer(LADDER, 0) == 0


def test_a_layer_not_measured_yet_does_not_fit_a_budget():
    """f switched off (never measured, bitrate 0): a 300 k budget must not pick it, a big
    one must (or f is never asked for and never switched on); with nothing measured yet,
    nothing is known not to fit."""
    off = [LayerInfo(0, "q", 320, 180, 130_000), LayerInfo(1, "h", 640, 360, 300_000),
           LayerInfo(2, "f", 1280, 720, 0)]
    assert budget_layer(off, 260_000) == 0
    assert budget_layer(off, 400_000) == 1  # f taken as 3 x 300 k
    assert budget_layer(off, 1_000_000) == 2
    assert budget_layer(off, None) == 2
    unknown = [LayerInfo(i, None, None, None, 0) for i in range(3)]
    assert budget_layer(unknown, 100_000) == 2


def test_unknown_sizes_are_estimated_from_a_known_one():
    layers = [LayerInfo(0, "q", None, None, 0), LayerInfo(1, "h", 640, 360, 0),
              LayerInfo(2, "f", None, None, 0)]
    assert estimated_sizes(layers) == [(320, 180), (640, 360), (1280, 720)]
    assert size_layer(layers, 1000, 560) == 2
    nothing_known = [LayerInfo(i, None, None, None, 0) for i in range(3)]
    assert size_layer(nothing_known, 320, 180) == 2  # no idea yet: the best
    assert size_layer([LayerInfo(0, None, None, None, 0)], 10, 10) == 0


def test_arriving_layer_prefers_below_then_above_then_waits():
    assert arriving_layer(2, [True, True, False]) == 1
    assert arriving_layer(1, [True, True, True]) == 1
    assert arriving_layer(0, [False, True, True]) == 1
    assert arriving_layer(2, [False, False, False]) == 2


def test_layer_activity_switches_on_at_once_and_off_after_the_hold():
    activity = LayerActivity(3, idle_s=4.0, now=0.0)
    assert activity.active == {0, 1, 2}
    assert activity.update({0}, 1.0) is None  # still inside the hold
    assert activity.update({0}, 4.5) == {0}
    assert activity.update({0, 2}, 5.0) == {0, 2}
    assert activity.update({0, 2}, 6.0) is None


def _encode(codec: str, width: int, height: int) -> bytes:
    context = av.CodecContext.create(codec, "w")
    context.width, context.height, context.pix_fmt = width, height, "yuv420p"
    context.time_base = fractions.Fraction(1, 30)
    if codec == "libx264":
        context.options = {"tune": "zerolatency"}
    frame = av.VideoFrame.from_ndarray(np.zeros((height, width, 3), np.uint8), format="rgb24")
    frame = frame.reformat(format="yuv420p")
    frame.pts = 0
    return b"".join(bytes(p) for p in list(context.encode(frame)) + list(context.encode(None)))


@pytest.mark.parametrize("width, height", [(320, 180), (1280, 720), (642, 362)])
def test_vp8_keyframe_gives_its_size(width, height):
    data = _encode("libvpx", width, height)
    for descriptor in (b"\x10", b"\x90\x80\x81\x23", b"\x90\xe0\x05\x07\x20"):
        payload = descriptor + data
        assert is_keyframe_start("VP8", payload)
        assert frame_size("VP8", payload) == (width, height)
    assert frame_size("VP8", b"\x10" + data[:8]) is None
    assert frame_size("VP8", b"") is None


@pytest.mark.parametrize("width, height", [(320, 180), (1280, 720), (642, 362)])
def test_h264_sps_gives_its_size_with_cropping(width, height):
    stream = _encode("libx264", width, height)
    nals = [n for n in stream.split(b"\x00\x00\x01") if n]
    sps = next(n for n in nals if n[0] & 0x1F == 7)
    assert sps_size(sps) == (width, height)
    assert frame_size("H264", sps) == (width, height)
    stap_a = bytes([24]) + len(sps).to_bytes(2, "big") + sps
    assert frame_size("H264", stap_a) == (width, height)
    assert frame_size("H264", sps[:3]) is None  # truncated: no size, no exception
