"""`commandpost serve` with `recorder.embedded_worker = true` runs a recorder worker as
its child process (what `make run` does), which records; stopping serve stops it."""

from __future__ import annotations

import json
import time
import urllib.request
from pathlib import Path

from signaling.sidecars import SIDECARS, embedded_kinds
from signaling.config import load_config


def children(pid: int) -> list[tuple[int, str]]:
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
            cmdline = (stat.parent / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except (OSError, IndexError):
            continue
        if int(fields[1]) == pid:
            found.append((int(stat.parent.name), cmdline))
    return found


def api(server, method: str, path: str, token: str) -> dict:
    request = urllib.request.Request(server.base_url + path, method=method,
                                     headers={"Authorization": f"Bearer {token}"})
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())


def test_embedded_kinds_follow_the_config() -> None:
    assert SIDECARS["recorder"] == "recorder"
    on = load_config(None, env={})
    off = load_config(None, env={"COMMANDPOST_RECORDER_EMBEDDED_WORKER": "false"})
    assert "recorder" in embedded_kinds(on) and "recorder" not in embedded_kinds(off)


def test_serve_runs_and_stops_its_recorder(redis_url: str, start_commandpost,
                                           tmp_path: Path) -> None:
    server = start_commandpost(redis_url, {
        "COMMANDPOST_RECORDER_EMBEDDED_WORKER": "true",
        "COMMANDPOST_RECORDER_DIR": str(tmp_path / "recordings"),
        "COMMANDPOST_RECORDER_ICE_ADDRESSES": "127.0.0.1",
        "COMMANDPOST_RECORDER_COMPOSITE_AUTO": "false"})
    workers = [pid for pid, cmd in children(server.proc.pid) if "worker recorder" in cmd]
    assert len(workers) == 1, children(server.proc.pid)
    room = server.create_room()
    started = api(server, "POST", f"/api/rooms/{room['room_id']}/recordings",
                  room["host_token"])
    deadline = time.monotonic() + 60
    state = started["state"]
    while state != "recording":
        assert time.monotonic() < deadline, f"recording stayed {state}\n{server.log()}"
        time.sleep(0.3)
        state = api(server, "GET", f"/api/recordings/{started['recording_id']}",
                    room["host_token"])["state"]
    server.stop()
    assert not Path(f"/proc/{workers[0]}").exists() or \
        "zombie" in Path(f"/proc/{workers[0]}/status").read_text(), "the worker stopped too"
