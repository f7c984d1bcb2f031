"""The composite's parts on their own: layout geometry, speaker hysteresis, Chinese labels,
manifest reading, timestamps of rebased files."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from composite_helpers import Person, Tone, make_recording

from recorder.composite.audio import AudioTrackReader, Mixer
from recorder.composite.labels import LabelPainter
from recorder.composite.layout import Rect, fit, layout
from recorder.composite.manifest import CompositeError, load_tracks
from recorder.composite.speaker import SpeakerPolicy, SpeakerTracker


def test_grid_layouts_fill_the_frame_without_overlap() -> None:
    for count in range(1, 10):
        rects = list(layout(list(range(count)), None, 1280, 720).values())
        assert len(rects) == count
        sizes = {(r.w, r.h) for r in rects}
        assert len(sizes) == 1  # all tiles the same size in a grid
        for i, a in enumerate(rects):
            assert 0 <= a.x and a.x + a.w <= 1280 and 0 <= a.y and a.y + a.h <= 720
            for b in rects[i + 1:]:
                assert a.x + a.w <= b.x or b.x + b.w <= a.x or \
                    a.y + a.h <= b.y or b.y + b.h <= a.y
    assert layout(["solo"], "solo", 1280, 720) == {"solo": Rect(0, 0, 1280, 720)}
    four = layout(list("abcd"), None, 1280, 720)
    assert four["a"] == Rect(0, 0, 640, 360) and four["d"] == Rect(640, 360, 640, 360)


def test_stage_layout_enlarges_one_tile() -> None:
    rects = layout(["a", "b", "c"], "b", 1280, 720)
    assert rects["b"] == Rect(0, 0, 960, 720)
    assert rects["a"] == Rect(960, 180, 320, 180) and rects["c"] == Rect(960, 360, 320, 180)
    many = layout(list(range(9)), 4, 1280, 720)  # 8 in the strip: two columns of four
    assert many[4].w == 960 and {r.w for k, r in many.items() if k != 4} == {160}


def test_fit_keeps_the_aspect_ratio_centred() -> None:
    assert fit(640, 480, Rect(0, 0, 960, 720)) == Rect(0, 0, 960, 720)
    assert fit(1280, 720, Rect(100, 0, 320, 720)) == Rect(100, 270, 320, 180)


def tone(amplitude: float, ms: float = 20.0) -> np.ndarray:
    t = np.arange(round(48 * ms)) / 48_000
    return (amplitude * np.sin(2 * np.pi * 300 * t)).astype(np.float32)


def run(tracker: SpeakerTracker, levels: dict[str, float], ms: float) -> list[str | None]:
    seen = []
    for _ in range(int(ms / 20)):
        seen.append(tracker.update({who: tone(a) for who, a in levels.items()}, 20.0))
    return seen


def test_speaker_switches_only_after_the_hold_time() -> None:
    tracker = SpeakerTracker(SpeakerPolicy(hold_ms=800))
    assert run(tracker, {"a": 0.0, "b": 0.0}, 1000)[-1] is None  # silence: nobody
    seen = run(tracker, {"a": 0.5, "b": 0.0}, 1500)
    assert seen[-1] == "a" and (seen.index("a") + 1) * 20 >= 800
    # B interrupts for half a second, louder: A keeps the stage (no flicker)...
    assert set(run(tracker, {"a": 0.05, "b": 0.5}, 500)) == {"a"}
    # ... and B takes it when it keeps on talking.
    assert run(tracker, {"a": 0.05, "b": 0.5}, 1500)[-1] == "b"
    # Both at about the same level (within the margin): no change either way.
    assert set(run(tracker, {"a": 0.5, "b": 0.4}, 3000)) == {"b"}
    # The speaker leaves: the other takes over after the hold time.
    seen = run(tracker, {"a": 0.5}, 1500)
    assert seen[0] is None and seen[-1] == "a"


def test_mixer_limits_the_sum_smoothly() -> None:
    mixer = Mixer()
    loud = mixer.mix([tone(0.9, 1024 / 48), tone(0.9, 1024 / 48)], 1024)
    assert np.abs(loud).max() <= 0.851
    quiet = [mixer.mix([tone(0.1, 1024 / 48)], 1024) for _ in range(200)]
    peaks = [float(np.abs(q).max()) for q in quiet]
    assert peaks[0] < 0.06  # gain comes back slowly, no jump
    assert all(b >= a - 1e-3 for a, b in zip(peaks, peaks[1:], strict=False))
    assert peaks[-1] == pytest.approx(0.1, abs=0.01)


def test_chinese_names_render_as_glyphs() -> None:
    """Distinct names give distinct ink: missing glyphs would all be the same boxes."""
    painter = LabelPainter()
    ink = {name: painter._render(name, 24) for name in ("张伟", "张三", "李娜")}
    for name, alpha in ink.items():
        assert alpha.shape[0] >= 18 and (alpha > 0.5).sum() > 40, name
    assert not np.array_equal(ink["张伟"], ink["张三"])
    assert not np.array_equal(ink["张三"][:, -ink["张三"].shape[1] // 2:],
                              ink["李娜"][:, -ink["李娜"].shape[1] // 2:])
    canvas = np.full((120, 200, 3), 100, dtype=np.uint8)
    box = painter.draw(canvas, Rect(0, 0, 200, 120), "张伟")
    assert box.y + box.h <= 120 and (canvas > 200).all(axis=2).sum() > 20
    assert (canvas[box.y:box.y + box.h, box.x:box.x + box.w] < 60).all(axis=2).mean() > 0.4


def write_manifest(directory: Path, files: list[dict[str, object]]) -> None:
    (directory / "manifest.json").write_text(json.dumps({"files": files}))


def test_manifest_skips_unfinished_and_derived_entries(tmp_path: Path) -> None:
    make_recording(tmp_path, [Person("p", "P", 0, 1000, tones=[Tone(0, 1000, 440, 0.3)])])
    data = json.loads((tmp_path / "manifest.json").read_text())
    good = data["files"][0]
    data["files"] += [dict(good, name="late.webm", start_ms=None, end_ms=None),
                      dict(good, name="bad.webm", error="unreadable"),
                      {"name": "composite-01.mp4", "kind": "composite"}]
    (tmp_path / "manifest.json").write_text(json.dumps(data))
    assert [f.name for f in load_tracks(tmp_path).files] == [good["name"]]
    assert load_tracks(tmp_path, skip=frozenset({"x"})).start_ms == 0


@pytest.mark.parametrize("entry, message", [
    ({"name": "/etc/passwd"}, "not a plain file name"),
    ({"name": ".hidden.webm"}, "not a plain file name"),
    ({"name": "missing.webm"}, "missing"),
    ({"start_ms": -5}, "start_ms must be"),
    ({"end_ms": 10, "start_ms": 20}, "before start_ms"),
    ({"source": "desktop"}, "source must be"),
    ({"participant_id": ""}, "participant_id"),
])
def test_manifest_errors_name_the_problem(tmp_path: Path, entry: dict[str, object],
                                          message: str) -> None:
    (tmp_path / "a.webm").write_bytes(b"x")
    base = {"name": "a.webm", "kind": "audio", "source": "microphone", "participant_id": "p",
            "start_ms": 0, "end_ms": 100}
    write_manifest(tmp_path, [base | entry])
    with pytest.raises(CompositeError, match=message):
        load_tracks(tmp_path)


def test_file_rebased_to_zero_is_placed_by_the_manifest(tmp_path: Path) -> None:
    """A file whose own timestamps start at 0 although the manifest says 5 s is placed at
    5 s; one that agrees with the manifest is placed by its own timestamps."""
    make_recording(tmp_path, [Person("p", "P", 0, 1000, tones=[Tone(0, 1000, 440, 0.5)])])
    data = json.loads((tmp_path / "manifest.json").read_text())
    data["files"][0].update(start_ms=5000, end_ms=6000)
    (tmp_path / "manifest.json").write_text(json.dumps(data))
    tracks = load_tracks(tmp_path)
    reader = AudioTrackReader(tracks.files[0], origin_ms=4000)
    assert reader.read(0, 48_000) is None  # 4-5 s: nothing yet
    second = reader.read(48_000, 48_000)  # 5-6 s: the tone
    assert second is not None and np.abs(second[2400:-2400]).min(initial=1) < 0.1
    assert np.sqrt(np.mean(second[2400:-2400] ** 2)) > 0.3


def test_readers_hold_little_and_close_when_their_track_ends(tmp_path: Path) -> None:
    """Memory stays bounded: a reader keeps at most a few decoded frames, however long the
    track; a track that is over lets go of its file."""
    make_recording(tmp_path, [Person("p", "P", 0, 20_000, tones=[Tone(0, 20_000, 440, 0.3)])])
    reader = AudioTrackReader(load_tracks(tmp_path).files[0], origin_ms=0)
    biggest = 0
    for start in range(0, 20 * 48_000, 1024):
        assert reader.read(start, 1024) is not None
        biggest = max(biggest, len(reader._buffer))
    assert biggest < 48_000 // 10  # under 100 ms of samples held at any time
    assert not reader.ended(19_000) and reader.ended(20_000)
    reader.close()
    assert reader._frames is None and reader.read(20 * 48_000, 1024) is None
