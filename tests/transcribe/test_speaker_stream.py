"""SpeakerStream on its own, with a real recogniser and a real aiortc track object fed by the
test: a speaker who stops mid-utterance gets it finalised after silence_flush_s, and audio
that arrives later than max_backlog_s behind is skipped."""

from __future__ import annotations

import asyncio
import fractions
from concurrent.futures import ThreadPoolExecutor

import av
import numpy as np
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack

from tr_speech import speak

from transcribe.recognizer import SpeakerRecognizer
from transcribe.speaker import SpeakerStream

RATE = 48000
SPEAKER = {"participant_id": "p_a", "name": "Alice", "kind": "audio"}
PHRASES = ["서울", "부산", "안녕하세요", "감사합니다"]


class ScriptedTrack(MediaStreamTrack):
    """Plays `samples` in 20 ms frames; `late_after` frames in, it stalls `stall_s` (frames
    keep their timestamps, so they arrive late); at the end it either stops (ends the
    stream) or goes quiet without ending (a muted microphone)."""

    kind = "audio"

    def __init__(self, samples: np.ndarray, late_after: int | None = None, stall_s: float = 0,
                 end: bool = True) -> None:
        super().__init__()
        self.frames = [samples[i:i + 960] for i in range(0, len(samples) - 959, 960)]
        self.late_after, self.stall_s, self.end = late_after, stall_s, end
        self.sent = 0
        self._stall_until: float | None = None

    async def recv(self) -> av.AudioFrame:
        loop = asyncio.get_running_loop()
        if self.sent == self.late_after:
            # Stall once: the stream's silence timeout may cancel this call and ask again.
            if self._stall_until is None:
                self._stall_until = loop.time() + self.stall_s
            await asyncio.sleep(max(0.0, self._stall_until - loop.time()))
        if self.sent >= len(self.frames):
            if self.end:
                raise MediaStreamError
            await asyncio.sleep(3600)
        chunk = self.frames[self.sent]
        frame = av.AudioFrame.from_ndarray(chunk.reshape(1, -1), format="s16", layout="mono")
        frame.sample_rate, frame.pts = RATE, self.sent * 960
        frame.time_base = fractions.Fraction(1, RATE)
        self.sent += 1
        if self.late_after is None or self.sent <= self.late_after:
            await asyncio.sleep(0.002)  # a little faster than real time
        return frame


def _stream(track, models, results, executor, **limits) -> SpeakerStream:
    async def sink(speaker, result, timeline):
        results.append((speaker["participant_id"], result, timeline))

    return SpeakerStream("0", track, lambda: SPEAKER,
                         lambda: SpeakerRecognizer(models.get("ko"), PHRASES),
                         executor, sink, chunk_ms=200,
                         silence_flush_s=limits.get("silence_flush_s", 0.5),
                         max_backlog_s=limits.get("max_backlog_s", 10.0))


async def test_quiet_speaker_is_finalised_after_silence_flush(models, speech_dir):
    samples = speak("서울", speech_dir)  # no trailing silence: vosk alone would keep waiting
    results: list = []
    with ThreadPoolExecutor(1) as executor:
        stream = _stream(ScriptedTrack(samples, end=False), models, results, executor,
                         silence_flush_s=0.5)
        task = asyncio.create_task(stream.run())
        for _ in range(100):
            if any(r.final for _, r, _ in results):
                break
            await asyncio.sleep(0.1)
        stream.closing = True
        await asyncio.wait_for(task, 5)
    finals = [r for _, r, _ in results if r.final]
    assert [r.text for r in finals] == ["서울"]
    assert stream.dropped_ms == 0


async def test_audio_older_than_max_backlog_is_skipped(models, speech_dir):
    # Two phrases this model tells apart reliably one after the other in one stream (with
    # the synthetic voice, "부산" right after "서울" comes out as "서울" again).
    samples = np.concatenate([speak("안녕하세요", speech_dir), np.zeros(RATE, dtype=np.int16),
                              speak("감사합니다", speech_dir), np.zeros(RATE, dtype=np.int16)])
    results: list = []
    with ThreadPoolExecutor(1) as executor:
        # After 10 frames the track stalls 6 s: what follows arrives more than
        # max_backlog_s (0.5 s) behind its own timestamps and is dropped until it is not.
        stream = _stream(ScriptedTrack(samples, late_after=10, stall_s=6.0), models, results,
                         executor, max_backlog_s=0.5, silence_flush_s=2.0)
        await asyncio.wait_for(stream.run(), 30)
    assert stream.dropped_ms > 4500
    assert not any(r.final and "감사합니다" in r.text for _, r, _ in results)

    results.clear()
    with ThreadPoolExecutor(1) as executor:  # the same audio on time is all recognised
        # (a long silence_flush_s: a loaded machine's pause must not cut a word in two)
        stream = _stream(ScriptedTrack(samples), models, results, executor, max_backlog_s=0.5,
                         silence_flush_s=2.0)
        await asyncio.wait_for(stream.run(), 30)
    assert stream.dropped_ms == 0
    assert [r.text for _, r, _ in results if r.final] == ["안녕하세요", "감사합니다"]
