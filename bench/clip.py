"""The media every publisher sends: a synthetic 720p VP8 + Opus clip, encoded once by ffmpeg
(cached by its parameters) and replayed packet by packet, so the load generator never encodes.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import av

FPS = 30
OPUS_FRAME_MS = 20
# Noise makes the picture hard to compress, so the encoder really spends the target bitrate
# (a clean test pattern would undershoot it several times over).
NOISE = "noise=alls=12:allf=t"


class ClipError(RuntimeError):
    pass


@dataclass(frozen=True)
class ClipSpec:
    seconds: int = 10
    width: int = 1280
    height: int = 720
    video_kbps: int = 1500
    gop_frames: int = 60

    def key(self) -> str:
        text = f"{self.seconds}-{self.width}x{self.height}-{self.video_kbps}-{self.gop_frames}-v1"
        return hashlib.sha256(text.encode()).hexdigest()[:12]


@dataclass(frozen=True)
class Clip:
    """VP8 frames at 30 fps (index 0 is a keyframe) and 20 ms Opus packets."""

    video: list[bytes]
    keyframes: list[int]
    audio: list[bytes]

    @property
    def seconds(self) -> float:
        return len(self.video) / FPS

    def video_kbps(self) -> float:
        return sum(map(len, self.video)) * 8 / self.seconds / 1000


# The simulcast load's layers, lowest first, as a browser sends a 720p camera: each one a
# clip of its own, encoded once like the single clip (the 720p one is that very clip).
SIMULCAST_RIDS = ("q", "h", "f")


def layer_specs(seconds: int) -> tuple[ClipSpec, ...]:
    return (ClipSpec(seconds, 320, 180, 150), ClipSpec(seconds, 640, 360, 500),
            ClipSpec(seconds, 1280, 720, 1500))


def cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "commandpost-bench"


def ensure_clip(spec: ClipSpec, directory: Path | None = None) -> Path:
    """Encode the clip with ffmpeg unless a cached copy exists; returns its path."""
    directory = directory or cache_dir()
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"clip-{spec.key()}.webm"
    if path.exists():
        return path
    ffmpeg = shutil.which("ffmpeg")
    if ffmpeg is None:
        raise ClipError("ffmpeg not found (Debian package ffmpeg)")
    rate = f"{spec.video_kbps}k"
    partial = path.with_suffix(".partial.webm")
    argv = [ffmpeg, "-v", "error", "-y",
            "-f", "lavfi", "-i", f"testsrc2=size={spec.width}x{spec.height}:rate={FPS}",
            "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000",
            "-t", str(spec.seconds), "-vf", NOISE,
            "-c:v", "libvpx", "-b:v", rate, "-minrate", rate, "-maxrate", rate,
            "-bufsize", rate, "-g", str(spec.gop_frames), "-deadline", "realtime",
            "-cpu-used", "8", "-threads", "2",
            "-c:a", "libopus", "-b:a", "32k", "-frame_duration", str(OPUS_FRAME_MS),
            "-ac", "2", "-ar", "48000", str(partial)]
    result = subprocess.run(argv, capture_output=True, text=True, timeout=600)
    if result.returncode != 0:
        raise ClipError(f"ffmpeg failed ({result.returncode}): {result.stderr[-2000:]}")
    partial.rename(path)
    return path


def load_clip(path: Path) -> Clip:
    """Demux (never decode) the clip into packet payloads."""
    video: list[bytes] = []
    keyframes: list[int] = []
    audio: list[bytes] = []
    with av.open(str(path)) as container:
        for packet in container.demux():
            if packet.size == 0:
                continue
            if packet.stream.type == "video":
                if packet.is_keyframe:
                    keyframes.append(len(video))
                video.append(bytes(packet))
            elif packet.stream.type == "audio":
                audio.append(bytes(packet))
    if not video or not audio or keyframes[:1] != [0]:
        raise ClipError(f"{path}: expected VP8 starting with a keyframe and Opus audio")
    return Clip(video, keyframes, audio)
