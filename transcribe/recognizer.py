"""One speaker's recogniser: 16 kHz mono s16 PCM in, vosk partial and final results out.

vosk's calls block (and release the GIL): every method here runs in an executor thread,
one call at a time per speaker."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import vosk

SAMPLE_RATE = 16000
BYTES_PER_SAMPLE = 2


@dataclass(frozen=True)
class Result:
    """`final` False: a partial text (words empty). Word times are seconds of audio fed to
    this recogniser since it was made."""

    final: bool
    text: str
    words: tuple[dict[str, Any], ...] = ()


def grammar_json(phrases: Sequence[str]) -> str | None:
    """vosk grammar for a phrase list; "[unk]" lets other speech through as unknown where the
    model has that word (models without it ignore the entry and stick to the phrases)."""
    if not phrases:
        return None
    return json.dumps([p.lower() for p in phrases] + ["[unk]"], ensure_ascii=False)


class SpeakerRecognizer:
    def __init__(self, model: vosk.Model, phrases: Sequence[str] = ()) -> None:
        grammar = grammar_json(phrases)
        if grammar is None:
            self._rec = vosk.KaldiRecognizer(model, SAMPLE_RATE)
        else:
            self._rec = vosk.KaldiRecognizer(model, SAMPLE_RATE, grammar)
        self._rec.SetWords(True)
        self._partial = ""

    def feed(self, pcm: bytes) -> list[Result]:
        """Recognise `pcm`; returns a final result when vosk saw an utterance end, else a
        partial when its text changed (nothing otherwise)."""
        if self._rec.AcceptWaveform(pcm):
            self._partial = ""
            final = _final(self._rec.Result())
            return [final] if final is not None else []
        text = json.loads(self._rec.PartialResult()).get("partial", "")
        if text and text != self._partial:
            self._partial = text
            return [Result(final=False, text=text)]
        return []

    def flush(self) -> Result | None:
        """End the current utterance (the speaker went quiet or left)."""
        self._partial = ""
        return _final(self._rec.FinalResult())


def _final(raw: str) -> Result | None:
    data = json.loads(raw)
    words = tuple(w for w in data.get("result", []) if w.get("word") not in (None, "[unk]"))
    text = " ".join(w["word"] for w in words) if words else data.get("text", "").strip()
    if not text or not words:
        return None
    return Result(final=True, text=text, words=words)
