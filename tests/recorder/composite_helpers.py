"""Real per-track recording files for the composite tests and benchmark, laid out as the
recorder writes them (docs/ARCHITECTURE.md "Recorder"): VP8/WebM or H.264/Matroska video and
Opus/WebM audio, timestamps in ms on the shared recording clock, and manifest.json.

Pictures are solid colours with a moving white square (so tiles can be told apart by colour);
sound is sine tones whose loudness changes over time (so the louder speaker is known), with
optional gaps without packets (mute).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path

import av
import numpy as np

RATE = 48_000
OPUS_FRAME = 960  # 20 ms


@dataclass
class Tone:
    start_ms: int
    end_ms: int
    freq: float
    amplitude: float  # peak, 0..1


@dataclass
class Clip:
    start_ms: int
    samples: np.ndarray  # mono float32 at RATE


def speech(text: str, voice: str, directory: Path, max_s: float = 10.0) -> np.ndarray:
    """`text` spoken by espeak-ng (`voice`, e.g. "cmn" or "en"), mono float32 at RATE."""
    import subprocess

    wav = directory / f"speech-{voice}-{abs(hash(text)) % 10**8}.wav"
    subprocess.run(["espeak-ng", "-v", voice, "-w", str(wav), text], check=True, timeout=60)
    chunks = []
    with av.open(str(wav)) as container:
        resampler = av.AudioResampler(format="flt", layout="mono", rate=RATE)
        for frame in container.decode(audio=0):
            chunks += [out.to_ndarray().reshape(-1) for out in resampler.resample(frame)]
    return np.concatenate(chunks)[:int(max_s * RATE)].astype(np.float32)


@dataclass
class Person:
    participant_id: str
    name: str
    start_ms: int
    end_ms: int
    color: tuple[int, int, int] | None = None  # BGR; None: no camera
    video_codec: str = "vp8"
    tones: list[Tone] = field(default_factory=list)  # no tones and no clips: no microphone
    clips: list[Clip] = field(default_factory=list)  # recorded speech placed on the clock
    gaps: list[tuple[int, int]] = field(default_factory=list)  # mute: no audio packets
    size: tuple[int, int] = (320, 180)
    screen_color: tuple[int, int, int] | None = None  # BGR of a screen share
    screen_span: tuple[int, int] = (0, 0)


def write_video(path: Path, codec: str, color: tuple[int, int, int], start_ms: int,
                end_ms: int, size: tuple[int, int] = (320, 180), fps: int = 15) -> None:
    width, height = size
    with av.open(str(path), "w", format="webm" if codec == "vp8" else "matroska") as out:
        stream = out.add_stream("libvpx" if codec == "vp8" else "libx264", rate=fps)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        stream.codec_context.time_base = Fraction(1, 1000)
        stream.options = {"deadline": "realtime", "cpu-used": "8"} if codec == "vp8" \
            else {"preset": "ultrafast"}
        image = np.empty((height, width, 3), dtype=np.uint8)
        box = max(8, height // 10)
        for index in range(int((end_ms - start_ms) * fps / 1000)):
            image[:] = color
            x = (index * 4) % max(1, width // 4 - box)  # moving square in the top-left corner
            image[4:4 + box, 4 + x:4 + x + box] = 255
            frame = av.VideoFrame.from_ndarray(image, format="bgr24")
            frame.pts = start_ms + round(index * 1000 / fps)
            frame.time_base = Fraction(1, 1000)
            out.mux(stream.encode(frame))
        out.mux(stream.encode(None))


def write_audio(path: Path, start_ms: int, end_ms: int, tones: list[Tone],
                gaps: list[tuple[int, int]] = (), clips: list[Clip] = ()) -> None:
    """Opus/WebM from start_ms to end_ms: the sum of `tones` and `clips` (silence
    elsewhere), with no packets at all during `gaps`."""
    with av.open(str(path), "w", format="webm") as out:
        stream = out.add_stream("libopus", rate=RATE, layout="mono")
        stream.bit_rate = 64_000
        for first in range(0, round((end_ms - start_ms) * RATE / 1000), OPUS_FRAME):
            at_ms = start_ms + first * 1000 / RATE
            if any(lo <= at_ms < hi for lo, hi in gaps):
                continue
            t = (np.arange(OPUS_FRAME) + first) / RATE + start_ms / 1000
            samples = np.zeros(OPUS_FRAME, dtype=np.float32)
            for tone in tones:
                on = (t * 1000 >= tone.start_ms) & (t * 1000 < tone.end_ms)
                samples += on * tone.amplitude * np.sin(2 * np.pi * tone.freq * t)
            for clip in clips:
                lo = first + round((start_ms - clip.start_ms) * RATE / 1000)
                part = clip.samples[max(lo, 0):max(lo + OPUS_FRAME, 0)]
                if len(part):
                    offset = max(-lo, 0)
                    samples[offset:offset + len(part)] += part[:OPUS_FRAME - offset]
            frame = av.AudioFrame.from_ndarray(samples.reshape(1, -1).astype(np.float32),
                                               format="fltp", layout="mono")
            frame.sample_rate = RATE
            frame.pts = round(at_ms * RATE / 1000)
            frame.time_base = Fraction(1, RATE)
            out.mux(stream.encode(frame))
        out.mux(stream.encode(None))


def make_recording(directory: Path, people: list[Person], recording_id: str = "rec1",
                   room_id: str = "room1") -> Path:
    """Write every person's tracks and the manifest into `directory`; returns it."""
    directory.mkdir(parents=True, exist_ok=True)
    files = []
    for person in people:
        base = person.participant_id
        if person.color is not None:
            ext = "webm" if person.video_codec == "vp8" else "mkv"
            name = f"{base}-camera.{ext}"
            write_video(directory / name, person.video_codec, person.color, person.start_ms,
                        person.end_ms, person.size)
            files.append(_entry(directory, name, person, "video", "camera",
                                person.video_codec, person.start_ms, person.end_ms))
        if person.tones or person.clips:
            name = f"{base}-microphone.webm"
            write_audio(directory / name, person.start_ms, person.end_ms, person.tones,
                        person.gaps, person.clips)
            files.append(_entry(directory, name, person, "audio", "microphone", "opus",
                                person.start_ms, person.end_ms))
        if person.screen_color is not None:
            name = f"{base}-screen.webm"
            lo, hi = person.screen_span
            write_video(directory / name, "vp8", person.screen_color, lo, hi, (640, 360))
            files.append(_entry(directory, name, person, "video", "screen", "vp8", lo, hi))
    manifest = {"recording_id": recording_id, "room_id": room_id,
                "started_at": "2026-12-03T08:00:00Z", "stopped_at": "2026-12-03T08:01:00Z",
                "state": "stopped", "files": files}
    (directory / "manifest.json").write_text(json.dumps(manifest, indent=1), encoding="utf-8")
    return directory


