"""The general mechanisms that find items phrased in ways no rule lists: a dated task with
no owner cue, a deferral or rejection, the chair's directive answer to a question, and a
weekday said on that same weekday with a later time of day. Each case runs on punctuated
text and as a recogniser gives it."""

from __future__ import annotations

from datetime import datetime

import pytest
from minutes_samples import asr_text
from test_minutes_rules import _actions, _decisions

from transcribe.minutes.deadlines import find_deadline
from transcribe.minutes.text import normalise
from transcribe.minutes.rules import RuleBook

FORMS = ["punctuated", "recogniser"]


def _form(text: str, lang: str, form: str) -> str:
    return text if form == "punctuated" else asr_text(text, lang)


def _both(lang: str, turns: list[tuple[str, str]], form: str) -> list[tuple[str, str]]:
    return [(who, _form(text, lang, form)) for who, text in turns]


@pytest.mark.parametrize("form", FORMS)
def test_a_dated_task_answered_by_an_acknowledgement_belongs_to_who_acknowledged(form):
    # (the opening turn is the agenda, never an action by itself)
    turns = [("周立新", "东门桥有裂缝。"), ("周立新", "要，下周三之前把专家请来开论证会。"),
             ("孙卫东", "明白。")]
    assert [a[:2] + (a[2][:10],) for a in _actions("zh", _both("zh", turns, form))] == \
        [("s1", "孙卫东", "2026-12-09")]
    turns = [("Laura Chen", "Wellness checks matter."),
             ("Laura Chen", "The registry calls have to start by tomorrow morning."),
             ("Rachel Green", "Sure.")]
    assert [a[:2] + (a[2][:10],) for a in _actions("en", _both("en", turns, form))] == \
        [("s1", "Rachel Green", "2026-12-04")]


@pytest.mark.parametrize("form", FORMS)
def test_a_dated_task_for_ones_own_side_belongs_to_the_speaker(form):
    turns = [("周立新", "东门桥限行。"), ("郑凯", "限行牌子和绕行指示，交通这边明天上午挂好。")]
    assert [a[:2] for a in _actions("zh", _both("zh", turns, form))] == [("s1", "郑凯")]


@pytest.mark.parametrize("form", FORMS)
def test_a_dated_sentence_nobody_owns_or_a_condition_is_no_action(form):
    turns = [("Laura Chen", "The schedule has to be posted by Friday."),
             ("Sam Ortiz", "The buses on the long route are old and we lack drivers for them.")]
    assert _actions("en", _both("en", turns, form)) == []
    turns = [("Laura Chen", "If the advisory is extended we review the list by Friday."),
             ("Sam Ortiz", "Sure.")]
    assert _actions("en", _both("en", turns, form)) == []
    turns = [("周立新", "演练原计划下周三搞，我建议推迟一周。"), ("孙卫东", "可以。")]
    assert all(a[1] != "孙卫东" for a in _actions("zh", _both("zh", turns, form)))


@pytest.mark.parametrize("form", FORMS)
def test_deferrals_and_rejections_are_decisions(form):
    assert _decisions("zh", [("周", _form("至于拆除重建，先不考虑，等检测结果出来再说。", "zh", form))]) == ["s0"]
    assert _decisions("en", [("Laura", _form("Not this week, we don't have staff for it.", "en", form))]) \
        == ["s0"]
    assert _decisions("zh", [("周", _form("这个事情暂不决定，下次再议。", "zh", form))]) == []


@pytest.mark.parametrize("form", FORMS)
def test_the_chairs_directive_answer_to_a_question_is_a_decision(form):
    turns = [("周立新", "今天说老城区几座桥的排查。"), ("马晓丽", "其他四座桥呢？"),
             ("周立新", "钱不是问题，检测要做。"), ("周立新", "就这样。")]
    assert "s2" in _decisions("zh", _both("zh", turns, form))
    # the same words from someone who does not chair settle nothing
    turns = [("周立新", "今天说桥。"), ("周立新", "其他四座桥呢？"), ("马晓丽", "检测要做。")]
    assert "s2" not in _decisions("zh", _both("zh", turns, form))


def test_a_weekday_said_on_that_weekday_with_a_later_hour_is_today():
    rules = RuleBook().get("en")
    thursday_morning = datetime.fromisoformat("2026-12-03T08:00:00-05:00")
    found = find_deadline(normalise("posted by thursday evening"), rules, thursday_morning)
    assert found is not None and found.when.date().isoformat() == "2026-12-03"
    found = find_deadline(normalise("posted by thursday"), rules, thursday_morning)
    assert found is not None and found.when.date().isoformat() == "2026-12-10"


@pytest.mark.parametrize("form", FORMS)
def test_we_is_the_speakers_unit_unless_the_chair_says_it(form):
    turns = [("陈国华", "今天碰一下处置。"), ("陈国华", "三四年级停课三天。"),
             ("蒋涛", "消毒的话，我们后勤今晚就把教室和食堂全部消一遍。")]
    assert [a[:2] for a in _actions("zh", _both("zh", turns, form))] == [("s2", "蒋涛")]
    turns = [("陈国华", "今天碰一下处置。"), ("蒋涛", "教室要消毒。"),
             ("陈国华", "我们今晚就把教室全部消一遍。")]
    assert _actions("zh", _both("zh", turns, form)) == []


@pytest.mark.parametrize("form", FORMS)
def test_a_named_person_outweighs_a_decision_cue_in_a_dated_task(form):
    turns = [("Olivia Park", "Let's review the failure."),
             ("Tom Reyes", "I'll need budget for the extra shifts."),
             ("Olivia Park", "Approved. Karen, the firmware on every controller needs updating "
                             "by Friday."), ("Karen Wu", "Got it.")]
    owners = {a[1] for a in _actions("en", _both("en", turns, form), ["Karen Wu"])}
    assert "Karen Wu" in owners
