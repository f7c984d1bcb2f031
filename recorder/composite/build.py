"""build_composite: one streaming pass from the track files to the meeting-view MP4.

For each output frame the audio up to the frame's end is decoded, mixed and encoded first
(this also feeds the speaker tracker), then the frame is drawn and encoded, so audio and video
leave in time order and the muxer never buffers much. The MP4 is written beside the target
and renamed into place when complete (`+faststart`: the index is moved to the front, so a
player can start while downloading).
"""

from __future__ import annotations

import math
import os
from dataclasses import asdict, dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any

import av
import cv2
import numpy as np

from recorder.composite.audio import RATE, Mixer
from recorder.composite.labels import DEFAULT_FONT, LabelPainter
from recorder.composite.manifest import CompositeError, load_tracks
from recorder.composite.render import FrameRenderer
from recorder.composite.speaker import SpeakerPolicy, SpeakerTracker
from recorder.composite.tiles import Tile, make_tiles, stage_of

AUDIO_BLOCK = 1024  # samples per AAC frame
X264_OPTIONS = {"preset": "veryfast", "crf": "25"}
AUDIO_BITRATE = 96_000


@dataclass
class CompositeResult:
    path: str
    duration_s: float
    frames: int
    width: int
    height: int
    fps: int
    start_ms: int  # where the composite starts on the recording clock (earliest track)
    end_ms: int
    tiles: int  # distinct tiles over the whole recording
    max_tiles_at_once: int
    participants: list[str]  # names, in order of first appearance
    audio_tracks: int
    video_tracks: int
    # (seconds into the composite, participant id or None) each time the stage changed hands
    speaker_changes: list[tuple[float, str | None]] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def build_composite(recording_dir: Path | str, out_path: Path | str, *, width: int = 1280,
                    height: int = 720, fps: int = 15, font_path: str = DEFAULT_FONT,
                    policy: SpeakerPolicy | None = None,
                    skip: frozenset[str] = frozenset()) -> CompositeResult:
    """Compose the recording in `recording_dir` (manifest.json + track files; names in
    `skip` are not inputs) into the MP4 `out_path`. Blocking and CPU-bound: call it in a
    worker process. Raises CompositeError for a recording that cannot be composed."""
    if width % 2 or height % 2 or not (64 <= width <= 3840 and 64 <= height <= 2160):
        raise CompositeError(f"size {width}x{height}: need even sizes, 64..3840 x 64..2160")
    if not 1 <= fps <= 60:
        raise CompositeError(f"fps {fps}: need 1..60")
    tracks = load_tracks(Path(recording_dir), skip)
    out = Path(out_path)
    # Named by pid: a build killed with its worker never shares a file with the next one.
    partial = out.with_name(f".{out.name}.{os.getpid()}.partial")
    job = _Job(make_tiles(tracks), tracks.end_ms - tracks.start_ms, width, height, fps,
               LabelPainter(font_path), SpeakerTracker(policy or SpeakerPolicy()))
    job.result.start_ms, job.result.end_ms = tracks.start_ms, tracks.end_ms
    try:
        result = job.run(partial)
        os.replace(partial, out)
    finally:
        job.close()
        partial.unlink(missing_ok=True)
    result.path = str(out)
    return result


