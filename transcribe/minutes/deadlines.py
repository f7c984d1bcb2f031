"""Deadlines said in a sentence ("明天上午九点", "下周五前", "by Friday", "within two days"),
found with the language's `[deadline]` patterns and resolved against the meeting date.

The patterns capture named groups with fixed meanings (day, week, weekday, anchor, num, unit,
month/monthname, mday, period/tperiod, hour, minute/minute_w, half); this module resolves any
combination of them, so a language only supplies words and patterns."""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from transcribe.minutes.rules import Rules
from transcribe.minutes.text import parse_number

END_OF_DAY = time(23, 59)
WORK_DAY_END = time(18, 0)


@dataclass(frozen=True)
class Deadline:
    text: str  # as said (from the normalised sentence)
    when: datetime
    has_time: bool
    start: int  # span in the sentence
    end: int

    def to_json(self) -> dict[str, Any]:
        return {"deadline": self.when.isoformat(timespec="minutes" if self.when.second == 0
                                               else "seconds"),
                "deadline_date": self.when.date().isoformat(),
                "deadline_has_time": self.has_time, "deadline_text": self.text}


def find_deadlines(sentence: str, rules: Rules, meeting: datetime) -> list[Deadline]:
    """Every deadline expression in `sentence` (already normalised), resolved, in order;
    where matches overlap the longest wins."""
    found: list[re.Match[str]] = []
    for pattern in rules.deadline_patterns:
        found += [m for m in pattern.finditer(sentence) if m.group(0).strip()]
    found.sort(key=lambda m: (-(m.end() - m.start()), m.start()))
    taken: list[Deadline] = []
    for match in found:
        if any(match.start() < d.end and d.start < match.end() for d in taken):
            continue
        resolved = resolve(match.groupdict(), rules, meeting)
        if resolved is not None:
            taken.append(Deadline(match.group(0).strip(), resolved[0], resolved[1],
                                  match.start(), match.end()))
    return sorted(taken, key=lambda d: d.start)


def find_deadline(sentence: str, rules: Rules, meeting: datetime) -> Deadline | None:
    """The longest deadline expression in `sentence`."""
    found = find_deadlines(sentence, rules, meeting)
    return max(found, key=lambda d: (d.end - d.start, -d.start)) if found else None


def last_deadline(sentence: str, rules: Rules, meeting: datetime) -> Deadline | None:
    """The latest point in time said: "draft it tonight, ready tomorrow morning" is due
    tomorrow morning."""
    found = find_deadlines(sentence, rules, meeting)
    return max(found, key=lambda d: (d.when, d.end - d.start)) if found else None


def resolve(groups: dict[str, str | None], rules: Rules,
            meeting: datetime) -> tuple[datetime, bool] | None:
    """A datetime for the captured groups, or None when they name no point in time."""
    table = rules.table("deadline")
    g = {k: v for k, v in groups.items() if v}
    today = meeting.date()
    day: date | None = None
    at: time | None = None
    if "anchor" in g:
        day, at = _anchor(str(table.get("anchors", {}).get(g["anchor"], "")), today)
        if day is None and at is None:
            return None
    if "holiday" in g:
        day = _holiday(str(table.get("holidays", {}).get(g["holiday"], "")), table, today)
        if day is None:
            return None
    if "day" in g:
        day = today + timedelta(days=int(table.get("relative_days", {}).get(g["day"], 0)))
        implied = table.get("day_periods", {}).get(g["day"])
        if implied and "period" not in g:
            g["period"] = implied
    if "weekday" in g:
        day = _weekday(g, table, today)
    if "unit" in g:  # "三天内", "within two days", "in the next hour" (one)
        unit = str(table.get("units", {}).get(g["unit"], "day"))
        amount = parse_number(g.get("num")) or 1
        moment = _after(meeting, amount, unit)
        return moment, unit in ("hour", "minute")
    if "mday" in g:
        day = _month_day(g, table, today)
        if day is None:
            return None
    clock = _clock(g, table)
    if clock is not None:
        at = clock
    if "weekday" in g and "week" not in g and day == today + timedelta(days=7) \
            and at is not None and at > meeting.time().replace(tzinfo=None):
        day = today  # "by Tuesday evening" said on Tuesday morning: this evening
    if day is None:
        if at is None:
            return None
        # A time alone ("九点前", "by 3pm") is today's, or tomorrow's once it has passed;
        # in an evening meeting a small hour is tonight's ("十一点前" said at 20:00 = 23:00).
        now = meeting.time().replace(tzinfo=None)
        if at <= now and meeting.hour >= 17 and at.hour < 12 and "tperiod" not in g \
                and "tperiod2" not in g and "period" not in g and time(at.hour + 12, at.minute) > now:
            at = time(at.hour + 12, at.minute)
        day = today if at > now else today + timedelta(days=1)
    has_time = at is not None
    return datetime.combine(day, at or END_OF_DAY, tzinfo=meeting.tzinfo), has_time


