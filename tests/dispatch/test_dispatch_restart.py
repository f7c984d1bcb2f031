"""Redis with the append-only file: stop it, start it again on the same directory, and
dispatch state and history are all there."""

from __future__ import annotations

import shutil
import subprocess
import time
from pathlib import Path

import redis

from dispatch_helpers import TEST_ENV
from dispatch_helpers import Desk
from local_node import free_port, start_node, stop_node


def _redis(data: Path, port: int) -> subprocess.Popen[bytes]:
    proc = subprocess.Popen(
        [shutil.which("redis-server") or "redis-server", "--port", str(port), "--bind",
         "127.0.0.1", "--dir", str(data), "--appendonly", "yes", "--appendfsync", "everysec",
         "--save", ""], stdout=subprocess.DEVNULL)
    client = redis.Redis(port=port)
    for _ in range(100):
        try:
            client.ping()
            return proc
        except redis.ConnectionError:
            time.sleep(0.05)
    raise AssertionError("redis-server did not start")


async def test_state_survives_a_redis_restart_with_aof(tmp_path: Path) -> None:
    data = tmp_path / "redis"
    data.mkdir()
    port = free_port()
    url = f"redis://127.0.0.1:{port}/0"
    proc = _redis(data, port)
    try:
        server = await start_node(url, tmp_path / "n1", TEST_ENV)
        desk = Desk(server, "test-api-key-0123")
        unit = await desk.unit()
        task = await desk.task({"unit_id": unit["unit_id"]})
        await desk.move(task["task_id"], "acknowledged")
        before = await desk.snapshot()
        await stop_node(server)
    finally:
        proc.terminate()
        proc.wait(10)
    proc = _redis(data, port)
    try:
        server = await start_node(url, tmp_path / "n2", TEST_ENV)
        desk = Desk(server, "test-api-key-0123")
        assert await desk.snapshot() == before
        assert (await desk.ok("GET", f"/tasks/{task['task_id']}"))["status"] == "acknowledged"
        assert (await desk.move(task["task_id"], "en_route"))[0] == 200
        await stop_node(server)
    finally:
        proc.terminate()
        proc.wait(10)
