"""Word search across transcripts: tokens (jieba for Chinese, words otherwise) -> postings.

Each final segment adds `{room_id}/{segment_id}` to the sorted set of every token it holds
(score: its wall-clock start), so a query is a few ZRANGEs and an intersection. jieba loads
its dictionary on first use (about a second): call these from an executor thread."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable

import jieba

# A token worth indexing has a letter, digit or CJK/Hangul character.
_WORDISH = re.compile(r"\w", re.UNICODE)
_HAN = re.compile(r"[\u3400-\u9fff]")
_jieba_lock = threading.Lock()  # jieba's lazy initialisation is not thread-safe
jieba.setLogLevel(60)


def tokenize(text: str) -> list[str]:
    """Distinct lower-case tokens of `text`, in order: Chinese runs cut by jieba (search
    mode, so 会议室 also yields 会议), everything else split on spaces and punctuation."""
    seen: dict[str, None] = {}
    for chunk in text.lower().split():
        pieces: Iterable[str]
        if _HAN.search(chunk):
            with _jieba_lock:
                pieces = list(jieba.cut_for_search(chunk))
        else:
            pieces = re.split(r"[^\w]+", chunk)
        for piece in pieces:
            piece = piece.strip()
            if piece and _WORDISH.search(piece):
                seen.setdefault(piece, None)
    return list(seen)


def warm_up() -> None:
    """Load jieba's dictionary now rather than on the first segment or query."""
    tokenize("预热")
