"""Test clips made by ffmpeg (libx264/libx265, AAC/Opus) and their H.264 NAL units as
ffmpeg itself splits them, to compare what came through a feed with what went in."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

VIDEO_ENCODERS = {"h264": ["-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p"],
                  "hevc": ["-c:v", "libx265", "-preset", "ultrafast", "-pix_fmt", "yuv420p",
                           "-x265-params", "log-level=error"]}
AUDIO_ENCODERS = {"aac": ["-c:a", "aac", "-b:a", "64k"],
                  "opus": ["-c:a", "libopus", "-b:a", "48k"]}


def make_clip(path: Path, seconds: float = 6.0, codec: str = "h264", audio: str | None = "aac",
              size: str = "640x360", fps: int = 25, gop: int = 25, extra: list[str] = ()) -> Path:
    """An MP4 (or what `path`'s suffix says) with a moving test pattern and a 440 Hz tone."""
    cmd = ["ffmpeg", "-hide_banner", "-loglevel", "error", "-y",
           "-f", "lavfi", "-i", f"testsrc2=size={size}:rate={fps}"]
    if audio:
        cmd += ["-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000"]
    cmd += ["-t", str(seconds)] + VIDEO_ENCODERS[codec] + ["-g", str(gop), *extra]
    if audio:
        cmd += AUDIO_ENCODERS[audio] + ["-ac", "1"]
    cmd.append(str(path))
    subprocess.run(cmd, check=True, timeout=120)
    return path


def annexb_nal_units(clip: Path) -> list[bytes]:
    """The clip's H.264 NAL units in decoding order, extracted by ffmpeg
    (h264_mp4toannexb) and split at start codes; access unit delimiters left out."""
    raw = subprocess.run(["ffmpeg", "-hide_banner", "-loglevel", "error", "-i", str(clip),
                          "-map", "0:v:0", "-c:v", "copy", "-bsf:v", "h264_mp4toannexb",
                          "-f", "h264", "-"], check=True, capture_output=True, timeout=60).stdout
    nals = [n for n in re.split(b"\x00\x00\x00\x01|\x00\x00\x01", raw) if n]
    return [n.rstrip(b"\x00") for n in nals if n[0] & 0x1F != 9]
