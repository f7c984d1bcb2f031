"""Words of a sentence for the statistics (summary, keywords, chapters) and for finding owners:
jieba for Chinese (its dictionary ships in the wheel; no download), letters for English."""

from __future__ import annotations

import logging
import threading
from typing import Any

from transcribe.minutes.text import latin_words

_CONTENT_FLAGS = ("n", "v", "a", "i", "l", "j", "eng", "vn", "nz", "nr", "ns", "nt", "t")


class Tokenizer:
    """One per language; jieba's dictionary (~0.6 s to load) is loaded on first use."""

    def __init__(self, kind: str, words: tuple[str, ...] = ()) -> None:
        self.kind = kind
        self.words = words  # extra dictionary words (organisations), tagged "nt"
        self._pos: Any = None
        self._idf: tuple[dict[str, float], float] | None = None
        self._lock = threading.Lock()

    def _jieba(self) -> Any:
        with self._lock:
            if self._pos is None:
                import jieba
                import jieba.posseg
                jieba.setLogLevel(logging.WARNING)
                tokenizer = jieba.Tokenizer()
                for word in self.words:
                    tokenizer.add_word(word, tag="nt")
                self._pos = jieba.posseg.POSTokenizer(tokenizer)
            return self._pos

    def idf(self) -> tuple[dict[str, float], float] | None:
        """jieba's IDF table and its median (for unseen words); ~1 s to read, so once."""
        if self.kind != "jieba":
            return None
        with self._lock:
            if self._idf is None:
                from jieba.analyse.tfidf import DEFAULT_IDF, IDFLoader
                loader = IDFLoader(DEFAULT_IDF)
                self._idf = (loader.idf_freq, loader.median_idf)
            return self._idf

    def tagged(self, text: str) -> list[tuple[str, str]]:
        """(word, part of speech) pairs; English words are tagged "x"."""
        if self.kind != "jieba":
            return [(w, "x") for w in latin_words(text)]
        return [(p.word, p.flag) for p in self._jieba().cut(text) if p.word.strip()]

    def content_words(self, text: str, stopwords: frozenset[str]) -> list[str]:
        """Words that carry meaning: no stopwords, no single Chinese characters, no digits."""
        if self.kind != "jieba":
            return [w for w in latin_words(text)
                    if len(w) > 2 and w not in stopwords and not w.isdigit()]
        return [w for w, flag in self.tagged(text)
                if len(w) > 1 and w not in stopwords and flag.startswith(_CONTENT_FLAGS)
                and not w.isdigit()]
