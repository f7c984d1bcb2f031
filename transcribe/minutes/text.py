"""Text helpers shared by the detectors: normalisation, words, numbers."""

from __future__ import annotations

import re
from typing import Any

_CJK = "\u3400-\u9fff\uf900-\ufaff"
_CJK_GAP = re.compile(rf"(?<=[{_CJK}])\s+(?=[{_CJK}0-9])|(?<=[{_CJK}0-9])\s+(?=[{_CJK}])")
_SPACES = re.compile(r"\s+")
_WORD = re.compile(r"[a-z0-9]+(?:['’][a-z]+)?")
_CJK_CHAR = re.compile(rf"[{_CJK}]")

ZH_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6,
             "七": 7, "八": 8, "九": 9}
EN_NUMBERS = {"a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6,
              "seven": 7, "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12,
              "thirteen": 13, "fourteen": 14, "fifteen": 15, "sixteen": 16, "seventeen": 17,
              "eighteen": 18, "nineteen": 19, "twenty": 20, "thirty": 30, "forty": 40,
              "fifty": 50, "a couple": 2, "a couple of": 2, "couple": 2, "a few": 3, "few": 3}
EN_ORDINALS = {"first": 1, "second": 2, "third": 3, "fourth": 4, "fifth": 5, "sixth": 6,
               "seventh": 7, "eighth": 8, "ninth": 9, "tenth": 10, "eleventh": 11,
               "twelfth": 12, "thirteenth": 13, "fourteenth": 14, "fifteenth": 15,
               "sixteenth": 16, "seventeenth": 17, "eighteenth": 18, "nineteenth": 19,
               "twentieth": 20, "thirtieth": 30}


def normalise(text: str) -> str:
    """Lower-case, one space between words, no spaces between Chinese characters.

    Vosk's Chinese models put a space between every token ("张 伟 负责"); punctuated
    transcripts do not. Matching the same rules on both needs one form."""
    text = text.replace("’", "'").replace("\u3000", " ").lower()
    text = _SPACES.sub(" ", text).strip()
    return _CJK_GAP.sub("", text)


def has_cjk(text: str) -> bool:
    return _CJK_CHAR.search(text) is not None


def latin_words(text: str) -> list[str]:
    return _WORD.findall(text.lower())


def parse_number(text: str | None) -> int | None:
    """An integer from digits, Chinese numerals (十五, 二十三, 两) or English words."""
    if not text:
        return None
    text = text.strip().lower().replace("-", " ")
    if text.isdigit():
        return int(text)
    digits = re.match(r"(\d+)(?:st|nd|rd|th)?$", text)
    if digits:
        return int(digits.group(1))
    if text in EN_NUMBERS:
        return EN_NUMBERS[text]
    if text in EN_ORDINALS:
        return EN_ORDINALS[text]
    parts = text.split()
    if len(parts) == 2 and parts[0] in EN_NUMBERS and (parts[1] in EN_NUMBERS
                                                       or parts[1] in EN_ORDINALS):
        return EN_NUMBERS[parts[0]] + EN_NUMBERS.get(parts[1], EN_ORDINALS.get(parts[1], 0))
    return _zh_number(text)


def _zh_number(text: str) -> int | None:
    if not text or any(c not in ZH_DIGITS and c not in "十百" for c in text):
        return None
    total, current = 0, 0
    for char in text:
        if char == "百":
            total += (current or 1) * 100
            current = 0
        elif char == "十":
            total += (current or 1) * 10
            current = 0
        else:
            current = current * 10 + ZH_DIGITS[char] if current else ZH_DIGITS[char]
    return total + current


def clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def as_str(value: Any, default: str = "") -> str:
    return value if isinstance(value, str) else default
