"""A private redis-server for `commandpost serve` when no redis.url is configured.

It listens on a free loopback port with a random password, keeps an append-only file in the
data directory, and writes its URL to <data_dir>/redis.url (mode 0600) while it runs, so
`commandpost room create` on the same machine finds it. It runs in its own session so a
Ctrl-C in the terminal reaches us first and we stop it after the server has tidied up.
"""

from __future__ import annotations

import os
import secrets
import shutil
import socket
import subprocess
import time
from pathlib import Path

import redis

URL_FILE = "redis.url"
START_TIMEOUT_S = 15.0


class EmbeddedRedisError(RuntimeError):
    pass


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _write_private(path: Path, text: str) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)


def running_url(data_dir: Path) -> str | None:
    """The URL of an embedded Redis already serving this data directory, if any."""
    try:
        url = (data_dir / URL_FILE).read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        return None
    client = redis.Redis.from_url(url, socket_connect_timeout=1)
    try:
        client.ping()
        return url
    except redis.RedisError:
        return None
    finally:
        client.close()


class EmbeddedRedis:
    def __init__(self, data_dir: Path, binary: str = "redis-server") -> None:
        self.data_dir = data_dir
        self.binary = binary
        self.url = ""
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> str:
        path = shutil.which(self.binary)
        if path is None:
            raise EmbeddedRedisError(
                f"{self.binary!r} not found: install redis-server or set redis.url")
        if running_url(self.data_dir) is not None:
            raise EmbeddedRedisError(f"an embedded Redis already serves {self.data_dir}; "
                                     "is another `commandpost serve` using this data_dir?")
        port, password = _free_port(), secrets.token_urlsafe(24)
        conf = self.data_dir / "redis.conf"
        _write_private(conf, "\n".join([
            "bind 127.0.0.1", f"port {port}", f'dir "{self.data_dir}"', "appendonly yes",
            'save ""', f"requirepass {password}", "logfile redis.log", "daemonize no", ""]))
        self.proc = subprocess.Popen([path, str(conf)], stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL, start_new_session=True)
        self.url = f"redis://:{password}@127.0.0.1:{port}/0"
        self._wait_ready()
        _write_private(self.data_dir / URL_FILE, self.url + "\n")
        return self.url

    def _wait_ready(self) -> None:
        client = redis.Redis.from_url(self.url, socket_connect_timeout=1)
        deadline = time.monotonic() + START_TIMEOUT_S
        try:
            while True:
                try:
                    client.ping()
                    return
                except redis.RedisError:
                    if self.proc is None or self.proc.poll() is not None \
                            or time.monotonic() > deadline:
                        self.stop()
                        raise EmbeddedRedisError(
                            f"redis-server did not start; see {self.data_dir / 'redis.log'}")
                    time.sleep(0.05)
        finally:
            client.close()

    def stop(self) -> None:
        """SIGTERM makes redis-server flush the append-only file and exit."""
        (self.data_dir / URL_FILE).unlink(missing_ok=True)
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None

    def __enter__(self) -> EmbeddedRedis:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
