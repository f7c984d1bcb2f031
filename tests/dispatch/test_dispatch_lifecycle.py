"""The whole task lifecycle over REST: dispatch, the main path to closed with a score,
feedback with photos, reject and reassign, incidents (from a field report too), stats, audit."""

from __future__ import annotations

from pathlib import Path

from dispatch_helpers import JPEG, Desk

from signaling.reports import Report, ReportStore


async def test_task_goes_from_dispatch_to_closed_with_feedback_and_score(desk: Desk) -> None:
    unit = await desk.unit()
    member = await desk.member(unit["unit_id"])
    token = await desk.member_token(member["member_id"])
    incident = await desk.ok("POST", "/incidents", {"title": "仓库起火", "category": "fire",
                                                    "severity": 4, "source": {"kind": "wall"},
                                                    "location": {"lat": 30.2, "lon": 120.1}})
    task = await desk.task({"member_id": member["member_id"]},
                           incident_id=incident["incident_id"],
                           source={"kind": "minutes_action_item", "room_id": "r_1",
                                   "item_id": "ai_3"})
    assert task["assignee"] == {"unit_id": unit["unit_id"], "member_id": member["member_id"]}
    assert task["source"]["kind"] == "minutes_action_item"
    linked = await desk.ok("GET", f"/incidents/{incident['incident_id']}")
    assert linked["task_ids"] == [task["task_id"]] and linked["status"] == "in_progress"
    status, photo = await desk.photo(JPEG, token)
    assert status == 201, photo
    for step in ("acknowledged", "en_route", "on_scene"):
        status, body = await desk.move(task["task_id"], step, token, text=f"{step} ok",
                                       location={"lat": 30.21, "lon": 120.11})
        assert status == 200 and body["applied"] and body["task"]["status"] == step, body
    status, body = await desk.move(task["task_id"], "resolved", token, text="火已扑灭",
                                   photos=[photo["photo_id"]])
    assert body["task"]["feedback"][-1]["photos"][0]["photo_id"] == photo["photo_id"]
    assert await desk.raw_get(photo["url"]) == JPEG
    # only operators verify and close
    status, body = await desk.move(task["task_id"], "verified", token)
    assert status == 403, body
    assert (await desk.move(task["task_id"], "verified"))[0] == 200
    status, body = await desk.move(task["task_id"], "closed")
    assert status == 400 and "score" in body["message"]
    status, body = await desk.move(task["task_id"], "closed", score=5)
    assert status == 200 and body["task"]["status"] == "closed" and body["task"]["score"] == 5
    audit = await desk.ok("GET", f"/audit/{task['task_id']}")
    steps = [e["data"].get("to") for e in audit["entries"]]
    assert steps == ["dispatched", "acknowledged", "en_route", "on_scene", "resolved",
                     "verified", "closed"]
    assert [e["by"] for e in audit["entries"]][1] == member["member_id"]


async def test_reject_needs_a_reason_then_reassign_to_another_unit(desk: Desk) -> None:
    first, second = await desk.unit("一中队"), await desk.unit("二中队")
    member = await desk.member(first["unit_id"])
    token = await desk.member_token(member["member_id"])
    task = await desk.task({"unit_id": first["unit_id"]})
    status, body = await desk.move(task["task_id"], "rejected", token)
    assert status == 400 and "reason" in body["message"]
    status, body = await desk.move(task["task_id"], "rejected", token, reason="车辆故障")
    assert status == 200 and body["task"]["reject_reason"] == "车辆故障"
    moved = await desk.ok("POST", f"/tasks/{task['task_id']}/reassign",
                          {"assignee": {"unit_id": second["unit_id"]}, "reason": "改派"})
    assert moved["task"]["status"] == "dispatched" and moved["task"]["assignments"] == 2
    assert moved["task"]["assignee"]["unit_id"] == second["unit_id"]
    # the first unit's member has no say on it any more
    status, body = await desk.move(task["task_id"], "acknowledged", token)
    assert status == 403, body
    assert (await desk.move(task["task_id"], "acknowledged"))[0] == 200


