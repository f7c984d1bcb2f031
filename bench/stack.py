"""A real CommandPost stack for the sidecar and dispatch benchmarks: a private redis-server
and `commandpost serve` pinned to core 0 (the client load runs on the other core), started
as processes of their own so their CPU can be read from /proc."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Mapping
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LOOPBACK = "127.0.0.1"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((LOOPBACK, 0))
        return int(sock.getsockname()[1])


def pinned(core: int) -> list[str]:
    """`taskset -c <core>` to put before a command, when there is more than one core."""
    taskset = shutil.which("taskset")
    return [taskset, "-c", str(core)] if taskset and (os.cpu_count() or 1) > 1 else []


def wait_port(port: int, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            if sock.connect_ex((LOOPBACK, port)) == 0:
                return
        time.sleep(0.1)
    raise RuntimeError(f"nothing listens on {port}")


def start_redis(workdir: Path, aof: bool) -> tuple[subprocess.Popen[bytes], str]:
    """redis-server on a free port; with `aof`, the append-only file fsynced every second
    (what `make run`'s embedded Redis does)."""
    port = free_port()
    (workdir / "redis").mkdir()
    persistence = ["--appendonly", "yes", "--appendfsync", "everysec"] if aof else []
    proc = subprocess.Popen(
        ["redis-server", "--port", str(port), "--bind", LOOPBACK, "--dir",
         str(workdir / "redis"), "--save", "", *persistence], stdout=subprocess.DEVNULL)
    wait_port(port)
    return proc, f"redis://{LOOPBACK}:{port}/0"


def server_env(redis_url: str, port: int, workdir: Path,
               extra: Mapping[str, str]) -> dict[str, str]:
    """The environment of a bench server: no COMMANDPOST_* of the caller's, one process,
    loopback ICE, no embedded sidecars, quiet logs, then `extra`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("COMMANDPOST_")}
    return env | {
        "COMMANDPOST_REDIS_URL": redis_url,
        "COMMANDPOST_SERVER_PORT": str(port),
        "COMMANDPOST_SERVER_DATA_DIR": str(workdir / "data"),
        "COMMANDPOST_SERVER_WORKERS": "1",
        "COMMANDPOST_SFU_ICE_HOST_ADDRESSES": LOOPBACK,
        "COMMANDPOST_RECORDER_EMBEDDED_WORKER": "false",
        "COMMANDPOST_TRANSCRIBE_EMBEDDED_WORKER": "false",
        "COMMANDPOST_LOG_LEVEL": "warning", **extra}


def start_stack(workdir: Path, extra: Mapping[str, str], aof: bool = True, log_name: str =
                "server.log") -> tuple[list[subprocess.Popen[bytes]], str, dict[str, str]]:
    """Redis and a server on core 0; returns the processes (server first), the base URL and
    the server's environment (for workers started beside it)."""
    redis_proc, redis_url = start_redis(workdir, aof)
    port = free_port()
    env = server_env(redis_url, port, workdir, extra)
    config = workdir / "config.toml"
    config.write_text("", encoding="utf-8")  # defaults + env, never the checkout's file
    log = open(workdir / log_name, "wb")
    server = subprocess.Popen(
        pinned(0) + [sys.executable, "-m", "signaling.cli", "serve", "--config", str(config)],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    wait_port(port)
    return [server, redis_proc], f"http://{LOOPBACK}:{port}", env
