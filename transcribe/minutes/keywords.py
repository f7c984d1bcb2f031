"""Keywords: TF-IDF of content words. Chinese uses jieba's shipped IDF table (the corpus
statistics of `jieba.analyse`, loaded once per Tokenizer); English, which has no shipped table, uses the meeting's own
sentences as the documents, so words spread through the whole meeting rank by frequency and
words bunched in a few sentences are not punished too much (log-scaled)."""

from __future__ import annotations

import math
from collections import Counter
from typing import Any

from transcribe.minutes.rules import Rules


def keywords(words: list[list[str]], rules: Rules, limit: int,
             skip: frozenset[str] = frozenset()) -> list[dict[str, Any]]:
    """`skip`: words that are no topic here (the attendees' names)."""
    words = [[w for w in sentence if w not in skip] for sentence in words]
    if rules.value("tokenizer", "") != "jieba":
        words = _merge_plurals(words)
    tf = Counter(w for sentence in words for w in sentence)
    if not tf:
        return []
    idf = rules.tokenizer.idf() if rules.value("tokenizer", "") == "jieba" else None
    if idf is not None:
        table, median = idf
        score = {w: c * table.get(w, median) for w, c in tf.items()}
    else:
        n = len(words)
        df = Counter(w for sentence in words for w in set(sentence))
        # Without corpus statistics, longer words are the likelier topic words ("sandbags"
        # over "door"): a small length factor breaks the many ties of short meetings.
        score = {w: c * (1.0 + math.log((1 + n) / (1 + df[w]))) * (1 + 0.05 * min(len(w), 12))
                 for w, c in tf.items() if c >= 2 or n < 10}
    best = sorted(score, key=lambda w: (-score[w], w))[:limit]
    top = score[best[0]] if best else 1.0
    return [{"word": w, "score": round(score[w] / top, 3), "count": tf[w]} for w in best]


def _merge_plurals(words: list[list[str]]) -> list[list[str]]:
    """"centers" and "center" count as one word (the singular), when both are said."""
    said = {w for sentence in words for w in sentence}
    def one(w: str) -> str:
        return w[:-1] if w.endswith("s") and not w.endswith("ss") and w[:-1] in said else w
    return [[one(w) for w in sentence] for sentence in words]