def _entry(directory: Path, name: str, person: Person, kind: str, source: str, codec: str,
           start_ms: int, end_ms: int) -> dict[str, object]:
    data = (directory / name).read_bytes()
    return {"name": name, "segment": 0, "participant_id": person.participant_id,
            "participant_name": person.name, "kind": kind, "source": source, "codec": codec,
            "start_ms": start_ms, "end_ms": end_ms, "bytes": len(data),
            "sha256": hashlib.sha256(data).hexdigest()}


def read_frame_at(path: Path, seconds: float) -> np.ndarray:
    """The decoded BGR picture of the MP4 at `seconds` (the first frame at or after it)."""
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        for frame in container.decode(stream):
            if frame.time is not None and frame.time >= seconds - 1e-6:
                return frame.to_ndarray(format="bgr24")
    raise AssertionError(f"{path} has no frame at {seconds} s")


def read_audio(path: Path) -> np.ndarray:
    """The MP4's whole audio track as mono float32 at 48 kHz (tests use short files)."""
    chunks = []
    with av.open(str(path)) as container:
        resampler = av.AudioResampler(format="flt", layout="mono", rate=RATE)
        for frame in container.decode(container.streams.audio[0]):
            for out in resampler.resample(frame):
                chunks.append(out.to_ndarray().reshape(-1))
    return np.concatenate(chunks)


def tone_level(samples: np.ndarray, freq: float, start_s: float, end_s: float) -> float:
    """Amplitude of the `freq` component of samples[start_s:end_s] (FFT, Hann window)."""
    part = samples[int(start_s * RATE):int(end_s * RATE)]
    window = np.hanning(len(part))
    spectrum = np.abs(np.fft.rfft(part * window)) * 2 / window.sum()
    freqs = np.fft.rfftfreq(len(part), 1 / RATE)
    near = (freqs > freq - 15) & (freqs < freq + 15)
    return float(spectrum[near].max())


def chain_manifest(directory: Path) -> str:
    """Link the manifest's files into a hash chain closed by a segment entry, as the
    recorder does when a recording stops (recorder/manifest.py); returns the chain head."""
    from recorder.manifest import append_entry, chain_head, segment_hash

    path = directory / "manifest.json"
    manifest = json.loads(path.read_text(encoding="utf-8"))
    chain: list[dict[str, object]] = []
    files = [append_entry(chain, {"type": "file", **entry}) for entry in manifest["files"]]
    append_entry(chain, {"type": "segment", "segment": 0, "worker": "test", "end": "stopped",
                         "files": [f["name"] for f in files],
                         "sha256": segment_hash(str(f["sha256"]) for f in files)})
    manifest.update(files=files, chain=chain, chain_head=chain_head(chain))
    path.write_text(json.dumps(manifest, indent=1), encoding="utf-8")
    return chain_head(chain)
