"""Sample meetings with gold labels (tests/transcribe/samples/*.json) and their scoring.

`asr_form` turns a punctuated sample into what a recogniser gives: lower case, no
punctuation, numbers as words, and for Chinese space-separated jieba tokens (vosk style)."""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path
from typing import Any

SAMPLES = Path(__file__).with_name("samples")
_PUNCT = re.compile(r"[，。！？；：、“”‘’（）《》,.!?;:\"()\[\]…—-]+")
_EN_NUMBERS = {"10": "ten", "12": "twelve", "6": "six", "9": "nine", "3": "three", "5": "five"}


def sample_names() -> list[str]:
    return sorted(p.stem for p in SAMPLES.glob("*.json"))


def load(name: str) -> dict[str, Any]:
    return json.loads((SAMPLES / f"{name}.json").read_text(encoding="utf-8"))


def asr_text(text: str, language: str) -> str:
    if language == "zh":
        import jieba
        words = [w for w in jieba.cut(_PUNCT.sub(" ", text)) if w.strip()]
        return " ".join(words).lower()
    text = text.replace("p.m.", "p m").replace("a.m.", "a m")
    text = _PUNCT.sub(" ", text.replace("'", "'")).lower()
    return " ".join(_EN_NUMBERS.get(w, w) for w in text.split())


def asr_form(sample: dict[str, Any]) -> dict[str, Any]:
    out = copy.deepcopy(sample)
    for seg in out["segments"]:
        seg["text"] = asr_text(seg["text"], sample["language"])
    return out


def request_body(sample: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in sample.items() if k != "gold"}


def _decision_hit(gold: dict[str, Any], decisions: list[dict[str, Any]]) -> bool:
    want = set(gold["segments"])
    return any(d["segment_id"] in want or d.get("confirmed_by", {}).get("segment_id") in want
               for d in decisions)


def _action_hit(gold: dict[str, Any], actions: list[dict[str, Any]]) -> bool:
    want = set(gold.get("segments") or [gold["segment"]])
    for a in actions:
        owners = {gold["owner"], *gold.get("alt_owners", [])}  # either is a right answer
        if a["segment_id"] not in want or a["owner"] not in owners:
            continue
        if a["deadline_date"] != gold.get("deadline_date"):
            continue
        if "deadline_time" in gold and not (a["deadline"] or "").startswith(
                f"{gold['deadline_date']}T{gold['deadline_time']}"):
            continue
        return True
    return False


def score(sample: dict[str, Any], minutes: dict[str, Any]) -> dict[str, Any]:
    """Recall and precision of decisions and action items (owner and deadline must match)."""
    gold = sample["gold"]
    d_hits = [g for g in gold["decisions"] if _decision_hit(g, minutes["decisions"])]
    a_hits = [g for g in gold["actions"] if _action_hit(g, minutes["action_items"])]
    gold_d = {s for g in gold["decisions"] for s in g["segments"]}
    gold_a = {s for g in gold["actions"] for s in (g.get("segments") or [g["segment"]])}
    d_ok = [d for d in minutes["decisions"] if d["segment_id"] in gold_d
            or d.get("confirmed_by", {}).get("segment_id") in gold_d]
    a_ok = [a for a in minutes["action_items"] if a["segment_id"] in gold_a]
    return {
        "decision_recall": len(d_hits) / len(gold["decisions"]),
        "action_recall": len(a_hits) / len(gold["actions"]),
        "decision_precision": len(d_ok) / max(1, len(minutes["decisions"])),
        "action_precision": len(a_ok) / max(1, len(minutes["action_items"])),
        "missed_decisions": [g for g in gold["decisions"] if g not in d_hits],
        "missed_actions": [g for g in gold["actions"] if g not in a_hits],
    }
