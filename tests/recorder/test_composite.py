"""build_composite on real per-track files (VP8/WebM, H.264/Matroska, Opus/WebM): duration,
tiles at their places, names drawn, the stage following the louder speaker, both voices
in the mix, screen share on the stage."""

from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np
import pytest
from composite_helpers import (Clip, Person, Tone, make_recording, read_audio, read_frame_at,
                               speech, tone_level)

from recorder.composite import CompositeError, build_composite

W, H, FPS = 640, 360, 10
RED, BLUE, GREEN, YELLOW = (40, 40, 200), (200, 60, 40), (40, 180, 40), (30, 200, 220)
A_HZ, B_HZ = 440.0, 1000.0
# A (Chinese name) talks loudly from 0.5 to 4.5 s, then softly; B joins at 1 s, is muted
# 2.5-3.5 s (no packets), talks loudly 5-7.8 s and leaves at 8 s; Carol has only a camera.
PEOPLE = [
    Person("pa", "张伟", 0, 10_000, color=RED,
           tones=[Tone(500, 4500, A_HZ, 0.5), Tone(5000, 9500, A_HZ, 0.02)]),
    Person("pb", "Bob", 1000, 8000, color=BLUE, video_codec="h264",
           tones=[Tone(5000, 7800, B_HZ, 0.5)], gaps=[(2500, 3500)]),
    Person("pc", "Carol", 0, 10_000, color=GREEN),
]


@pytest.fixture(scope="module")
def meeting(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, object]:
    root = tmp_path_factory.mktemp("composite")
    recording = make_recording(root / "rec", PEOPLE)
    out = root / "meeting.mp4"
    result = build_composite(recording, out, width=W, height=H, fps=FPS)
    return out, result


def color_at(image: np.ndarray, x: int, y: int, r: int = 6) -> np.ndarray:
    return image[y - r:y + r, x - r:x + r].reshape(-1, 3).mean(axis=0)


def is_color(image: np.ndarray, x: int, y: int, color: tuple[int, int, int]) -> bool:
    return bool(np.abs(color_at(image, x, y) - np.array(color)).max() < 30)


def probe(path: Path, entries: str) -> list[str]:
    return subprocess.run(["ffprobe", "-v", "error", "-show_entries", entries, "-of",
                           "default=nw=1:nk=1", str(path)], check=True, capture_output=True,
                          text=True, timeout=30).stdout.split()


def test_mp4_has_the_meeting_duration_and_h264_aac(meeting) -> None:
    out, result = meeting
    assert abs(float(probe(out, "format=duration")[0]) - 10.0) < 0.5
    assert probe(out, "stream=codec_name") == ["h264", "aac"]
    assert result.frames == 100 and abs(result.duration_s - 10.0) < 0.5
    assert result.participants == ["张伟", "Carol", "Bob"]
    assert (result.audio_tracks, result.video_tracks, result.max_tiles_at_once) == (2, 3, 3)


def test_mp4_is_faststart(meeting) -> None:
    """The index (moov) comes before the media (mdat), so playback starts while
    downloading."""
    data = meeting[0].read_bytes()
    assert 0 <= data.index(b"moov") < data.index(b"mdat")


