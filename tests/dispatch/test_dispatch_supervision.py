"""Supervision items: working-day deadlines across the National Day holiday (checked against
chinese_calendar), progress, return for rework, acceptance, warnings, stats from the audit."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import chinese_calendar

from dispatch_helpers import Desk

from dispatch.workdays import last_day

SHANGHAI = ZoneInfo("Asia/Shanghai")


def test_working_days_skip_the_holiday_and_count_the_swapped_saturday() -> None:
    friday = dt.date(2025, 9, 26)
    # 09-28 (Sunday) and 10-11 (Saturday) are working days; 10-01..10-08 are off
    assert chinese_calendar.is_workday(dt.date(2025, 9, 28))
    assert chinese_calendar.is_workday(dt.date(2025, 10, 11))
    assert last_day(friday, 5, "working") == dt.date(2025, 10, 10)
    assert last_day(friday, 6, "working") == dt.date(2025, 10, 11)
    assert last_day(friday, 6, "calendar") == dt.date(2025, 10, 2)
    expected, day, count = friday, friday, 0
    while count < 6:  # the same count, straight from the table
        day += dt.timedelta(days=1)
        if chinese_calendar.is_workday(day):
            count, expected = count + 1, day
    assert expected == dt.date(2025, 10, 11)


async def _at(desk: Desk, moment: dt.datetime) -> None:
    now = (await desk.ok("GET", "/clock"))["now"] - (await desk.ok("GET", "/clock"))["offset_s"]
    await desk.ok("POST", "/clock", {"offset_s": moment.timestamp() - now})


async def test_item_lifecycle_with_rework_and_stats_from_the_audit(desk: Desk) -> None:
    await _at(desk, dt.datetime(2025, 9, 26, 10, 0, tzinfo=SHANGHAI))
    dept = await desk.unit("城管局", "department")
    clerk = await desk.member(dept["unit_id"], "科员")
    token = await desk.member_token(clerk["member_id"])
    item = await desk.ok("POST", "/supervision", {
        "title": "背街小巷整治", "unit_id": dept["unit_id"],
        "time_limit": {"days": 6, "kind": "working"}})
    assert item["deadline_date"] == "2025-10-11"
    end = dt.datetime.fromtimestamp(item["deadline"], SHANGHAI)
    assert (end.date(), end.hour, end.minute) == (dt.date(2025, 10, 11), 23, 59)
    iid = item["item_id"]
    status, body = await desk.call("POST", f"/supervision/{iid}/submit", {}, token)
    assert status == 409 and body["error"] == "invalid_transition"
    await desk.ok("POST", f"/supervision/{iid}/acknowledge", {}, token, expect=200)
    again = await desk.ok("POST", f"/supervision/{iid}/acknowledge", {}, token, expect=200)
    assert again["applied"] is False
    await _at(desk, dt.datetime(2025, 9, 29, 9, 0, tzinfo=SHANGHAI))
    await desk.ok("POST", f"/supervision/{iid}/progress",
                  {"text": "已排查", "evidence": ["巡查记录表"]}, token, expect=200)
    await desk.ok("POST", f"/supervision/{iid}/submit", {"text": "完成"}, token, expect=200)
    status, body = await desk.call("POST", f"/supervision/{iid}/review",
                                   {"decision": "accept", "score": 90}, token)
    assert status == 403
    back = await desk.ok("POST", f"/supervision/{iid}/review",
                         {"decision": "return", "comment": "证据不足"}, expect=200)
    assert back["item"]["status"] == "returned" and back["item"]["returns"] == 1
    await desk.ok("POST", f"/supervision/{iid}/progress", {"text": "补充照片"}, token, expect=200)
    await desk.ok("POST", f"/supervision/{iid}/submit", {}, token, expect=200)
    await _at(desk, dt.datetime(2025, 10, 11, 18, 0, tzinfo=SHANGHAI))
    done = await desk.ok("POST", f"/supervision/{iid}/review",
                         {"decision": "accept", "score": 88}, expect=200)
    assert done["item"]["status"] == "accepted" and done["item"]["score"] == 88
    late = await desk.ok("POST", "/supervision", {
        "title": "占道经营", "unit_id": dept["unit_id"],
        "time_limit": {"days": 1, "kind": "calendar"}})
    fired = (await desk.ok("POST", "/clock", {"advance_s": 3 * 86400}))["fired"]
    assert {"kind": "supervision_overdue", "item_id": late["item_id"]} in fired
    stats = await desk.ok("GET", "/supervision/stats?from=1700000000")
    row = stats["units"][0]
    assert row["items"] == 2 and row["closed"] == 1
    assert row["on_time_rate"]["value"] == 1.0 and row["rework_rate"]["value"] == 0.5
    audit = {e["id"]: e for e in (await desk.ok("GET", f"/audit/{iid}"))["entries"]}
    for entry_id in row["on_time_rate"]["entries"] + row["time_to_resolve_s"]["entries"]:
        assert entry_id in audit
    assert {audit[e]["action"] for e in row["time_to_resolve_s"]["entries"]} == {
        "supervision.issued", "supervision.accepted"}
    issued, accepted = (audit[e]["at"] for e in row["time_to_resolve_s"]["entries"])
    assert row["time_to_resolve_s"]["p50"] == accepted - issued


async def test_a_limit_past_the_holiday_table_is_refused(desk: Desk) -> None:
    await _at(desk, dt.datetime(2026, 12, 28, 10, 0, tzinfo=SHANGHAI))
    dept = await desk.unit("城管局", "department")
    status, body = await desk.call("POST", "/supervision", {
        "title": "x", "unit_id": dept["unit_id"], "time_limit": {"days": 10, "kind": "working"}})
    assert status == 400 and "2027" in body["message"]
    assert (await desk.ok("GET", "/supervision"))["items"] == []
