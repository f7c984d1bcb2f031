"""`commandpost serve` with two SFU worker processes behind the front: dispatch REST reaches
any worker, and an event made through one reaches a field session held by another."""

from __future__ import annotations

import json
import urllib.request
import uuid
from typing import Any

import pytest

from signal_client import WsClient

KEY = "workers-api-key-01"


def _post(base: str, path: str, body: dict[str, Any], token: str = KEY) -> Any:
    request = urllib.request.Request(base + path, data=json.dumps(body).encode(), method="POST",
                                     headers={"Authorization": f"Bearer {token}",
                                              "Content-Type": "application/json",
                                              "Idempotency-Key": uuid.uuid4().hex})
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())


@pytest.mark.slow
async def test_events_cross_worker_processes(redis_url: str, start_commandpost: Any) -> None:
    server = start_commandpost(redis_url, {"COMMANDPOST_SERVER_WORKERS": "2",
                                           "COMMANDPOST_SERVER_API_KEY": KEY})
    clients: list[WsClient] = []
    try:
        unit = _post(server.base_url, "/api/dispatch/units", {"name": "一中队"})
        member = _post(server.base_url, "/api/dispatch/members",
                       {"name": "王强", "unit_id": unit["unit_id"]})
        token = _post(server.base_url, f"/api/dispatch/members/{member['member_id']}/token",
                      {})["token"]
        for n in range(3):  # rooms land on both workers
            room = _post(server.base_url, "/api/rooms", {"name": f"area {n}"})
            client = await WsClient.connect(server.base_url)
            clients.append(client)
            await client.join(code=room["share_code"], name="phone")
            await client.send({"type": "dispatch_subscribe", "token": token})
            await client.recv("dispatch_subscribed", 15)
        task = _post(server.base_url, "/api/dispatch/tasks", {
            "title": "巡逻", "assignee": {"unit_id": unit["unit_id"]}, "deadline_in_s": 600})
        for client in clients:
            got = await client.recv("dispatch_task", 10, action="created")
            assert got["task"]["task_id"] == task["task_id"]
    finally:
        for client in clients:
            await client.close()
