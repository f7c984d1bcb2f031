"""REST edges: health, rooms, shares, pages, errors and CORS, against a real node + Redis."""

from __future__ import annotations

import asyncio
import shutil
import subprocess
import time

import redis
from local_node import LocalServer, StartLocal, free_port

from signaling.store import room_key


async def test_healthz_reports_node_and_redis(local: LocalServer) -> None:
    status, body, _ = await local.request("GET", "/healthz")
    assert status == 200
    assert body["status"] == "ok" and body["redis"] == "ok"
    assert body["node_id"] == local.node.node_id


async def test_healthz_is_503_when_redis_dies(start_local: StartLocal, tmp_path) -> None:
    port = free_port()
    proc = subprocess.Popen([shutil.which("redis-server"), "--port", str(port), "--bind",
                             "127.0.0.1", "--save", "", "--dir", str(tmp_path)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        url = f"redis://127.0.0.1:{port}/0"
        deadline = time.monotonic() + 10
        while True:
            try:
                redis.Redis.from_url(url).ping()
                break
            except redis.ConnectionError:
                assert time.monotonic() < deadline
                time.sleep(0.05)
        server = await start_local({"COMMANDPOST_REDIS_URL": url})
        assert (await server.request("GET", "/healthz"))[0] == 200
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    status, body, _ = await server.request("GET", "/healthz")
    assert status == 503
    assert body["status"] == "degraded" and body["redis"].startswith("error: ")


async def test_create_room_returns_link_code_and_host_token(local: LocalServer) -> None:
    room = await local.create_room("Morning briefing")
    assert room["name"] == "Morning briefing"
    assert room["room_id"].startswith("r_")
    assert room["join_url"] == f"{local.base_url}/j/{room['share_code']}"
    assert len(room["share_code"]) == 10
    record = await local.redis.hgetall(room_key(room["room_id"]))
    assert record["name"] == "Morning briefing" and record["locked"] == "0"
    status, info, _ = await local.request(
        "GET", f"/api/rooms/{room['room_id']}",
        headers={"Authorization": f"Bearer {room['host_token']}"})
    assert status == 200
    assert info["name"] == "Morning briefing" and info["participants"] == []
    assert [s["code"] for s in info["shares"]] == [room["share_code"]]


async def test_create_room_validates_input(local: LocalServer) -> None:
    status, body, _ = await local.request("POST", "/api/rooms", data=b"{nope",
                                          headers={"Content-Type": "application/json"})
    assert (status, body["error"]) == (400, "bad_json")
    status, body, _ = await local.request("POST", "/api/rooms", json={"name": 7})
    assert (status, body["error"]) == (400, "bad_request")
    assert "name must be a string" in body["message"]
    status, body, _ = await local.request("POST", "/api/rooms", json={"name": "x" * 201})
    assert status == 400
    status, body, _ = await local.request("POST", "/api/rooms")
    assert status == 201 and body["name"] == "Meeting"


async def test_api_key_guards_room_creation(start_local: StartLocal) -> None:
    server = await start_local({"COMMANDPOST_SERVER_API_KEY": "k" * 20})
    status, body, headers = await server.request("POST", "/api/rooms", json={})
    assert (status, body["error"]) == (401, "auth_failed")
    assert headers["WWW-Authenticate"] == "Bearer"
    status, _, _ = await server.request("POST", "/api/rooms", json={},
                                        headers={"Authorization": "Bearer wrong"})
    assert status == 401
    status, _, _ = await server.request("POST", "/api/rooms", json={},
                                        headers={"Authorization": "Bearer " + "k" * 20})
    assert status == 201


async def test_room_info_needs_a_token_for_that_room(local: LocalServer) -> None:
    room = await local.create_room()
    other = await local.create_room()
    path = f"/api/rooms/{room['room_id']}"
    status, body, _ = await local.request("GET", path)
    assert (status, body["error"]) == (401, "auth_failed")
    bearer = {"Authorization": f"Bearer {other['host_token']}"}
    status, body, _ = await local.request("GET", path, headers=bearer)
    assert (status, body["error"]) == (403, "wrong_room")
    expired = local.token(room["room_id"], "x", ["join"], ttl_s=1)
    await asyncio.sleep(1.1)
    status, body, _ = await local.request("GET", path,
                                          headers={"Authorization": f"Bearer {expired}"})
    assert (status, body["error"]) == (401, "token_expired")
    guest = local.token(room["room_id"], "g", ["join"])
    status, body, _ = await local.request("GET", path,
                                          headers={"Authorization": f"Bearer {guest}"})
    assert status == 200 and "shares" not in body
    status, body, _ = await local.request(
        "GET", "/api/rooms/r_nope", headers={"Authorization": f"Bearer {guest}"})
    assert status == 403  # the token is checked before anything about the room is told


async def test_share_create_and_revoke_over_rest(local: LocalServer) -> None:
    room = await local.create_room()
    admin = {"Authorization": f"Bearer {room['host_token']}"}
    base = f"/api/rooms/{room['room_id']}/shares"
    status, share, _ = await local.request("POST", base, json={"ttl_s": 60,
                                                                "grants": ["join"]},
                                           headers=admin)
    assert status == 201 and share["grants"] == ["join"]
    assert share["join_url"].endswith("/j/" + share["code"])
    status, body, _ = await local.request("POST", base, json={"grants": ["admin"]},
                                          headers=admin)
    assert (status, body["error"]) == (400, "bad_request")
    guest = {"Authorization": "Bearer " + local.token(room["room_id"], "g", ["join"])}
    status, body, _ = await local.request("DELETE", f"{base}/{share['code']}", headers=guest)
    assert (status, body["error"]) == (403, "forbidden")
    status, _, _ = await local.request("DELETE", f"{base}/{share['code']}", headers=admin)
    assert status == 204
    status, body, _ = await local.request("DELETE", f"{base}/{share['code']}", headers=admin)
    assert (status, body["error"]) == (404, "unknown_share")
    client = await local.client()
    await client.send({"type": "join", "code": share["code"], "name": "Late"})
    assert "revoked" in (await client.error("auth_failed"))["message"]


async def test_pages_and_static_files(local: LocalServer) -> None:
    status, body, _ = await local.request("GET", "/")
    assert status == 200 and "<html" in body.lower()
    status, body, _ = await local.request("GET", "/j/AbCdEf1234")
    assert status == 200 and "join" in body.lower()
    status, body, _ = await local.request("GET", "/static/css/app.css")
    assert status == 200
    status, body, _ = await local.request("GET", "/j/..%2f..%2fetc")
    assert status == 404


async def test_unknown_routes_and_methods_are_json_errors(local: LocalServer) -> None:
    status, body, _ = await local.request("GET", "/api/nothing")
    assert (status, body["error"]) == (404, "not_found")
    status, body, headers = await local.request("PUT", "/api/rooms")
    assert (status, body["error"]) == (405, "method_not_allowed")
    assert "POST" in headers["Allow"]


async def test_cors_preflight_for_whip_whep_and_api(local: LocalServer) -> None:
    for path in ("/whip/r_x", "/whep/r_x/t_y", "/api/rooms"):
        status, _, headers = await local.request(
            "OPTIONS", path, headers={"Origin": "https://tool.example",
                                      "Access-Control-Request-Method": "POST"})
        assert status == 204
        assert headers["Access-Control-Allow-Origin"] == "*"
        assert "Authorization" in headers["Access-Control-Allow-Headers"]
    status, _, headers = await local.request("POST", "/api/rooms", json={})
    assert headers["Access-Control-Allow-Origin"] == "*"
    assert "Location" in headers["Access-Control-Expose-Headers"]
