"""Minutes quality on the sample meetings (tests/transcribe/samples, gold labels inside):
decision recall and action-item recall (owner and deadline must both be right) of at least
0.8 on every meeting, punctuated and as a recogniser gives it (lower case, no punctuation,
Chinese as space-separated tokens). Precision is reported and held to a floor."""

from __future__ import annotations

import pytest
from minutes_samples import asr_form, load, request_body, sample_names, score

from transcribe.minutes.build import build_minutes
from transcribe.minutes.model import parse_transcript
from transcribe.minutes.rules import RuleBook

BOOK = RuleBook()
FORMS = {"punctuated": lambda s: s, "recogniser": asr_form}


def _minutes(sample: dict) -> dict:
    return build_minutes(parse_transcript(request_body(sample), 10000),
                         BOOK.get(sample["language"]))


def test_there_are_chinese_and_english_samples():
    names = sample_names()
    assert sum(n.startswith("zh_") for n in names) >= 3
    assert sum(n.startswith("en_") for n in names) >= 3


@pytest.mark.parametrize("form", FORMS)
@pytest.mark.parametrize("name", sample_names())
def test_recall_on_sample_meetings(name: str, form: str):
    gold = load(name)
    result = score(gold, _minutes(FORMS[form](gold)))
    assert result["decision_recall"] >= 0.8, result["missed_decisions"]
    assert result["action_recall"] >= 0.8, result["missed_actions"]
    assert result["decision_precision"] >= 0.5 and result["action_precision"] >= 0.5, result


def test_recall_over_all_samples_and_forms():
    hits = {"d": 0, "a": 0}
    total = {"d": 0, "a": 0}
    for name in sample_names():
        gold = load(name)
        for make in FORMS.values():
            result = score(gold, _minutes(make(gold)))
            total["d"] += len(gold["gold"]["decisions"])
            total["a"] += len(gold["gold"]["actions"])
            hits["d"] += len(gold["gold"]["decisions"]) - len(result["missed_decisions"])
            hits["a"] += len(gold["gold"]["actions"]) - len(result["missed_actions"])
    assert hits["d"] / total["d"] >= 0.9 and hits["a"] / total["a"] >= 0.9, (hits, total)


@pytest.mark.parametrize("name", sample_names())
def test_keywords_name_the_topics(name: str):
    gold = load(name)
    words = [k["word"] for k in _minutes(asr_form(gold))["keywords"]]
    wanted = gold["gold"]["keywords"]
    assert sum(any(w in k for k in words) for w in wanted) >= len(wanted) - 1, words
