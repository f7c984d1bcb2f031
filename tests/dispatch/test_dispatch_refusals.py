"""Duplicate and out-of-order submissions, unknown units, status jumps, oversized photos,
members without permission and the limits: clear errors, and nothing changes."""

from __future__ import annotations

from dispatch_helpers import JPEG, Desk


async def test_a_retried_write_returns_the_same_answer_and_makes_one_task(desk: Desk) -> None:
    unit = await desk.unit()
    body = {"title": "巡逻", "assignee": {"unit_id": unit["unit_id"]}, "deadline_in_s": 600,
            "client_id": "retry-0000001"}
    first = await desk.call("POST", "/tasks", body, client_id="retry-0000001")
    again = await desk.call("POST", "/tasks", body, client_id="retry-0000001")
    assert first[0] == again[0] == 201 and first[1] == again[1]
    assert len((await desk.ok("GET", "/tasks"))["tasks"]) == 1
    other = dict(body, title="别的任务")
    status, err = await desk.call("POST", "/tasks", other, client_id="retry-0000001")
    assert status == 409 and err["error"] == "conflict"
    status, err = await desk.call("POST", "/tasks", {**body, "client_id": None},
                                  client_id="x")
    assert status == 400 and "client_id" in err["message"]


async def test_out_of_order_and_repeated_transitions(desk: Desk) -> None:
    unit = await desk.unit()
    task = await desk.task({"unit_id": unit["unit_id"]})
    tid = task["task_id"]
    for step in ("acknowledged", "en_route"):
        assert (await desk.move(tid, step))[0] == 200
    before = await desk.snapshot()
    # a late "acknowledged" from an offline queue, with a new client id: harmless
    status, body = await desk.move(tid, "acknowledged", expected_status="dispatched")
    assert status == 200 and body["applied"] is False and body["reason"] == "already_done"
    assert body["task"]["status"] == "en_route"
    # the caller thought the task was elsewhere
    status, body = await desk.move(tid, "on_scene", expected_status="acknowledged")
    assert status == 409 and body["error"] == "conflict"
    assert body["current"]["status"] == "en_route"
    assert await desk.snapshot() == before


async def test_refused_writes_change_nothing(desk: Desk) -> None:
    unit = await desk.unit()
    member = await desk.member(unit["unit_id"])
    other_unit = await desk.unit("二中队")
    outsider = await desk.member(other_unit["unit_id"], "李四")
    outsider_token = await desk.member_token(outsider["member_id"])
    task = await desk.task({"member_id": member["member_id"]})
    before = await desk.snapshot()
    status, body = await desk.call("POST", "/tasks", {
        "title": "x", "assignee": {"unit_id": "u_000000000000"}, "deadline_in_s": 60})
    assert status == 404 and body["what"] == "unit"
    status, body = await desk.call("POST", "/tasks", {
        "title": "x", "assignee": {"unit_id": "../../etc"}, "deadline_in_s": 60})
    assert status == 404 and body["error"] == "not_found"
    status, body = await desk.move(task["task_id"], "resolved")
    assert status == 409 and body["error"] == "invalid_transition"
    assert body["allowed"] == ["acknowledged", "rejected"] and body["status"] == "dispatched"
    status, body = await desk.move(task["task_id"], "acknowledged", outsider_token)
    assert status == 403 and body["error"] == "forbidden"
    status, body = await desk.call("POST", "/tasks", {
        "title": "x", "assignee": {"unit_id": unit["unit_id"]}, "deadline_in_s": 60},
        outsider_token)
    assert status == 403
    status, body = await desk.call("GET", "/stats", token=outsider_token)
    assert status == 403
    status, body = await desk.call("GET", "/tasks/" + task["task_id"], token=outsider_token)
    assert status == 403
    status, body = await desk.call("GET", "/tasks", token="not-a-token")
    assert status == 401
    room_token = desk.server.token("r_room", "p_1", ["admin"])
    status, body = await desk.call("GET", "/tasks", token=room_token)
    assert status == 403 and body["error"] == "wrong_room"
    assert await desk.snapshot() == before
    assert (await desk.ok("GET", "/tasks", token=outsider_token))["tasks"] == []


