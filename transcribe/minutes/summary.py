"""Extractive summary: TextRank over sentences (PageRank on a graph whose edges are shared
content words), the best few kept in the order they were said."""

from __future__ import annotations

import math

from transcribe.minutes.sentences import Sentence


def similarity(a: set[str], b: set[str]) -> float:
    """TextRank's overlap measure, normalised by sentence length (log) so long ones do not win."""
    common = len(a & b)
    if common == 0 or len(a) < 2 or len(b) < 2:
        return 0.0
    return common / (math.log(len(a)) + math.log(len(b)))


def textrank(words: list[set[str]], damping: float = 0.85, rounds: int = 40) -> list[float]:
    n = len(words)
    weights = [[similarity(words[i], words[j]) if i != j else 0.0 for j in range(n)]
               for i in range(n)]
    totals = [sum(row) for row in weights]
    score = [1.0] * n
    for _ in range(rounds):
        score = [(1 - damping) + damping * sum(weights[j][i] / totals[j] * score[j]
                                               for j in range(n) if totals[j] and weights[j][i])
                 for i in range(n)]
    return score


def summarise(sentences: list[Sentence], words: list[set[str]], limit: int,
              max_window: int = 400) -> list[Sentence]:
    """The `limit` most central sentences, in meeting order.

    The graph is O(n²): long meetings are ranked in windows of `max_window` sentences and the
    best of each window compete at the end."""
    candidates = [i for i, w in enumerate(words) if len(w) >= 3]
    while len(candidates) > max_window:
        kept: list[int] = []
        for start in range(0, len(candidates), max_window):
            window = candidates[start:start + max_window]
            scores = textrank([words[i] for i in window])
            best = sorted(range(len(window)), key=lambda k: -scores[k])[: max(limit, 20)]
            kept += [window[k] for k in sorted(best)]
        candidates = kept
    scores = textrank([words[i] for i in candidates])
    best = sorted(range(len(candidates)), key=lambda k: -scores[k])[:limit]
    return [sentences[candidates[k]] for k in sorted(best)]
