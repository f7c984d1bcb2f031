"""The `commandpost` command line as users run it: serve (subprocess), token, room create,
embedded Redis, clean shutdown on SIGTERM."""

from __future__ import annotations

import asyncio
import json
import os
import re
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
import redis

from signal_client import WsClient

from signaling.tokens import verify_token

REPO_ROOT = Path(__file__).resolve().parents[2]


def cli(*args: str, env: dict[str, str] | None = None, timeout: float = 30
        ) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("COMMANDPOST_")}
    return subprocess.run([sys.executable, "-m", "signaling.cli", *args], cwd=REPO_ROOT,
                          env=clean | (env or {}), capture_output=True, text=True,
                          timeout=timeout)


def get_json(url: str, token: str) -> dict:
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"})
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())


@pytest.mark.parametrize("args", [[], ["serve"], ["token"], ["room"], ["room", "create"]])
def test_every_subcommand_has_help(args: list[str]) -> None:
    result = cli(*args, "--help")
    assert result.returncode == 0, result.stderr
    assert "usage: commandpost" in result.stdout


def test_config_errors_name_the_key(tmp_path: Path) -> None:
    result = cli("token", "--room", "r", "--identity", "i",
                 env={"COMMANDPOST_SERVER_PROT": "1",
                      "COMMANDPOST_SERVER_DATA_DIR": str(tmp_path)})
    assert result.returncode == 2
    assert "COMMANDPOST_SERVER_PROT: unknown key 'prot' in [server]" in result.stderr


def test_token_command_mints_a_verifiable_token(tmp_path: Path) -> None:
    secret = "t" * 32
    result = cli("token", "--room", "r_abc", "--identity", "alice", "--grants",
                 "join,publish", "--ttl", "120",
                 env={"COMMANDPOST_SERVER_SECRET": secret,
                      "COMMANDPOST_SERVER_DATA_DIR": str(tmp_path)})
    assert result.returncode == 0, result.stderr
    claims = verify_token(secret, result.stdout.strip(), "r_abc")
    assert claims.identity == "alice" and claims.grants == {"join", "publish"}
    bad = cli("token", "--room", "r", "--identity", "i", "--grants", "join,root",
              env={"COMMANDPOST_SERVER_DATA_DIR": str(tmp_path)})
    assert bad.returncode == 1 and "unknown grant 'root'" in bad.stderr


async def test_served_node_serves_and_shuts_down_cleanly(server) -> None:
    room = server.create_room("Subprocess room")
    assert room["join_url"] == f"{server.base_url}/j/{room['share_code']}"
    assert room["field_url"] == f"{server.base_url}/f/{room['share_code']}"
    info = get_json(f"{server.base_url}/api/rooms/{room['room_id']}",
                    server.mint_token(room["room_id"], "ops", ["join"]))
    assert info["name"] == "Subprocess room"
    member = await WsClient.connect(server.base_url)
    await member.join(token=server.mint_token(room["room_id"], "m", ["join", "subscribe"]))
    client = redis.Redis.from_url(server.redis_url, decode_responses=True)
    # One node, or one per worker when the suite runs behind the front (CP_TEST_WORKERS).
    assert len(client.keys("cp:node:*")) == int(os.environ.get("CP_TEST_WORKERS", "1"))
    assert client.hlen(f"cp:room:{room['room_id']}:participants") == 1
    await asyncio.get_running_loop().run_in_executor(None, server.stop)  # SIGTERM
    assert server.proc.returncode == 0, server.log()
    assert await member.wait_closed() == 1001  # told "going away", not just dropped
    await member.close()
    assert client.keys("cp:node:*") == []  # the node signed off ...
    assert client.hlen(f"cp:room:{room['room_id']}:participants") == 0  # ... tidily
    assert client.hgetall(f"cp:room:{room['room_id']}")["name"] == "Subprocess room"
    client.close()


def test_embedded_redis_persists_rooms_between_cli_and_serve(tmp_path: Path,
                                                            start_commandpost) -> None:
    data = tmp_path / "data"
    env = {"COMMANDPOST_SERVER_DATA_DIR": str(data), "COMMANDPOST_SERVER_PORT": "8080"}
    # Nothing serving: `room create` opens the embedded Redis just for the write.
    created = cli("room", "create", "--name", "Offline", "--json", env=env)
    assert created.returncode == 0, created.stderr
    offline = json.loads(created.stdout)
    assert offline["join_url"].startswith("http://127.0.0.1:8080/j/")
    assert (data / "secret").stat().st_mode & 0o777 == 0o600
    assert not (data / "redis.url").exists()

    serving = start_commandpost("", {"COMMANDPOST_REDIS_URL": "",
                                     "COMMANDPOST_SERVER_SECRET": ""})
    try:
        redis_url = (data / "redis.url").read_text().strip()
        info = get_json(f"{serving.base_url}/api/rooms/{offline['room_id']}",
                        offline["host_token"])  # same stored secret, same Redis data
        assert info["name"] == "Offline"
        result = cli("room", "create", "--name", "Online", env=env)
        match = re.search(r"Join link:\s+(\S+)\nHost token: (\S+)", result.stdout)
        assert match, (result.stdout, result.stderr)
        code = match.group(1).rsplit("/", 1)[1]
        assert redis.Redis.from_url(redis_url).exists(f"cp:share:{code}")
    finally:
        serving.stop()
    assert serving.proc.returncode == 0, serving.log()
    assert not (data / "redis.url").exists()
    with pytest.raises(redis.ConnectionError):
        redis.Redis.from_url(redis_url, socket_connect_timeout=1).ping()


def test_demo_room_link_is_printed(redis_url: str, tmp_path: Path) -> None:
    port = _port()
    env = {"COMMANDPOST_REDIS_URL": redis_url, "COMMANDPOST_SERVER_PORT": str(port),
           "COMMANDPOST_SERVER_DATA_DIR": str(tmp_path / "d")}
    clean = {k: v for k, v in os.environ.items() if not k.startswith("COMMANDPOST_")}
    proc = subprocess.Popen([sys.executable, "-m", "signaling.cli", "serve", "--demo-room"],
                            cwd=REPO_ROOT, env=clean | env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    try:
        lines = []
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            line = proc.stdout.readline()
            lines.append(line)
            if line.startswith("Join link:"):
                break
        assert lines[-1].startswith(f"Join link:  http://127.0.0.1:{port}/j/"), lines
    finally:
        proc.terminate()
        proc.wait(timeout=15)
    assert proc.returncode == 0


def _port() -> int:
    from local_node import free_port
    return free_port()
