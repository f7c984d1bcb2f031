"""Chapters where the topic changes: TextTiling-like lexical cohesion.

Each gap between sentences gets the cosine similarity of the content words in a window of
sentences before and after it; a gap whose "depth" (how far it dips below the peaks either
side) is large is a topic change. Agenda phrases ("下一个议题", "moving on") force a cut.
Chapters shorter than `min_sentences` are merged into the one before."""

from __future__ import annotations

import math
import statistics
from collections import Counter

from transcribe.minutes.sentences import Sentence


def cosine(a: Counter[str], b: Counter[str]) -> float:
    dot = sum(a[w] * b[w] for w in a if w in b)
    if not dot:
        return 0.0
    return dot / (math.sqrt(sum(v * v for v in a.values())) *
                  math.sqrt(sum(v * v for v in b.values())))


def gap_scores(words: list[list[str]], window: int) -> list[float]:
    """Similarity across each gap i (between sentence i-1 and i), for i in 1..n-1."""
    out = []
    for i in range(1, len(words)):
        left = Counter(w for s in words[max(0, i - window):i] for w in s)
        right = Counter(w for s in words[i:i + window] for w in s)
        out.append(cosine(left, right))
    return out


def boundaries(sentences: list[Sentence], words: list[list[str]], cue_hits: set[int],
               window: int = 4, min_sentences: int = 5) -> list[int]:
    """Indexes of the sentences that open a chapter (0 always does)."""
    n = len(sentences)
    if n < 2 * min_sentences:
        return [0] + sorted(i for i in cue_hits if 0 < i < n)
    scores = gap_scores(words, window)
    d = _local_depths(scores, window)
    cutoff = statistics.mean(d) + 0.5 * statistics.pstdev(d) if d else 1.0
    chosen = sorted(set(cue_hits) | {i + 1 for i, v in enumerate(d) if v > cutoff and v > 0.1})
    out = [0]
    for i in chosen:
        if i <= 0 or i >= n:
            continue
        if i - out[-1] >= min_sentences or i in cue_hits:
            if i in cue_hits and i - out[-1] < min_sentences and out[-1] not in cue_hits \
                    and out[-1] != 0:
                out[-1] = i  # an agenda phrase beats a nearby lexical guess
            else:
                out.append(i)
    return out


def _local_depths(scores: list[float], window: int) -> list[float]:
    """Depth of each gap against the peaks within a few gaps (TextTiling's hill climb)."""
    out = []
    for i, s in enumerate(scores):
        lo, hi = max(0, i - 2 * window), min(len(scores), i + 2 * window + 1)
        out.append((max(scores[lo:i + 1]) - s) + (max(scores[i:hi]) - s))
    return out