def _anchor(kind: str, today: date) -> tuple[date | None, time | None]:
    week_start = today - timedelta(days=today.weekday())
    month_end = date(today.year, today.month, calendar.monthrange(today.year, today.month)[1])
    next_month_start = month_end + timedelta(days=1)
    if kind == "end_of_day":
        return today, None
    if kind == "end_of_work_day":
        return today, WORK_DAY_END
    if kind == "noon":
        return None, time(12, 0)
    if kind == "half_month":
        return today + timedelta(days=15), None
    if kind == "mid_month":
        mid = today.replace(day=15)
        return (mid if mid >= today else (month_end + timedelta(days=15))), None
    if kind == "end_of_week":
        return week_start + timedelta(days=4), None
    if kind == "weekend":
        return week_start + timedelta(days=6), None
    if kind == "end_of_next_week":
        return week_start + timedelta(days=11), None
    if kind == "end_of_month":
        return month_end, None
    if kind == "start_of_next_month":
        return next_month_start + timedelta(days=4), None
    if kind == "end_of_next_month":
        last = calendar.monthrange(next_month_start.year, next_month_start.month)[1]
        return next_month_start.replace(day=last), None
    if kind == "end_of_year":
        return date(today.year, 12, 31), None
    if kind == "end_of_quarter":
        month = ((today.month - 1) // 3 + 1) * 3
        return date(today.year, month, calendar.monthrange(today.year, month)[1]), None
    return None, None


def _holiday(name: str, table: dict[str, Any], today: date) -> date | None:
    """The day before the next holiday called `name` ("春节前"): from chinese_calendar,
    else the rules' `holiday_dates` (lunar) or `fixed_holidays` (solar)."""
    fixed = table.get("fixed_holidays", {})
    listed = sorted(date.fromisoformat(str(t)) for t in table.get("holiday_dates", {}).get(name, []))
    later = next((d for d in listed if d > today + timedelta(days=1)), None)
    try:
        from chinese_calendar import get_holiday_detail
        for ahead in range(1, 400):
            day = today + timedelta(days=ahead)
            is_holiday, called = get_holiday_detail(day)
            if is_holiday and called and str(called).endswith(name):
                return day - timedelta(days=1)
    except (ImportError, NotImplementedError):
        pass  # no calendar data for that year
    if later is not None:
        return later - timedelta(days=1)
    if name in fixed:
        month, mday = fixed[name]
        day = date(today.year, int(month), int(mday))
        if day <= today:
            day = day.replace(year=today.year + 1)
        return day - timedelta(days=1)
    return None


def _weekday(g: dict[str, str], table: dict[str, Any], today: date) -> date:
    target = int(table.get("weekdays", {}).get(g["weekday"], 0))
    week = table.get("week_words", {}).get(g.get("week", ""), -1) if "week" in g else -1
    if int(week) < 0:  # "周五" / "by Friday": the next Friday after today
        ahead = (target - today.weekday()) % 7 or 7
        return today + timedelta(days=ahead)
    week_start = today - timedelta(days=today.weekday())
    day = week_start + timedelta(days=7 * int(week) + target)
    # "这周三" said on Thursday is not a deadline in the past: the coming one is meant.
    return day if day >= today else day + timedelta(days=7)


def _month_day(g: dict[str, str], table: dict[str, Any], today: date) -> date | None:
    mday = parse_number(g["mday"])
    month = parse_number(g.get("month")) if "month" in g else None
    if "monthrel" in g:  # "下个月五号"
        ahead = int(table.get("month_offsets", {}).get(g["monthrel"], 0))
        year, month0 = divmod(today.month - 1 + ahead, 12)
        try:
            return date(today.year + year, month0 + 1, mday or 0)
        except ValueError:
            return None
    if "monthname" in g:
        month = int(table.get("months", {}).get(g["monthname"], 0)) or None
    if mday is None or not 1 <= mday <= 31:
        return None
    if month is None:  # "15号": this month, or next month if that day has passed
        month = today.month if mday >= today.day else today.month % 12 + 1
    if not 1 <= month <= 12:
        return None
    year = today.year
    # A date more than two months back is meant for next year ("in January" said in December).
    if (month, mday) < (today.month, today.day) and (today.month - month) % 12 > 2 \
            and month < today.month:
        year += 1
    try:
        return date(year, month, mday)
    except ValueError:
        return None


def _clock(g: dict[str, str], table: dict[str, Any]) -> time | None:
    periods = table.get("periods", {})
    period = g.get("tperiod") or g.get("tperiod2") or g.get("period")
    if "anchor2" in g:
        return time(0, 0) if g["anchor2"] == "midnight" else time(12, 0)
    if "hour" not in g:
        if period and period in table.get("period_default_hours", {}):
            return time(int(table["period_default_hours"][period]) % 24, 0)
        return None
    hour = parse_number(g["hour"])
    if hour is None or hour > 24:
        return None
    minute = 30 if "half" in g else parse_number(g.get("minute") or g.get("minute_w")) or 0
    shift = int(periods.get(period, 0)) if period else 0
    evening = bool(period) and int(table.get("period_default_hours", {}).get(period, 0)) >= 19
    if evening and hour == 12:
        return time(23, 59)  # "今晚十二点前": midnight, kept on the same day
    if shift > 0 and hour < 12:
        hour += shift
    elif not period and 1 <= hour <= 6:
        hour += 12  # "三点前", "by 3": working hours, so the afternoon
    if hour == 24:
        hour = 0
    return time(hour % 24, min(minute, 59))


def _after(meeting: datetime, amount: int, unit: str) -> datetime:
    if unit == "hour":
        return meeting + timedelta(hours=amount)
    if unit == "minute":
        return meeting + timedelta(minutes=amount)
    if unit == "fortnight":
        amount, unit = amount * 2, "week"
    if unit == "week":
        return datetime.combine(meeting.date() + timedelta(weeks=amount), END_OF_DAY,
                                tzinfo=meeting.tzinfo)
    if unit == "month":
        return datetime.combine(meeting.date() + timedelta(days=30 * amount), END_OF_DAY,
                                tzinfo=meeting.tzinfo)
    if unit == "workday":
        return datetime.combine(_add_workdays(meeting.date(), amount), END_OF_DAY,
                                tzinfo=meeting.tzinfo)
    return datetime.combine(meeting.date() + timedelta(days=amount), END_OF_DAY,
                            tzinfo=meeting.tzinfo)


def _add_workdays(start: date, amount: int) -> date:
    """Working days after `start`, with China's official holidays and make-up days."""
    try:
        from chinese_calendar import is_workday
    except ImportError:  # pragma: no cover - a declared dependency
        def is_workday(day: date) -> bool:
            return day.weekday() < 5
    day = start
    while amount > 0:
        day += timedelta(days=1)
        try:
            working = is_workday(day)
        except NotImplementedError:  # a year the calendar does not know yet
            working = day.weekday() < 5
        amount -= 1 if working else 0
    return day
