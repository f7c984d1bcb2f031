"""Keywords: TF-IDF of content words. Chinese uses jieba's shipped IDF table (the corpus
statistics of `jieba.analyse`); English, which has no shipped table, uses the meeting's own
sentences as the documents, so words spread through the whole meeting rank by frequency and
words bunched in a few sentences are not punished too much (log-scaled)."""

from __future__ import annotations

import math
from collections import Counter
from typing import Any

from transcribe.minutes.rules import Rules


def keywords(words: list[list[str]], rules: Rules, limit: int) -> list[dict[str, Any]]:
    tf = Counter(w for sentence in words for w in sentence)
    if not tf:
        return []
    idf = _jieba_idf() if rules.value("tokenizer", "") == "jieba" else None
    if idf is not None:
        table, median = idf
        score = {w: c * table.get(w, median) for w, c in tf.items()}
    else:
        n = len(words)
        df = Counter(w for sentence in words for w in set(sentence))
        score = {w: c * (1.0 + math.log((1 + n) / (1 + df[w]))) for w, c in tf.items()
                 if c >= 2 or n < 10}
    best = sorted(score, key=lambda w: (-score[w], w))[:limit]
    top = score[best[0]] if best else 1.0
    return [{"word": w, "score": round(score[w] / top, 3), "count": tf[w]} for w in best]


def _jieba_idf() -> tuple[dict[str, float], float] | None:
    try:
        from jieba.analyse.tfidf import IDFLoader, DEFAULT_IDF
    except ImportError:  # pragma: no cover - jieba is a declared dependency
        return None
    loader = IDFLoader(DEFAULT_IDF)
    return loader.idf_freq, loader.median_idf