class _Job:
    def __init__(self, tiles: list[Tile], duration_ms: int, width: int, height: int, fps: int,
                 labels: LabelPainter, tracker: SpeakerTracker) -> None:
        self.tiles, self.duration_ms, self.fps = tiles, duration_ms, fps
        self.renderer = FrameRenderer(width, height, labels)
        self.tracker, self.mixer = tracker, Mixer()
        self.audio_pos = 0
        self.result = CompositeResult(
            path="", duration_s=0.0, frames=0, width=width, height=height, fps=fps,
            start_ms=0, end_ms=0, tiles=len(tiles), max_tiles_at_once=0,
            participants=list(dict.fromkeys(t.name for t in tiles if not t.is_screen)),
            audio_tracks=sum(len(t.audio) for t in tiles),
            video_tracks=sum(len(t.video) for t in tiles))

    def run(self, path: Path) -> CompositeResult:
        frames = max(1, math.ceil(self.duration_ms * self.fps / 1000))
        with av.open(str(path), "w", format="mp4", options={"movflags": "+faststart"}) as out:
            video, audio = self._streams(out)
            for index in range(frames):
                self._audio_until(out, audio, round((index + 1) * RATE / self.fps))
                self._video_frame(out, video, index)
                if index % self.fps == 0:
                    self._close_ended(index * 1000 / self.fps)
            out.mux(video.encode(None))
            out.mux(audio.encode(None))
        self.result.frames = frames
        self.result.duration_s = frames / self.fps
        return self.result

    def close(self) -> None:
        for tile in self.tiles:
            for reader in [*tile.video, *tile.audio]:
                reader.close()

    def _close_ended(self, t_ms: float) -> None:
        """Close the files of tracks that are over, so a long meeting with many joins and
        leaves does not hold every file (and its decoder) open to the end."""
        for tile in self.tiles:
            for reader in [*tile.video, *tile.audio]:
                if reader.ended(t_ms):
                    reader.close()

    def _streams(self, out: av.container.OutputContainer) -> tuple[Any, Any]:
        video = out.add_stream("libx264", rate=self.fps)
        video.width, video.height = self.renderer.width, self.renderer.height
        video.pix_fmt = "yuv420p"
        video.options = dict(X264_OPTIONS)
        video.time_base = Fraction(1, self.fps)
        audio = out.add_stream("aac", rate=RATE, layout="mono")
        audio.bit_rate = AUDIO_BITRATE
        audio.time_base = Fraction(1, RATE)
        return video, audio

    def _audio_until(self, out: av.container.OutputContainer, stream: Any, end: int) -> None:
        while self.audio_pos < end:
            pos = self.audio_pos
            blocks: dict[str, np.ndarray] = {}
            for tile in self.tiles:
                for reader in tile.audio:
                    block = reader.read(pos, AUDIO_BLOCK)
                    if block is not None:
                        previous = blocks.get(tile.participant_id)
                        blocks[tile.participant_id] = block if previous is None \
                            else previous + block
            before = self.tracker.speaker
            speaker = self.tracker.update(blocks, AUDIO_BLOCK * 1000 / RATE)
            if speaker != before:
                self.result.speaker_changes.append((round(pos / RATE, 3), speaker))
            mixed = self.mixer.mix(list(blocks.values()), AUDIO_BLOCK)
            frame = av.AudioFrame.from_ndarray(mixed.reshape(1, -1), format="fltp",
                                               layout="mono")
            frame.sample_rate, frame.pts = RATE, pos
            frame.time_base = Fraction(1, RATE)
            out.mux(stream.encode(frame))
            self.audio_pos += AUDIO_BLOCK

    def _video_frame(self, out: av.container.OutputContainer, stream: Any, index: int) -> None:
        t_ms = index * 1000 / self.fps
        present = [t for t in self.tiles if t.present(t_ms)]
        self.result.max_tiles_at_once = max(self.result.max_tiles_at_once, len(present))
        speaker = self.tracker.speaker
        stage = stage_of(present, speaker, t_ms)
        canvas = self.renderer.render(present, stage, speaker, t_ms)
        # OpenCV's BGR -> I420 (BT.601, as swscale's default) is ~10x cheaper than handing
        # PyAV a bgr24 frame for the encoder to convert.
        frame = av.VideoFrame.from_ndarray(cv2.cvtColor(canvas, cv2.COLOR_BGR2YUV_I420),
                                           format="yuv420p")
        frame.pts = index
        frame.time_base = Fraction(1, self.fps)
        out.mux(stream.encode(frame))
