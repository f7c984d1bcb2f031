"""Action items to dispatch: the pure function's body, and the body really accepted by the
dispatch API (POST /api/dispatch/tasks) after the minutes are published and the owner is
mapped to a unit."""

from __future__ import annotations

import json
import uuid
from datetime import datetime, timedelta, timezone

from transcribe.minutes.handoff import DEFAULT_DEADLINE_S, action_item_to_task
from transcribe.minutes.store import ACTION_STREAM

API_KEY = "minutes-handoff-key"
REF = {"room_id": "r1", "revision": 3, "url": "/minutes/r1"}


def test_task_body_from_an_action_item():
    item = {"id": "a2", "owner": "李娜", "what": "提交值班表", "text": "请李娜明天上午九点前提交值班表。",
            "deadline": "2026-07-15T09:00+08:00", "deadline_text": "明天上午九点前", "t": "00:02:20"}
    body = action_item_to_task(item, "r1", REF, assignee={"unit_id": "u_1"})
    assert body["title"] == "提交值班表" and body["priority"] == "normal"
    assert body["deadline"] == datetime.fromisoformat("2026-07-15T09:00+08:00").timestamp()
    assert body["assignee"] == {"unit_id": "u_1"}
    assert body["source"] == {"kind": "minutes_action_item", "room_id": "r1", "item_id": "a2"}
    assert "owner: 李娜" in body["details"] and "明天上午九点前" in body["details"]
    assert "/minutes/r1 (00:02:20)" in body["details"]
    assert action_item_to_task(item, "r1", REF, {"unit_id": "u_1"}) == body  # pure


def test_no_deadline_or_no_zone_gets_the_default_and_long_titles_are_cut():
    item = {"id": "a 9!", "owner": None, "what": "x" * 300, "deadline": "2026-07-15T09:00"}
    body = action_item_to_task(item, "r1", REF)
    assert "deadline" not in body and body["deadline_in_s"] == DEFAULT_DEADLINE_S
    assert len(body["title"]) == 120 and "assignee" not in body
    assert body["source"]["item_id"] == "a_9_"


async def test_published_action_items_are_accepted_by_dispatch(start_local):
    local = await start_local({"COMMANDPOST_SERVER_API_KEY": API_KEY})
    status, room, _ = await local.request("POST", "/api/rooms", json={"name": "Handoff"},
                                          headers={"Authorization": f"Bearer {API_KEY}"})
    assert status == 201, room
    rid, host = room["room_id"], room["host_token"]
    today = datetime.now(timezone.utc).astimezone()
    meeting = {"language": "en", "date": today.isoformat(timespec="seconds"), "segments": [
        {"speaker": "Maria", "start": 0, "end": 4, "text": "Tom will send the report in two days."},
        {"speaker": "Tom", "start": 5, "end": 8, "text": "Sure."}]}
    status, minutes, _ = await local.request("POST", "/api/minutes", json=meeting,
                                             headers={"Authorization": f"Bearer {host}"})
    assert status == 200 and minutes["action_items"][0]["owner"] == "Tom"
    from transcribe.minutes.store import MinutesStore
    await MinutesStore(local.redis).save_draft(rid, minutes, "test", edited=False)
    status, _, _ = await local.request("POST", f"/api/rooms/{rid}/minutes/publish",
                                       headers={"Authorization": f"Bearer {host}"})
    assert status == 200
    entry = next(fields for _, fields in await local.redis.xrange(ACTION_STREAM)
                 if fields["room_id"] == rid)
    task = json.loads(entry["task"])
    assert entry["owner"] == "Tom"
    due = datetime.fromtimestamp(task["deadline"], timezone.utc)
    assert timedelta(days=1) < due - today < timedelta(days=3)

    async def dispatch(path: str, body: dict) -> tuple[int, dict]:
        status, data, _ = await local.request(
            "POST", "/api/dispatch" + path, json=body,
            headers={"Authorization": f"Bearer {API_KEY}", "Idempotency-Key": uuid.uuid4().hex})
        return status, data

    status, unit = await dispatch("/units", {"name": entry["owner"], "kind": "team"})
    assert status == 201, unit
    status, created = await dispatch("/tasks", {**task, "assignee": {"unit_id": unit["unit_id"]}})
    assert status == 201, created
    assert created["source"] == {"kind": "minutes_action_item", "room_id": rid,
                                 "item_id": entry["item_id"]}
    assert created["title"] == minutes["action_items"][0]["what"]
