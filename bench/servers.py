"""Starting the three servers under test, each as its own process tree on loopback."""

from __future__ import annotations

import os
import secrets
import socket
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from bench import janus_config, rtc
from bench.procs import Proc

REPO_ROOT = Path(__file__).resolve().parents[1]
READY_TIMEOUT_S = 30.0
SERVERS = ("commandpost", "janus", "relay")


class ServerError(RuntimeError):
    pass


@dataclass
class Server:
    kind: str
    base_url: str
    proc: Proc
    secret: str = ""

    @property
    def pid(self) -> int:
        return self.proc.pid

    def stop(self) -> None:
        self.proc.stop()


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_ready(server: Server, url: str, method: str = "GET", body: bytes | None = None
                ) -> Server:
    deadline = time.monotonic() + READY_TIMEOUT_S
    while True:
        try:
            request = urllib.request.Request(url, data=body, method=method)
            with urllib.request.urlopen(request, timeout=2) as response:
                if response.status == 200:
                    return server
        except (urllib.error.URLError, OSError):
            pass
        if not server.proc.alive() or time.monotonic() > deadline:
            server.stop()
            raise ServerError(f"{server.kind} did not become ready:\n{server.proc.log_tail()}")
        time.sleep(0.1)


def start(kind: str, workdir: Path, participants: int) -> Server:
    if kind == "commandpost":
        return start_commandpost(workdir, participants)
    if kind == "janus":
        return start_janus(workdir)
    if kind == "relay":
        return start_relay(workdir)
    raise ValueError(f"unknown server {kind!r}; choose from {', '.join(SERVERS)}")


def start_commandpost(workdir: Path, participants: int,
                      overrides: dict[str, str] | None = None) -> Server:
    """`commandpost serve` with its private redis-server (a child, so its CPU counts too)."""
    port = free_port()
    secret = secrets.token_urlsafe(32)
    env = {k: v for k, v in os.environ.items() if not k.startswith("COMMANDPOST_")}
    env.update({
        "COMMANDPOST_REDIS_URL": "",
        "COMMANDPOST_SERVER_PORT": str(port),
        "COMMANDPOST_SERVER_DATA_DIR": str(workdir / "data"),
        "COMMANDPOST_SERVER_SECRET": secret,
        "COMMANDPOST_SFU_ICE_HOST_ADDRESSES": "127.0.0.1",
        "COMMANDPOST_LIMITS_MAX_PARTICIPANTS_PER_ROOM": str(max(50, participants + 10)),
        "COMMANDPOST_LOG_LEVEL": "warning",
        # One process unless BENCH_COMMANDPOST_ENV says e.g. SERVER_WORKERS=2.
        "COMMANDPOST_SERVER_WORKERS": "1",
    })
    extra = os.environ.get("BENCH_COMMANDPOST_ENV", "")  # e.g. "SERVER_WORKERS=2,..."
    for item in filter(None, extra.split(",")):
        key, _, value = item.partition("=")
        env[f"COMMANDPOST_{key.strip()}"] = value.strip()
    env.update({f"COMMANDPOST_{k}": v for k, v in (overrides or {}).items()})
    proc = Proc("commandpost", [sys.executable, "-m", "signaling.cli", "serve"],
                workdir / "commandpost.log", env=env, cwd=REPO_ROOT)
    server = Server("commandpost", f"http://127.0.0.1:{port}", proc, secret)
    return _wait_ready(server, f"{server.base_url}/healthz")


def start_janus(workdir: Path) -> Server:
    port = free_port()
    conf = janus_config.write(workdir / "janus", port, rtc.janus_address())
    proc = Proc("janus", ["janus", "--config", str(conf / "janus.jcfg"),
                          "--configs-folder", str(conf), "--disable-colors"],
                workdir / "janus.log")
    server = Server("janus", f"http://127.0.0.1:{port}", proc)
    return _wait_ready(server, f"{server.base_url}/janus", "POST",
                       b'{"janus":"info","transaction":"ready"}')


def start_relay(workdir: Path) -> Server:
    port = free_port()
    proc = Proc("relay", [sys.executable, "-m", "bench.relay_server", "--port", str(port)],
                workdir / "relay.log", cwd=REPO_ROOT)
    server = Server("relay", f"http://127.0.0.1:{port}", proc)
    return _wait_ready(server, f"{server.base_url}/healthz")
