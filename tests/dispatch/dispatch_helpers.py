"""A test-side dispatch client over real HTTP: operator (api key) and member calls, with a
fresh client_id per write unless one is given."""

from __future__ import annotations

import uuid
from typing import Any

from local_node import LocalServer

JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 100
API_KEY = "test-api-key-0123"
# Every dispatch test node: the test clock on, an api key, and no scheduler passes of its
# own (tests tick with POST /clock), unless a test says otherwise.
TEST_ENV = {"COMMANDPOST_DISPATCH_TEST_CLOCK": "true",
            "COMMANDPOST_SERVER_API_KEY": API_KEY,
            "COMMANDPOST_DISPATCH_SCHEDULER_INTERVAL_S": "3600"}


class Desk:
    def __init__(self, server: LocalServer, api_key: str) -> None:
        self.server = server
        self.api_key = api_key

    async def call(self, method: str, path: str, body: dict[str, Any] | None = None,
                   token: str | None = None, client_id: str | None = None,
                   **kwargs: Any) -> tuple[int, Any]:
        headers = {"Authorization": f"Bearer {token or self.api_key}"}
        if method != "GET":
            headers["Idempotency-Key"] = client_id or uuid.uuid4().hex
        status, data, _ = await self.server.request(
            method, "/api/dispatch" + path, json=body, headers=headers, **kwargs)
        return status, data

    async def ok(self, method: str, path: str, body: dict[str, Any] | None = None,
                 token: str | None = None, expect: int | None = None, **kw: Any) -> Any:
        status, data = await self.call(method, path, body, token, **kw)
        wanted = expect or (201 if method == "POST" and not path.endswith(
            ("/transition", "/reassign", "/clock", "/acknowledge", "/progress", "/submit",
             "/review")) else 200)
        assert status == wanted, (status, data)
        return data

    async def photo(self, data: bytes, token: str | None = None,
                    client_id: str | None = None) -> tuple[int, Any]:
        status, body, _ = await self.server.request(
            "POST", "/api/dispatch/photos", data=data,
            headers={"Authorization": f"Bearer {token or self.api_key}",
                     "Idempotency-Key": client_id or uuid.uuid4().hex,
                     "Content-Type": "image/jpeg"})
        return status, body

    async def raw_get(self, path: str) -> bytes:
        async with self.server.http.get(self.server.base_url + path) as response:
            assert response.status == 200, response.status
            return await response.read()

    async def unit(self, name: str = "一中队", kind: str = "team") -> dict[str, Any]:
        return await self.ok("POST", "/units", {"name": name, "kind": kind})

    async def member(self, unit_id: str, name: str = "王强") -> dict[str, Any]:
        return await self.ok("POST", "/members", {"name": name, "role": "firefighter",
                                                  "unit_id": unit_id, "phone": "13800000000"})

    async def member_token(self, member_id: str) -> str:
        return str((await self.ok("POST", f"/members/{member_id}/token", {}))["token"])

    async def task(self, assignee: dict[str, str], deadline_in_s: float = 3600,
                   **extra: Any) -> dict[str, Any]:
        return await self.ok("POST", "/tasks", {"title": "疏散人员", "priority": "high",
                                                "assignee": assignee,
                                                "deadline_in_s": deadline_in_s, **extra})

    async def move(self, task_id: str, status: str, token: str | None = None,
                   **extra: Any) -> Any:
        return await self.call("POST", f"/tasks/{task_id}/transition",
                               {"status": status, **extra}, token)

    async def snapshot(self) -> dict[str, Any]:
        """Everything the API shows, to prove a refused write changed nothing."""
        tasks = (await self.ok("GET", "/tasks"))["tasks"]
        audit = (await self.ok("GET", "/audit?limit=1000"))["entries"]
        return {"tasks": tasks, "audit": len(audit)}
