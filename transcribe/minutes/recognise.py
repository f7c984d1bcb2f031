"""Speech in an uploaded audio/video file to transcript segments, offline.

PyAV decodes the first audio stream to 16 kHz mono s16; vosk recognises it through the live
transcriber's `transcribe.recognizer.SpeakerRecognizer` with the model of the language
(`transcribe.models.ModelSet`, i.e. `transcribe.model_path` / `models`). Everything here
blocks: callers run `recognise_file` in an executor thread (vosk and FFmpeg release the GIL).
A file has no speaker labels, so every segment is said by one "speaker" (no diarisation)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import av

from transcribe.models import ModelSet
from transcribe.recognizer import SAMPLE_RATE, Result, SpeakerRecognizer

BYTES_PER_SECOND = SAMPLE_RATE * 2
FEED_BYTES = BYTES_PER_SECOND // 5  # 200 ms per recogniser call


class MediaError(ValueError):
    """The file is not decodable audio/video, has no audio, or is too long."""


@dataclass(frozen=True)
class Recognised:
    segments: list[dict[str, Any]]
    duration_s: float


def recognise_file(path: Path, models: ModelSet, language: str, max_audio_s: float,
                   speaker: str) -> Recognised:
    model = models.get(language)
    recogniser = SpeakerRecognizer(model)
    segments: list[dict[str, Any]] = []
    fed = 0
    for pcm in _pcm_chunks(path, max_audio_s):
        fed += len(pcm)
        for result in recogniser.feed(pcm):
            _add(segments, result, speaker)
    last = recogniser.flush()
    if last is not None:
        _add(segments, last, speaker)
    return Recognised(segments, fed / BYTES_PER_SECOND)


def _add(segments: list[dict[str, Any]], result: Result, speaker: str) -> None:
    if not result.final or not result.words:
        return
    words = [{"word": w["word"], "start": float(w["start"]), "end": float(w["end"]),
              "conf": float(w.get("conf", 1.0))} for w in result.words]
    segments.append({"id": f"s{len(segments)}", "speaker": speaker,
                     "start": words[0]["start"], "end": words[-1]["end"],
                     "text": result.text, "words": words})


def _pcm_chunks(path: Path, max_audio_s: float):  # type: ignore[no-untyped-def]
    """16 kHz mono s16 PCM of the first audio stream, in ~200 ms pieces."""
    try:
        container = av.open(str(path))
    except (av.error.FFmpegError, OSError) as exc:
        raise MediaError(f"not a readable audio/video file: {exc}") from None
    with container:
        streams = container.streams.audio
        if not streams:
            raise MediaError("the file has no audio stream")
        stream = streams[0]
        if container.duration is not None and container.duration / 1e6 > max_audio_s:
            raise MediaError(f"the audio is longer than {max_audio_s:g} s")
        resampler = av.AudioResampler(format="s16", layout="mono", rate=SAMPLE_RATE)
        pending = bytearray()
        total = 0
        try:
            for frame in container.decode(stream):
                for piece in resampler.resample(frame):
                    pending += piece.to_ndarray().tobytes()
                total_now = total + len(pending)
                if total_now > max_audio_s * BYTES_PER_SECOND:
                    raise MediaError(f"the audio is longer than {max_audio_s:g} s")
                while len(pending) >= FEED_BYTES:
                    total += FEED_BYTES
                    yield bytes(pending[:FEED_BYTES])
                    del pending[:FEED_BYTES]
            for piece in resampler.resample(None):
                pending += piece.to_ndarray().tobytes()
        except av.error.FFmpegError as exc:
            raise MediaError(f"could not decode the audio: {exc}") from None
        if pending:
            yield bytes(pending)
