"""Cutting a transcript into sentences, each keeping where it was said.

Punctuated text is cut at the language's sentence ends. Recogniser output has none, so a
segment is also cut at pauses between its words (when word times are known) and, when it
is still long, before sentence starters ("好的", "okay") and enumeration markers ("一是")."""

from __future__ import annotations

import re
from dataclasses import dataclass

from transcribe.minutes.model import Segment
from transcribe.minutes.rules import Rules, alternation
from transcribe.minutes.text import normalise

_CJK_GAP = re.compile(r"(?<=[\u3400-\u9fff])\s+(?=[\u3400-\u9fff])")


@dataclass(frozen=True)
class Sentence:
    index: int
    segment_id: str
    speaker: str
    speaker_id: str
    start_ms: int
    end_ms: int
    display: str  # as written (case kept), Chinese spaces removed
    text: str  # normalised: what the rules match


def split_transcript(segments: list[Segment], rules: Rules, pause_ms: int) -> list[Sentence]:
    out: list[Sentence] = []
    for seg in segments:
        for start, end, piece in _pieces(seg, rules, pause_ms):
            text = normalise(piece)
            if not re.search(r"\w", text):
                continue
            out.append(Sentence(len(out), seg.id, seg.speaker, seg.speaker_id, start, end,
                                piece.strip(), text))
    return out


def _pieces(seg: Segment, rules: Rules, pause_ms: int) -> list[tuple[int, int, str]]:
    ends = rules.value("sentence_end", ".!?")
    punctuated = any(c in ends for c in seg.text)
    if not punctuated and len(seg.words) > 1:
        groups = _by_pauses(seg, pause_ms)
    else:
        groups = [(seg.start_ms, seg.end_ms, _despace(seg.text))]
    out: list[tuple[int, int, str]] = []
    for start, end, text in groups:
        parts = _split_punct(text, ends, rules.bounded) if punctuated else [text]
        parts = [p for part in parts for p in _split_cues(part, rules)]
        out.extend(_timed(start, end, parts))
    return out


def _despace(text: str) -> str:
    return _CJK_GAP.sub("", " ".join(text.split()))


def _by_pauses(seg: Segment, pause_ms: int) -> list[tuple[int, int, str]]:
    groups: list[list] = [[seg.words[0]]]
    for prev, word in zip(seg.words, seg.words[1:]):
        if word.start_ms - prev.end_ms >= pause_ms:
            groups.append([])
        groups[-1].append(word)
    return [(g[0].start_ms, g[-1].end_ms, _despace(" ".join(w.text for w in g))) for g in groups]


def _split_punct(text: str, ends: str, spaced: bool) -> list[str]:
    """Cut after sentence ends; in spaced scripts only before a capital or a non-letter, so
    "6 p.m. tomorrow" and "Mr. Li" stay whole."""
    if spaced:
        pieces = re.split(rf"(?<=[{re.escape(ends)}])\s+(?![a-z])", text)
    else:
        pieces = re.split(rf"(?<=[{re.escape(ends)}])(?![0-9])\s*", text)
    return [p for p in pieces if p.strip()]


def _split_cues(text: str, rules: Rules) -> list[str]:
    """Cut before enumeration markers always and before starters in long unpunctuated text."""
    markers = rules.list("enumeration_markers")
    starters = rules.list("sentence_starters")
    long_chars = int(rules.value("long_sentence_chars", 0) or 0)
    long_words = int(rules.value("long_sentence_words", 0) or 0)
    is_long = (long_chars and len(text) > long_chars) or (long_words and
                                                          len(text.split()) > long_words)
    cues = markers + (starters if is_long else [])
    patterns = rules.list("enumeration_patterns")
    if not cues and not patterns:
        return [text]
    b = r"(?<![\w'])" if rules.bounded else ""
    alternatives = [f"{b}(?:{alternation(cues)})" + (r"(?![\w'])" if rules.bounded else "")]
    cut = re.compile("|".join(alternatives + patterns), re.IGNORECASE)
    points = [m.start() for m in cut.finditer(text) if m.start() >= 4]
    pieces, last = [], 0
    for point in points:
        if len(text[last:point].strip()) >= 4:
            pieces.append(text[last:point])
            last = point
    pieces.append(text[last:])
    return [p for p in pieces if p.strip()]


def _timed(start: int, end: int, parts: list[str]) -> list[tuple[int, int, str]]:
    """Times for the parts of a span, shared out by length (no word times for them)."""
    total = sum(len(p) for p in parts) or 1
    out, pos = [], 0
    for part in parts:
        a = start + (end - start) * pos // total
        pos += len(part)
        out.append((a, start + (end - start) * pos // total, part))
    return out
