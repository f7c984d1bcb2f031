"""Two nodes on one Redis: the scheduler loops (not the clock endpoint) fire each reminder
once, and an event made on one node reaches a session on the other."""

from __future__ import annotations

from pathlib import Path

from dispatch_helpers import TEST_ENV
from dispatch_helpers import Desk
from local_node import start_node, stop_node


async def test_reminders_fire_once_across_two_nodes(redis_url: str, tmp_path: Path) -> None:
    env = TEST_ENV | {"COMMANDPOST_DISPATCH_SCHEDULER_INTERVAL_S": "0.1"}
    one = await start_node(redis_url, tmp_path / "one", env)
    two = await start_node(redis_url, tmp_path / "two", env)
    try:
        desk, other = Desk(one, "test-api-key-0123"), Desk(two, "test-api-key-0123")
        status, room, _ = await two.request("POST", "/api/rooms", json={"name": "wall"},
                                            headers={"Authorization": "Bearer test-api-key-0123"})
        assert status == 201
        wall, _ = await two.joined_client(room, name="wall")
        token = (await other.ok("POST", "/operator-token", {"name": "Li"}))["token"]
        await wall.send({"type": "dispatch_subscribe", "token": token})
        await wall.recv("dispatch_subscribed")
        unit = await desk.unit()
        task = await desk.task({"unit_id": unit["unit_id"]}, deadline_in_s=1)
        assert (await wall.recv("dispatch_task", action="created"))["by"] == "api"
        await wall.recv("dispatch_task", 10, action="overdue")
        await desk.ok("POST", "/clock", {"advance_s": 5})  # both nodes keep ticking meanwhile
        kinds = [m["kind"] for m in wall.of_type("dispatch_reminder")]
        assert kinds == ["due_soon", "overdue"]
        actions = [e["action"] for e in
                   (await other.ok("GET", f"/audit/{task['task_id']}"))["entries"]]
        assert actions == ["task.created", "task.reminder", "task.overdue"]
    finally:
        await stop_node(one)
        await stop_node(two)


async def test_tokens_end_with_their_member_and_their_limits(desk: Desk) -> None:
    unit = await desk.unit()
    member = await desk.member(unit["unit_id"])
    limit = desk.server.config.dispatch.member_token_ttl_s
    status, body = await desk.call("POST", f"/members/{member['member_id']}/token",
                                   {"ttl_s": limit + 1})
    assert status == 400 and str(limit) in body["message"]
    token = await desk.member_token(member["member_id"])
    me = await desk.ok("GET", "/me", token=token)
    assert me["role"] == "member" and me["unit"]["unit_id"] == unit["unit_id"]
    status, body = await desk.call("POST", "/operator-token", {"name": "x"}, token)
    assert status == 403
    limit = desk.server.config.dispatch.operator_token_ttl_s
    status, body = await desk.call("POST", "/operator-token", {"name": "x", "ttl_s": limit + 1})
    assert status == 400
    await desk.ok("DELETE", f"/members/{member['member_id']}", {})
    status, body = await desk.call("GET", "/me", token=token)
    assert status == 401 and body["error"] == "auth_failed"
    page = await desk.ok("GET", "/audit?limit=2")
    rest = await desk.ok("GET", f"/audit?after={page['next']}&limit=1000")
    assert len(page["entries"]) == 2 and rest["entries"][0]["id"] > page["next"]
    actions = [e["action"] for e in page["entries"] + rest["entries"]]
    assert actions[-2:] == ["member.token_minted", "member.deleted"]
