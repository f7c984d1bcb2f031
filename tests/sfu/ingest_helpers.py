"""Shared pieces of the feed tests: a FeedRunner that records its states, and checks on
what an aiortc subscriber received from a feed."""

from __future__ import annotations

import asyncio
import re
import time
from fractions import Fraction

import av
import numpy as np

from sfu import SfuSettings
from sfu.ingest.h264 import NAL_PPS, NAL_SPS, nal_type
from sfu.ingest.runner import FeedRunner, FeedSettings, FeedSpec, FeedStatus
from sfu_peers import Stream

# These tests are about feeds, not bandwidth adaptation: a downlink floor above any feed's
# rate keeps the allocator from pausing video on aiortc's cautious REMB.
FEED_ROOM_SETTINGS = SfuSettings(ice_host_addresses=("127.0.0.1",), bwe_min_bps=20_000_000,
                                 bwe_start_bps=20_000_000, bwe_max_bps=20_000_000)

FAST = FeedSettings(retry_min_s=0.5, retry_max_s=2.0, open_timeout_s=3.0, read_timeout_s=2.0,
                    status_interval_s=0.5)


class RecordingRunner(FeedRunner):
    def __init__(self, media, feed_id: str, url: str, listen: bool = False,
                 settings: FeedSettings = FAST) -> None:
        self.history: list[FeedStatus] = []
        super().__init__(media, FeedSpec(feed_id, f"Camera {feed_id}", url, listen),
                         self.history.append, settings)

    async def wait_state(self, state: str, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while self.status.state != state:
            if time.monotonic() > deadline:
                raise AssertionError(f"feed {self.spec.feed_id} not {state} after {timeout} s; "
                                     f"history: {[(h.state, h.error) for h in self.history]}")
            await asyncio.sleep(0.02)

    def states(self) -> list[str]:
        out: list[str] = []
        for status in self.history:
            if not out or out[-1] != status.state:
                out.append(status.state)
        return out


def slices(nals: list[bytes]) -> list[bytes]:
    return [n for n in nals if nal_type(n) not in (NAL_SPS, NAL_PPS)]


def received_nal_units(stream: Stream) -> list[list[bytes]]:
    """NAL units of each complete H.264 frame the subscriber got."""
    return [[n for n in re.split(b"\x00\x00\x00\x01|\x00\x00\x01", data) if n]
            for _, data in stream.frames("H264")]


def assert_frames_come_from(frames: list[list[bytes]], source: list[bytes]) -> None:
    """Every received frame's NAL units (parameter sets aside) are a run of the source's,
    byte for byte and in source order: nothing re-encoded or reordered. A frame may be
    missing (a packet lost on a loaded loopback and not repaired in time)."""
    source = slices(source)
    assert frames, "no video frames received"
    pos = 0
    for number, frame in enumerate(frames):
        nals = slices(frame)
        if not nals:
            continue
        try:
            pos = source.index(nals[0], pos)
        except ValueError:
            raise AssertionError(f"frame {number}: its first NAL unit is not in the source "
                                 "(after the previous frame's)") from None
        assert source[pos:pos + len(nals)] == nals, f"frame {number} differs from the source"
        pos += len(nals)


def opus_tone_level(stream: Stream) -> float:
    """RMS of the decoded Opus audio, 0..1 (a 440 Hz tone at ffmpeg's sine level ~0.09)."""
    decoder = av.CodecContext.create("opus", "r")
    samples = []
    for packet in stream.packets:
        if not packet.payload:
            continue
        p = av.Packet(packet.payload)
        p.time_base = Fraction(1, 48000)
        for frame in decoder.decode(p):
            samples.append(frame.to_ndarray().astype(np.float64).ravel())
    if not samples:
        return 0.0
    data = np.concatenate(samples)
    if data.dtype.kind != "f" or np.abs(data).max() > 1.5:
        data = data / 32768.0
    return float(np.sqrt(np.mean(data[len(data) // 4:] ** 2)))
