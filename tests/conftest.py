"""Shared fixtures: a real redis-server per test session, flushed between tests."""

from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import pytest
import redis


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Start a private redis-server on loopback; yields its URL."""
    binary = shutil.which("redis-server")
    if binary is None:
        raise RuntimeError("redis-server not found: run `make test`, which installs it")
    port = free_port()
    workdir: Path = tmp_path_factory.mktemp("redis")
    proc = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--dir", str(workdir),
         "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    url = f"redis://127.0.0.1:{port}/0"
    client = redis.Redis.from_url(url)
    deadline = time.monotonic() + 10
    while True:
        try:
            client.ping()
            break
        except redis.ConnectionError:
            if time.monotonic() > deadline or proc.poll() is not None:
                proc.kill()
                raise RuntimeError("redis-server did not start")
            time.sleep(0.05)
    try:
        yield url
    finally:
        client.close()
        proc.terminate()
        proc.wait(timeout=10)


@pytest.fixture
def redis_url(redis_server: str) -> Iterator[str]:
    """A clean Redis for each test."""
    client = redis.Redis.from_url(redis_server)
    client.flushall()
    client.close()
    yield redis_server


REPO_ROOT = Path(__file__).resolve().parents[1]


@dataclass
class RunningServer:
    """A `commandpost serve` subprocess on a free loopback port, sharing the test Redis."""

    base_url: str
    redis_url: str
    secret: str
    proc: subprocess.Popen
    log_path: Path | None = None

    def create_room(self, name: str = "Test room") -> dict:
        """POST /api/rooms; returns the JSON (room_id, join_url, share_code, host_token...)."""
        request = urllib.request.Request(
            f"{self.base_url}/api/rooms", data=json.dumps({"name": name}).encode(),
            headers={"Content-Type": "application/json"}, method="POST")
        with urllib.request.urlopen(request, timeout=10) as response:
            assert response.status == 201, response.status
            return json.loads(response.read())

    def mint_token(self, room_id: str, identity: str, grants: list[str], ttl_s: int = 600) -> str:
        """A token signed with the server's secret (same code as `commandpost token`)."""
        from signaling.tokens import mint_token

        return mint_token(self.secret, room_id, identity, grants, ttl_s)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path else ""

    def stop(self) -> None:
        stop_server(self)


def start_server(redis_url: str, workdir: Path,
                 extra_env: Mapping[str, str] | None = None) -> RunningServer:
    """Start `python -m signaling.cli serve` with env overrides; waits for /healthz."""
    port = free_port()
    secret = secrets.token_urlsafe(32)
    env = {k: v for k, v in os.environ.items() if not k.startswith("COMMANDPOST_")}
    env.update({
        "COMMANDPOST_REDIS_URL": redis_url,
        "COMMANDPOST_SERVER_PORT": str(port),
        "COMMANDPOST_SERVER_DATA_DIR": str(workdir / "data"),
        "COMMANDPOST_SERVER_SECRET": secret,
        "COMMANDPOST_SFU_ICE_HOST_ADDRESSES": "127.0.0.1",
        # One process unless a test asks for workers (tests/signaling/test_workers.py), or
        # CP_TEST_WORKERS=2 runs every server of the suite behind the front with 2 workers.
        "COMMANDPOST_SERVER_WORKERS": os.environ.get("CP_TEST_WORKERS", "1"),
        # No embedded recorder child per test server (tests/recorder starts its own).
        "COMMANDPOST_RECORDER_EMBEDDED_WORKER": "false",
        # Nor a transcriber (it loads a vosk model; tests/transcribe starts its own).
        "COMMANDPOST_TRANSCRIBE_EMBEDDED_WORKER": "false",
        **(extra_env or {}),
    })
    workdir.mkdir(parents=True, exist_ok=True)
    log_path = workdir / f"server-{port}.log"
    with open(log_path, "wb") as log:
        proc = subprocess.Popen([sys.executable, "-m", "signaling.cli", "serve"], cwd=REPO_ROOT,
                                env=env, stdout=log, stderr=subprocess.STDOUT)
    server = RunningServer(f"http://127.0.0.1:{port}", redis_url, secret, proc, log_path)
    # Three processes (front + 2 workers) importing aiortc at once on a busy machine: slow.
    deadline = time.monotonic() + 60
    while True:
        try:
            with urllib.request.urlopen(f"{server.base_url}/healthz", timeout=2) as response:
                if response.status == 200:
                    return server
        except (urllib.error.URLError, OSError):
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            stop_server(server)
            raise RuntimeError(f"commandpost serve did not become healthy:\n{server.log()}")
        time.sleep(0.1)


def stop_server(server: RunningServer) -> None:
    """SIGTERM by PID (clean shutdown), SIGKILL if it hangs."""
    if server.proc.poll() is None:
        server.proc.send_signal(signal.SIGTERM)
        try:
            server.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.proc.kill()
            server.proc.wait(timeout=5)


@pytest.fixture
def start_commandpost(tmp_path: Path) -> Iterator:
    """Factory for more servers: `start_commandpost(redis_url, extra_env)`; all stopped at
    the end. An empty COMMANDPOST_REDIS_URL / _SERVER_SECRET in extra_env gives the
    embedded Redis / stored secret of the data directory (tmp_path/"data")."""
    started: list[RunningServer] = []

    def start(redis_url: str, extra_env: Mapping[str, str] | None = None) -> RunningServer:
        running = start_server(redis_url, tmp_path, extra_env)
        started.append(running)
        return running

    yield start
    for running in started:
        stop_server(running)


@pytest.fixture
def server(redis_url: str, tmp_path: Path) -> Iterator[RunningServer]:
    """A running CommandPost server (subprocess) using the test Redis."""
    running = start_server(redis_url, tmp_path / "server")
    try:
        yield running
    finally:
        stop_server(running)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Run the browser tests last.

    Playwright's sync API keeps an event loop running in the main thread for as long as
    its session-scoped fixture lives; pytest-asyncio tests collected after it would then
    fail with "Runner.run() cannot be called from a running event loop"."""
    items.sort(key=lambda item: "e2e" in item.path.parts)
