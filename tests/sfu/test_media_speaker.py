"""Active speaker through RoomMedia: real aiortc publishers whose sender writes the
ssrc-audio-level extension from the audio it encodes (a loud tone vs zeros)."""

from __future__ import annotations

import asyncio
import time

from sfu_media import ToneAudioTrack
from sfu_peers import Publisher, wait_for


LOUD, SILENT = 12000, 0


async def _two_speakers(room):
    updates: list[tuple[float, str | None, dict[str, float]]] = []
    room.on_speaker_update = lambda d, levels: updates.append((time.monotonic(), d, levels))
    voices = {"p_alice": ToneAudioTrack(LOUD), "p_bob": ToneAudioTrack(SILENT)}
    publishers = []
    for pid, voice in voices.items():
        publisher = Publisher(room, pid)
        publisher.add(voice, "microphone")
        await publisher.publish()
        publishers.append(publisher)
    return updates, voices, publishers


def _dominant(updates) -> str | None:
    return updates[-1][1] if updates else None


async def test_dominant_speaker_is_the_loud_one_and_follows_a_swap(room):
    updates, voices, publishers = await _two_speakers(room)
    try:
        await wait_for(lambda: _dominant(updates) == "p_alice", 10, "alice to be dominant")
        assert all(d in (None, "p_alice") for _, d, _ in updates), "never anyone else"
        levels = updates[-1][2]
        assert levels["p_alice"] > 0.5 and levels["p_bob"] == 0.0
        # The switch waits for the hold interval: first the levels cross, then
        # at least hold_s later the speaker changes.
        voices["p_alice"].amplitude, voices["p_bob"].amplitude = SILENT, LOUD
        swapped = time.monotonic()
        await wait_for(lambda: _dominant(updates) == "p_bob", 10, "bob to be dominant")
        switch_at = next(t for t, d, _ in updates if d == "p_bob")
        assert switch_at - swapped >= room.speakers.hold_s
        assert updates[-1][2]["p_bob"] > 0.5
    finally:
        for publisher in publishers:
            await publisher.close()


async def test_host_muted_speaker_is_not_counted(room):
    updates, voices, publishers = await _two_speakers(room)
    try:
        await wait_for(lambda: _dominant(updates) == "p_alice", 10, "alice to be dominant")
        room.set_muted("p_alice", "audio", True)
        await wait_for(lambda: _dominant(updates) is None, 2, "the muted speaker to drop")
        assert "p_alice" not in updates[-1][2]
        voices["p_bob"].amplitude = LOUD
        await wait_for(lambda: _dominant(updates) == "p_bob", 10, "bob to be dominant")
        assert "p_alice" not in updates[-1][2]
    finally:
        for publisher in publishers:
            await publisher.close()


async def test_levels_are_reported_at_a_bounded_rate_and_only_on_change(room):
    updates, voices, publishers = await _two_speakers(room)
    try:
        await wait_for(lambda: _dominant(updates) == "p_alice", 10, "alice to be dominant")
        await asyncio.sleep(2.0)
        times = [t for t, _, _ in updates]
        gaps = [b - a for a, b in zip(times, times[1:])]
        assert min(gaps) >= 0.2, "at most one update per 250 ms tick"
        for (_, d1, l1), (_, d2, l2) in zip(updates, updates[1:]):
            assert (d1, l1) != (d2, l2), "an update that changes nothing"
    finally:
        for publisher in publishers:
            await publisher.close()