async def test_limits_photos_notes_and_open_tasks(desk: Desk) -> None:
    cfg = desk.server.config.dispatch
    unit = await desk.unit()
    task = await desk.task({"unit_id": unit["unit_id"]})
    status, body = await desk.photo(JPEG + b"\x00" * cfg.max_photo_bytes)
    assert status == 413 and body["error"] == "too_large"
    status, body = await desk.photo(b"GIF89a" + b"\x00" * 100)
    assert status == 415
    status, body = await desk.move(task["task_id"], "acknowledged",
                                   text="长" * (cfg.max_note_chars + 1))
    assert status == 400 and str(cfg.max_note_chars) in body["message"]
    status, body = await desk.move(task["task_id"], "acknowledged",
                                   photos=["ph_" + "0" * 32] * (cfg.max_photos_per_item + 1))
    assert status == 400 and "max_photos_per_item" in body["message"]
    status, body = await desk.move(task["task_id"], "acknowledged",
                                   photos=["ph_" + "0" * 32])
    assert status == 404 and body["what"] == "photo"
    status, body = await desk.call("POST", "/units", {"name": "名" * (cfg.max_title_chars + 1)})
    assert status == 400
    assert (await desk.ok("GET", f"/tasks/{task['task_id']}"))["status"] == "dispatched"


async def test_max_open_tasks(redis_url: str, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from dispatch_helpers import TEST_ENV
    from local_node import start_node, stop_node
    server = await start_node(redis_url, tmp_path / "d",
                              TEST_ENV | {"COMMANDPOST_DISPATCH_MAX_OPEN_TASKS": "2"})
    try:
        desk = Desk(server, "test-api-key-0123")
        unit = await desk.unit()
        first = await desk.task({"unit_id": unit["unit_id"]})
        await desk.task({"unit_id": unit["unit_id"]})
        status, body = await desk.call("POST", "/tasks", {
            "title": "x", "assignee": {"unit_id": unit["unit_id"]}, "deadline_in_s": 60})
        assert status == 409 and body["error"] == "limit_reached"
        await desk.move(first["task_id"], "rejected", reason="不去")
        await desk.task({"unit_id": unit["unit_id"]})  # a rejected task is not open
    finally:
        await stop_node(server)


async def test_answers_are_kept_for_idempotency_ttl_s(desk: Desk) -> None:
    unit = await desk.unit()
    keys = [k async for k in desk.server.redis.scan_iter("cp:dispatch:idem:*")]
    assert len(keys) == 1
    ttl = await desk.server.redis.ttl(keys[0])
    limit = desk.server.config.dispatch.idempotency_ttl_s
    assert limit - 60 < ttl <= limit
    assert unit["unit_id"] in await desk.server.redis.get(keys[0])


async def test_concurrent_retries_and_racing_writers(desk: Desk) -> None:
    import asyncio
    unit = await desk.unit()
    body = {"title": "并发", "assignee": {"unit_id": unit["unit_id"]}, "deadline_in_s": 600}
    answers = await asyncio.gather(*(desk.call("POST", "/tasks", body, client_id="same-000001")
                                     for _ in range(6)))
    assert {a[0] for a in answers} == {201}
    assert len({a[1]["task_id"] for a in answers}) == 1
    task_id = answers[0][1]["task_id"]
    # different clients racing on one task: exactly one acknowledgement is applied
    moves = await asyncio.gather(*(desk.move(task_id, "acknowledged") for _ in range(6)))
    assert sorted(m[1]["applied"] for m in moves) == [False] * 5 + [True]
    task = await desk.ok("GET", f"/tasks/{task_id}")
    assert task["version"] == 2 and len(task["feedback"]) == 1
    assert len((await desk.ok("GET", "/tasks"))["tasks"]) == 1
