"""Speech for the transcriber's tests and benchmark: Korean sentences spoken by espeak-ng,
and an aiortc microphone track that plays them on demand (silence otherwise, like a real
open microphone)."""

from __future__ import annotations

import asyncio
import hashlib
import fractions
import subprocess
import time
import wave
from pathlib import Path

import av
import numpy as np
from aiortc.mediastreams import MediaStreamTrack

RATE = 48000
FRAME = 960  # 20 ms


def speak(text: str, workdir: Path, voice: str = "ko", speed: int = 140) -> np.ndarray:
    """`text` spoken by espeak-ng, as 48 kHz mono int16 samples (cached per text)."""
    workdir.mkdir(parents=True, exist_ok=True)
    stem = workdir / hashlib.sha1(f"{voice}|{speed}|{text}".encode()).hexdigest()[:16]
    raw, wav = stem.with_suffix(".raw.wav"), stem.with_suffix(".wav")
    if not wav.exists():
        subprocess.run(["espeak-ng", "-v", voice, "-s", str(speed), "-w", str(raw), text],
                       check=True, capture_output=True)
        subprocess.run(["sox", str(raw), "-r", str(RATE), "-c", "1", "-b", "16", str(wav)],
                       check=True, capture_output=True)
    with wave.open(str(wav)) as handle:
        return np.frombuffer(handle.readframes(handle.getnframes()), dtype=np.int16).copy()


class SpeechTrack(MediaStreamTrack):
    """20 ms frames at 48 kHz, real-time paced; `say` queues speech and tells when (wall
    clock, seconds) it will be heard."""

    kind = "audio"

    def __init__(self) -> None:
        super().__init__()
        self._queue = np.zeros(0, dtype=np.int16)
        self._start: float | None = None
        self._pts = 0

    def say(self, samples: np.ndarray) -> tuple[float, float]:
        start = self._start if self._start is not None else time.time()
        begin = self._pts + len(self._queue)
        self._queue = np.concatenate([self._queue, samples])
        return start + begin / RATE, start + (begin + len(samples)) / RATE

    def pending_s(self) -> float:
        return len(self._queue) / RATE

    async def until_quiet(self) -> None:
        while len(self._queue):
            await asyncio.sleep(0.05)

    async def recv(self) -> av.AudioFrame:
        if self._start is None:
            self._start = time.time()
        else:
            self._pts += FRAME
            wait = self._start + self._pts / RATE - time.time()
            if wait > 0:
                await asyncio.sleep(wait)
        chunk = self._queue[:FRAME]
        self._queue = self._queue[FRAME:]
        if len(chunk) < FRAME:
            chunk = np.concatenate([chunk, np.zeros(FRAME - len(chunk), dtype=np.int16)])
        frame = av.AudioFrame.from_ndarray(chunk.reshape(1, -1), format="s16", layout="mono")
        frame.sample_rate, frame.pts = RATE, self._pts
        frame.time_base = fractions.Fraction(1, RATE)
        return frame
