"""Every deadline expression the rules know, resolved against a meeting on Thursday
2026-12-03 10:00 (+08:00), in punctuated and recogniser form."""

from __future__ import annotations

from datetime import datetime

import pytest
from minutes_samples import asr_text

from transcribe.minutes.deadlines import find_deadline
from transcribe.minutes.rules import RuleBook
from transcribe.minutes.text import normalise

MEETING = datetime.fromisoformat("2026-12-03T10:00:00+08:00")  # a Thursday
BOOK = RuleBook()

ZH = [
    ("请李娜明天上午九点前提交", "明天上午九点前", "2026-12-04T09:00"),
    ("张伟负责下周五前完成", "下周五前", "2026-12-11T23:59"),
    ("周五前完成", "周五前", "2026-12-04T23:59"),
    ("本周五下午", "本周五下午", "2026-12-04T18:00"),
    ("这周三之前", "这周三之前", "2026-12-09T23:59"),
    ("下周一上午十点开会前", "下周一上午十点", "2026-12-07T10:00"),
    ("本月底前上报", "本月底前", "2026-12-31T23:59"),
    ("下个月底之前", "下个月底之前", "2027-01-31T23:59"),
    ("三天内完成", "三天内", "2026-12-06T23:59"),
    ("两个工作日内答复", "两个工作日内", "2026-12-07T23:59"),
    ("二十四小时内", "二十四小时内", "2026-12-04T10:00"),
    ("今天下午三点半之前", "今天下午三点半之前", "2026-12-03T15:30"),
    ("今晚八点前发到群里", "今晚八点前", "2026-12-03T20:00"),
    ("明天下班前", "明天下班前", "2026-12-04T18:00"),
    ("今天下班前", "今天下班前", "2026-12-03T18:00"),
    ("十二月十号前", "十二月十号前", "2026-12-10T23:59"),
    ("15号之前", "15号之前", "2026-12-15T23:59"),
    ("本周内", "本周内", "2026-12-04T23:59"),
    ("后天", "后天", "2026-12-05T23:59"),
    ("中午前", "中午前", "2026-12-03T12:00"),
    ("下午五点前", "下午五点前", "2026-12-03T17:00"),
    ("年底前", "年底前", "2026-12-31T23:59"),
    ("下个月五号之前", "下个月五号之前", "2027-01-05T23:59"),
    ("半个月内", "半个月内", "2026-12-18T23:59"),
    ("元旦前", "元旦前", "2026-12-31T23:59"),
    ("12月8号下午3点前", "12月8号下午3点前", "2026-12-08T15:00"),
    ("今晚十二点前", "今晚十二点前", "2026-12-03T23:59"),
    ("月中之前", "月中之前", "2026-12-15T23:59"),
]

EN = [
    ("tom will send the report by friday", "by friday", "2026-12-04T23:59"),
    ("tomorrow at 9am", "tomorrow at 9am", "2026-12-04T09:00"),
    ("by tomorrow at nine a m", "by tomorrow at nine a m", "2026-12-04T09:00"),
    ("end of next week", "end of next week", "2026-12-11T23:59"),
    ("within two days", "within two days", "2026-12-05T23:59"),
    ("in a couple of days", "in a couple of days", "2026-12-05T23:59"),
    ("within 3 business days", "within 3 business days", "2026-12-08T23:59"),
    ("within two hours", "within two hours", "2026-12-03T12:00"),
    ("by 3pm", "by 3pm", "2026-12-03T15:00"),
    ("by noon tomorrow", "by noon tomorrow", "2026-12-04T12:00"),
    ("before 5 pm tomorrow", "before 5 pm tomorrow", "2026-12-04T17:00"),
    ("next monday", "next monday", "2026-12-07T23:59"),
    ("this friday afternoon", "this friday afternoon", "2026-12-04T18:00"),
    ("by next tuesday at 10:30", "by next tuesday at 10:30", "2026-12-08T10:30"),
    ("on december 5th", "on december 5th", "2026-12-05T23:59"),
    ("by the 10th of december", "by the 10th of december", "2026-12-10T23:59"),
    ("by end of day", "by end of day", "2026-12-03T23:59"),
    ("by the end of the month", "by the end of the month", "2026-12-31T23:59"),
    ("before six this evening", "before six this evening", "2026-12-03T18:00"),
    ("i'll send them over by four", "by four", "2026-12-03T16:00"),
    ("report back at wednesday's briefing", "at wednesday", "2026-12-09T23:59"),
    ("no later than the 20th", "no later than the 20th", "2026-12-20T23:59"),
    ("by the twentieth", "by the twentieth", "2026-12-20T23:59"),
    ("by cob friday", "by cob friday", "2026-12-04T18:00"),
    ("eod tomorrow", "eod tomorrow", "2026-12-04T23:59"),
    ("before noon on friday", "before noon on friday", "2026-12-04T12:00"),
    ("by 5:00 pm friday", "by 5:00 pm friday", "2026-12-04T17:00"),
    ("in the next hour", "in the next hour", "2026-12-03T11:00"),
    ("within a fortnight", "within a fortnight", "2026-12-17T23:59"),
    ("by close of play friday", "by close of play friday", "2026-12-04T18:00"),
    ("within 48 hours", "within 48 hours", "2026-12-05T10:00"),
    ("within fifteen minutes", "within fifteen minutes", "2026-12-03T10:15"),
]


@pytest.mark.parametrize("text,said,when", ZH)
def test_chinese_deadlines(text: str, said: str, when: str) -> None:
    for form in (text, asr_text(text, "zh")):  # as written, and as vosk gives it
        found = find_deadline(normalise(form), BOOK.get("zh"), MEETING)
        assert found is not None, form
        assert (found.text, found.when.isoformat()[:16]) == (said, when)


@pytest.mark.parametrize("text,said,when", EN)
def test_english_deadlines(text: str, said: str, when: str) -> None:
    found = find_deadline(normalise(text), BOOK.get("en"), MEETING)
    assert found is not None, text
    assert (found.text, found.when.isoformat()[:16]) == (said, when)
    assert found.when.tzinfo == MEETING.tzinfo


@pytest.mark.parametrize("text", ["one by one", "we have two options", "divide by two people",
                                  "the deal was good"])
def test_english_non_deadlines(text: str) -> None:
    assert find_deadline(normalise(text), BOOK.get("en"), MEETING) is None


def test_has_time_only_when_said() -> None:
    zh = BOOK.get("zh")
    assert find_deadline("周五前", zh, MEETING).has_time is False
    assert find_deadline("周五下午三点前", zh, MEETING).has_time is True


def test_korean_rules_file_adds_a_language() -> None:
    found = find_deadline("김민수 씨가 금요일까지 준비합니다", BOOK.get("ko"), MEETING)
    assert found is not None and found.when.isoformat()[:10] == "2026-12-04"


def test_a_time_already_past_today_means_tomorrow() -> None:
    found = find_deadline("九点前", BOOK.get("zh"), MEETING)
    assert found is not None and found.when.isoformat()[:16] == "2026-12-04T09:00"
