"""Supervision deadlines in calendar days or in Chinese working days (public holidays off,
swapped working weekends on), from the `chinese_calendar` table."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import chinese_calendar

from signaling.errors import SignalingError


def is_workday(day: dt.date) -> bool:
    try:
        return bool(chinese_calendar.is_workday(day))
    except NotImplementedError:
        raise SignalingError("bad_request", f"the working-day calendar (chinese_calendar) has "
                             f"no holiday table for {day.year}") from None


def last_day(start: dt.date, days: int, kind: str) -> dt.date:
    """The day a limit of `days` (calendar or working) days issued on `start` ends."""
    if kind == "calendar":
        return start + dt.timedelta(days=days)
    day, counted = start, 0
    while counted < days:
        day += dt.timedelta(days=1)
        if is_workday(day):
            counted += 1
    return day


def deadline(issued_at: float, days: int, kind: str, timezone: str) -> tuple[float, str]:
    """(Unix time of 23:59:59 on the last day in `timezone`, that day as YYYY-MM-DD)."""
    zone = ZoneInfo(timezone)
    start = dt.datetime.fromtimestamp(issued_at, zone).date()
    end = last_day(start, days, kind)
    moment = dt.datetime.combine(end, dt.time(23, 59, 59), zone)
    return moment.timestamp(), end.isoformat()