def test_grid_before_anyone_speaks(meeting) -> None:
    """At 0.3 s nobody has spoken for long enough: A and Carol side by side, same size."""
    image = read_frame_at(meeting[0], 0.3)
    assert is_color(image, W // 4, H // 2, RED)
    assert is_color(image, 3 * W // 4, H // 2, GREEN)


def test_stage_and_strip_follow_the_louder_speaker(meeting) -> None:
    out, result = meeting
    # 3 s: A talks; A on the stage (left 3/4), Carol then Bob (order of joining) in the strip
    # of four rows on the right, centred: rows 2 and 3.
    image = read_frame_at(out, 3.0)
    strip_x = (W * 3 // 4 + W) // 2
    assert is_color(image, W * 3 // 8, H // 2, RED)
    assert is_color(image, strip_x, H * 3 // 8, GREEN)
    assert is_color(image, strip_x, H * 5 // 8, BLUE)
    # 7 s: B is louder by far: B on the stage, A and Carol in the strip.
    image = read_frame_at(out, 7.0)
    assert is_color(image, W * 3 // 8, H // 2, BLUE)
    assert is_color(image, strip_x, H * 3 // 8, RED)
    assert is_color(image, strip_x, H * 5 // 8, GREEN)
    # 9.5 s: B has left; A (soft, but the only voice) back on the stage, Carol alone beside.
    image = read_frame_at(out, 9.5)
    assert is_color(image, W * 3 // 8, H // 2, RED)
    assert is_color(image, strip_x, H // 2, GREEN)
    assert not any(is_color(image, strip_x, y, BLUE) for y in range(H // 8, H, H // 8))
    speakers = [who for _t, who in result.speaker_changes]
    assert speakers[:2] == ["pa", "pb"] and speakers[-1] == "pa"
    times = dict((who, t) for t, who in reversed(result.speaker_changes))
    assert 0.5 < times["pa"] < 2.0 and 5.0 < times["pb"] < 6.5


def test_names_are_drawn_on_the_tiles(meeting) -> None:
    """The label box at the bottom-left of each picture is dark with bright text on it,
    unlike the flat colour of the tile around it; A's label is in Chinese."""
    image = read_frame_at(meeting[0], 3.0)
    stage_pic_bottom = (H + (W * 3 // 4 - 4) * 9 // 16) // 2  # 16:9 picture, centred
    label = image[stage_pic_bottom - 30:stage_pic_bottom - 4, 6:60].astype(int)
    tile = np.array(RED)
    assert (np.abs(label - tile).max(axis=2) > 60).mean() > 0.5  # not the tile colour
    assert (label.min(axis=2) > 170).sum() > 30  # white strokes of the glyphs


def test_audio_has_both_speakers_in_their_windows(meeting) -> None:
    samples = read_audio(meeting[0])
    assert abs(len(samples) / 48_000 - 10.0) < 0.5
    a_talks, b_talks = (1.0, 4.4), (5.5, 7.6)
    assert tone_level(samples, A_HZ, *a_talks) > 0.25
    assert tone_level(samples, B_HZ, *a_talks) < 0.01
    assert tone_level(samples, B_HZ, *b_talks) > 0.25
    assert tone_level(samples, A_HZ, *b_talks) < 0.05  # A's soft voice is there, quietly
    assert tone_level(samples, A_HZ, *b_talks) > 0.005
    # B's mute gap (no packets 2.5-3.5 s) is silence, not a shift: B's voice starts at 5 s.
    assert tone_level(samples, B_HZ, 4.2, 4.9) < 0.01


def test_mix_of_loud_voices_does_not_clip(tmp_path: Path) -> None:
    """Two voices at 0.9 peak sum to 1.8: turned down together, not clipped. Clipping
    would add intermodulation products (2*300+700 = 1300 Hz, 2*700-300 = 1100 Hz)."""
    people = [Person("p1", "One", 0, 3000, tones=[Tone(0, 3000, 300, 0.9)]),
              Person("p2", "Two", 0, 3000, tones=[Tone(0, 3000, 700, 0.9)])]
    out = tmp_path / "loud.mp4"
    build_composite(make_recording(tmp_path / "rec", people), out, width=320, height=180,
                    fps=5)
    samples = read_audio(out)
    middle = (0.5, 2.5)
    for hz in (300, 700):
        assert 0.3 < tone_level(samples, hz, *middle) < 0.5
    for hz in (1100, 1300):
        assert tone_level(samples, hz, *middle) < 0.005
    assert np.abs(samples[int(0.5 * 48_000):int(2.5 * 48_000)]).max() < 0.95


def test_screen_share_takes_the_stage(tmp_path: Path) -> None:
    """While A shares a screen it is on the stage although B is the one talking."""
    people = [Person("pa", "Ann", 0, 6000, color=RED, screen_color=YELLOW,
                     screen_span=(1000, 4000)),
              Person("pb", "Ben", 0, 6000, color=BLUE, tones=[Tone(0, 6000, 500, 0.5)])]
    out = tmp_path / "screen.mp4"
    result = build_composite(make_recording(tmp_path / "rec", people), out, width=W,
                             height=H, fps=5)
    assert result.tiles == 3
    assert is_color(read_frame_at(out, 2.5), W * 3 // 8, H // 2, YELLOW)
    after = read_frame_at(out, 5.0)
    assert is_color(after, W * 3 // 8, H // 2, BLUE)  # the speaker once the share ended


def test_bad_recordings_are_refused(tmp_path: Path) -> None:
    with pytest.raises(CompositeError, match="no manifest.json"):
        build_composite(tmp_path, tmp_path / "x.mp4")
    (tmp_path / "manifest.json").write_text(
        '{"files": [{"name": "../etc/passwd", "kind": "video", "source": "camera",'
        ' "participant_id": "p", "start_ms": 0, "end_ms": 10}]}')
    with pytest.raises(CompositeError, match="not a plain file name"):
        build_composite(tmp_path, tmp_path / "x.mp4")
    (tmp_path / "manifest.json").write_text('{"files": []}')
    with pytest.raises(CompositeError, match="no audio or video track"):
        build_composite(tmp_path, tmp_path / "x.mp4")
    with pytest.raises(CompositeError, match="even sizes"):
        build_composite(tmp_path, tmp_path / "x.mp4", width=641)
    assert not (tmp_path / "x.mp4").exists()


def test_stage_follows_real_speech(tmp_path: Path) -> None:
    """espeak-ng voices with their pauses between words: Wang speaks Chinese first, then
    Jones English; the stage follows each without flickering back and forth."""
    zh = speech("大家好，我们现在开始开会，先说一下今天的安排。", "cmn", tmp_path, 5.0)
    en = speech("Thank you. I will report on the field units and the open incidents.", "en",
                tmp_path, 4.2)
    people = [Person("pw", "王伟", 0, 11_000, color=RED, clips=[Clip(500, zh)]),
              Person("pj", "Jones", 0, 11_000, color=BLUE, clips=[Clip(6000, en)])]
    out = tmp_path / "speech.mp4"
    result = build_composite(make_recording(tmp_path / "rec", people), out, width=W,
                             height=H, fps=5)
    assert [who for _t, who in result.speaker_changes] == ["pw", "pj"], result.speaker_changes
    assert is_color(read_frame_at(out, 5.0), W * 3 // 8, H // 2, RED)
    assert is_color(read_frame_at(out, 9.8), W * 3 // 8, H // 2, BLUE)