async def test_incident_from_a_field_photo_report(desk: Desk, tmp_path: Path) -> None:
    status, room, _ = await desk.server.request(
        "POST", "/api/rooms", json={"name": "巡查"},
        headers={"Authorization": f"Bearer {desk.api_key}"})
    assert status == 201, room
    reports = ReportStore(desk.server.redis, tmp_path)
    report = Report(report_id="rp_0123456789abcdef", room_id=room["room_id"],
                    participant_id="p_1", name="巡查员张三", note="桥下有积水\n约半米",
                    lat=30.5, lon=120.5, accuracy_m=8.0, ts=1.0, photo_type="jpg")
    await reports.add(report, JPEG)
    incident = await desk.ok("POST", "/incidents", {"source": {
        "kind": "report", "room_id": room["room_id"], "report_id": report.report_id}})
    assert incident["title"] == "桥下有积水"
    assert incident["location"] == {"lat": 30.5, "lon": 120.5}
    assert incident["photos"][0]["report_id"] == report.report_id
    assert "/reports/rp_0123456789abcdef/photo?exp=" in incident["photos"][0]["url"]
    status, body = await desk.call("POST", "/incidents", {"source": {
        "kind": "report", "room_id": room["room_id"], "report_id": "rp_ffffffffffffffff"}})
    assert status == 404 and body["what"] == "report"
    snap = await desk.ok("POST", "/incidents", {"title": "截图", "source": {
        "kind": "snapshot", "room_id": room["room_id"], "snapshot_id": "sn_1"}})
    assert snap["snapshots"] == [{"room_id": room["room_id"], "snapshot_id": "sn_1"}]


async def test_stats_per_unit_for_a_period(desk: Desk) -> None:
    unit = await desk.unit()
    other = await desk.unit("空闲中队")
    for step_s in (60, 120, 600):
        task = await desk.task({"unit_id": unit["unit_id"]})
        await desk.ok("POST", "/clock", {"advance_s": step_s})
        assert (await desk.move(task["task_id"], "acknowledged"))[0] == 200
    open_one = await desk.task({"unit_id": unit["unit_id"]}, deadline_in_s=100)
    await desk.ok("POST", "/clock", {"advance_s": 200})
    stats = await desk.ok("GET", "/stats")
    row = next(r for r in stats["units"] if r["unit_id"] == unit["unit_id"])
    assert row["tasks"] == 4 and row["open"] == 4 and row["overdue"] == 1
    ack = row["time_to_acknowledge_s"]
    assert ack["n"] == 3 and round(ack["p50"]) == 120 and round(ack["p90"]) == 600
    empty = next(r for r in stats["units"] if r["unit_id"] == other["unit_id"])
    assert empty["tasks"] == 0 and empty["time_to_acknowledge_s"]["p50"] is None
    later = await desk.ok("GET", f"/stats?from={open_one['created_at'] + 1}")
    assert next(r for r in later["units"] if r["unit_id"] == unit["unit_id"])["tasks"] == 0


async def test_incident_notes_status_and_who_may_change_it(desk: Desk) -> None:
    unit = await desk.unit()
    member = await desk.member(unit["unit_id"])
    token = await desk.member_token(member["member_id"])
    incident = await desk.ok("POST", "/incidents", {"title": "路面塌陷", "note": "现场拍照"},
                             token=token)
    assert incident["reporter"] == {"actor": member["member_id"], "name": "王强"}
    iid = incident["incident_id"]
    noted = await desk.ok("POST", f"/incidents/{iid}/notes",
                          {"text": "已设围挡", "location": {"lat": 1.0, "lon": 2.0}}, token=token)
    assert [n["text"] for n in noted["notes"]] == ["现场拍照", "已设围挡"]
    status, body = await desk.call("PATCH", f"/incidents/{iid}", {"status": "resolved"}, token)
    assert status == 403
    status, body = await desk.call("PATCH", f"/incidents/{iid}", {"status": "gone"})
    assert status == 400 and "status" in body["message"]
    status, body = await desk.call("PATCH", f"/incidents/{iid}",
                                   {"status": "resolved", "expected_version": 1})
    assert status == 409 and body["current"]["version"] == 2
    done = await desk.ok("PATCH", f"/incidents/{iid}", {"status": "resolved", "severity": 2,
                                                        "expected_version": 2})
    assert done["status"] == "resolved" and done["severity"] == 2 and done["version"] == 3
    listed = await desk.ok("GET", "/incidents?status=resolved")
    assert [i["incident_id"] for i in listed["incidents"]] == [iid]


async def test_a_photo_upload_is_audited_and_a_retry_stores_it_once(desk: Desk) -> None:
    first = await desk.photo(JPEG, client_id="photo-retry-1")
    again = await desk.photo(JPEG, client_id="photo-retry-1")
    assert first == again and first[0] == 201
    entries = (await desk.ok("GET", "/audit"))["entries"]
    uploads = [e for e in entries if e["action"] == "photo.uploaded"]
    assert [e["entity_id"] for e in uploads] == [first[1]["photo_id"]]
    assert uploads[0]["data"] == {"bytes": len(JPEG), "type": "image/jpeg"}
    assert len([k async for k in desk.server.redis.scan_iter("cp:dispatch:photo:*")]) == 1
