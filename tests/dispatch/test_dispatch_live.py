"""Live events over the signalling WebSocket, reminders and overdue escalation driven by the
test clock."""

from __future__ import annotations

from typing import Any

from dispatch_helpers import Desk


async def _subscribed(desk: Desk, room: dict[str, Any], token: str, name: str) -> Any:
    client, _ = await desk.server.joined_client(room, name=name)
    await client.send({"type": "dispatch_subscribe", "token": token})
    return client, await client.recv("dispatch_subscribed")


async def _reminder(client: Any, kind: str) -> Any:
    while True:  # recv() cannot match a field called "kind"
        message = await client.recv("dispatch_reminder")
        if message["kind"] == kind:
            return message


async def _room(desk: Desk) -> dict[str, Any]:
    status, room, _ = await desk.server.request(
        "POST", "/api/rooms", json={"name": "指挥"},
        headers={"Authorization": f"Bearer {desk.api_key}"})
    assert status == 201
    return room  # type: ignore[no-any-return]


async def test_events_reach_the_members_concerned_and_operators(desk: Desk) -> None:
    room = await _room(desk)
    unit, other = await desk.unit("一中队"), await desk.unit("二中队")
    member = await desk.member(unit["unit_id"])
    outsider = await desk.member(other["unit_id"], "李四")
    op = await desk.ok("POST", "/operator-token", {"name": "Li Lei"})
    wall, hello = await _subscribed(desk, room, op["token"], "wall")
    assert hello["role"] == "operator"
    phone, hello = await _subscribed(desk, room, await desk.member_token(member["member_id"]),
                                     "phone")
    assert hello["role"] == "member" and hello["unit_id"] == unit["unit_id"]
    far, _ = await _subscribed(desk, room, await desk.member_token(outsider["member_id"]),
                               "far")
    task = await desk.task({"unit_id": unit["unit_id"]})
    got = await phone.recv("dispatch_task", action="created")
    assert got["task"]["task_id"] == task["task_id"]
    await wall.recv("dispatch_task", action="created")
    await desk.move(task["task_id"], "acknowledged", await desk.member_token(member["member_id"]))
    seen = await wall.recv("dispatch_task", action="transition")
    assert seen["task"]["status"] == "acknowledged" and seen["by"] == member["member_id"]
    await desk.ok("POST", "/alerts", {"text": "暴雨预警", "level": "critical",
                                      "unit_id": other["unit_id"]})
    assert (await far.recv("dispatch_alert"))["alert"]["text"] == "暴雨预警"
    await desk.ok("POST", "/alerts", {"text": "全体注意"})
    assert (await phone.recv("dispatch_alert"))["alert"]["text"] == "全体注意"
    assert [m["alert"]["text"] for m in phone.of_type("dispatch_alert")] == ["全体注意"]
    assert far.of_type("dispatch_task") == []
    # a late subscriber gets the current state
    late, hello = await _subscribed(desk, room, await desk.member_token(member["member_id"]),
                                    "late")
    assert [t["task_id"] for t in hello["tasks"]] == [task["task_id"]]
    assert [a["text"] for a in hello["alerts"]] == ["全体注意"]
    status, body = await desk.call("POST", "/alerts", {"text": "x", "unit_id": "u_999999999999"})
    assert status == 404
    await late.send({"type": "dispatch_subscribe", "token": "junk"})
    assert (await late.error("auth_failed"))["ref"] == "dispatch_subscribe"


async def test_reminder_then_overdue_escalation_to_the_supervisor_once(desk: Desk) -> None:
    room = await _room(desk)
    unit = await desk.unit()
    member = await desk.member(unit["unit_id"])
    boss = await desk.member(unit["unit_id"], "队长")
    await desk.ok("PATCH", f"/units/{unit['unit_id']}", {"supervisor_id": boss["member_id"]})
    op = await desk.ok("POST", "/operator-token", {"name": "Li Lei"})
    wall, _ = await _subscribed(desk, room, op["token"], "wall")
    boss_phone, _ = await _subscribed(desk, room, await desk.member_token(boss["member_id"]),
                                      "boss")
    remind = desk.server.config.dispatch.remind_before_s
    task = await desk.task({"member_id": member["member_id"]}, deadline_in_s=remind + 600)
    tick = await desk.ok("POST", "/clock", {"advance_s": 300})
    assert tick["fired"] == []
    tick = await desk.ok("POST", "/clock", {"advance_s": 400})
    assert tick["fired"] == [{"kind": "due_soon", "task_id": task["task_id"]}]
    assert (await _reminder(wall, "due_soon"))["task"]["reminded"]
    tick = await desk.ok("POST", "/clock", {"advance_s": remind})
    assert tick["fired"] == [{"kind": "overdue", "task_id": task["task_id"]}]
    escalation = await _reminder(boss_phone, "overdue")
    assert escalation["escalated_to"] == [boss["member_id"], "operators"]
    assert (await wall.recv("dispatch_task", action="overdue"))["task"]["overdue"] is True
    assert (await desk.ok("POST", "/clock", {"advance_s": 60}))["fired"] == []
    shown = await desk.ok("GET", "/tasks?overdue=1")
    assert [t["task_id"] for t in shown["tasks"]] == [task["task_id"]]
    actions = [e["action"] for e in (await desk.ok("GET", f"/audit/{task['task_id']}"))["entries"]]
    assert actions == ["task.created", "task.reminder", "task.overdue"]


async def test_the_clock_cannot_move_without_test_clock(redis_url: str, tmp_path: Any) -> None:
    from local_node import start_node, stop_node
    server = await start_node(redis_url, tmp_path / "d",
                              {"COMMANDPOST_SERVER_API_KEY": "test-api-key-0123"})
    try:
        desk = Desk(server, "test-api-key-0123")
        status, body = await desk.call("POST", "/clock", {"advance_s": 3600})
        assert status == 403 and "test_clock" in body["message"]
        assert (await desk.ok("GET", "/clock"))["offset_s"] == 0
    finally:
        await stop_node(server)
