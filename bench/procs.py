"""Processes the benchmark starts: CPU of a process tree from /proc, and ending them by PID.

Only PIDs this benchmark started (and their descendants, recorded while they are still our
descendants) are ever signalled.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def _stat_fields(pid: int) -> list[str] | None:
    """Fields of /proc/<pid>/stat after the command name (which may hold spaces)."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        return None
    return raw[raw.rindex(")") + 2:].split()


def _parents() -> dict[int, int]:
    result: dict[int, int] = {}
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            fields = _stat_fields(int(entry.name))
            if fields is not None:
                result[int(entry.name)] = int(fields[1])
    return result


def tree_pids(root: int) -> list[int]:
    """`root` and every live descendant of it."""
    parents = _parents()
    found = [root]
    frontier = [root]
    while frontier:
        current = frontier.pop()
        kids = [pid for pid, ppid in parents.items() if ppid == current]
        found.extend(kids)
        frontier.extend(kids)
    return found


def cpu_seconds(pid: int) -> float:
    """utime + stime of one process (all its threads), in seconds; 0 if it is gone."""
    fields = _stat_fields(pid)
    if fields is None:
        return 0.0
    # After the name: state(0) ppid(1) ... utime is field 14 of stat, i.e. index 11 here.
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def tree_cpu_seconds(root: int) -> float:
    """CPU seconds used so far by `root` and its live descendants."""
    return sum(cpu_seconds(pid) for pid in tree_pids(root))


def machine_busy_seconds() -> float:
    """CPU seconds all cores spent on anything but idle/iowait since boot (/proc/stat)."""
    fields = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
    values = [int(v) for v in fields[:8]]  # user nice system idle iowait irq softirq steal
    return (sum(values) - values[3] - values[4]) / CLOCK_TICKS


def udp_counters() -> dict[str, int]:
    """This network namespace's UDP counters (/proc/net/snmp): RcvbufErrors counts datagrams
    dropped because a socket's receive buffer was full."""
    lines = [line.split() for line in Path("/proc/net/snmp").read_text().splitlines()
             if line.startswith("Udp:")]
    return dict(zip(lines[0][1:], map(int, lines[1][1:])))


def start_time(pid: int) -> int | None:
    fields = _stat_fields(pid)
    return None if fields is None else int(fields[19])


class Proc:
    """A subprocess whose output goes to a log file; `stop()` ends its whole tree."""

    def __init__(self, name: str, argv: Sequence[str], log_path: Path,
                 env: Mapping[str, str] | None = None, cwd: Path | None = None) -> None:
        self.name = name
        self.log_path = log_path
        log_path.parent.mkdir(parents=True, exist_ok=True)
        with open(log_path, "wb") as log:
            self.popen = subprocess.Popen(list(argv), stdout=log, stderr=subprocess.STDOUT,
                                          stdin=subprocess.DEVNULL, env=dict(env or os.environ),
                                          cwd=cwd)
        self.pid = self.popen.pid

    def alive(self) -> bool:
        return self.popen.poll() is None

    def log_tail(self, chars: int = 3000) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-chars:]
        except FileNotFoundError:
            return ""

    def stop(self, timeout_s: float = 10.0) -> None:
        """SIGTERM the process, SIGKILL it if it hangs, then end descendants it left behind
        (e.g. a private redis-server), each checked to still be the process we saw."""
        if not self.alive():
            return
        descendants = [(pid, start_time(pid)) for pid in tree_pids(self.pid)[1:]]
        self.popen.send_signal(signal.SIGTERM)
        try:
            self.popen.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            self.popen.kill()
            self.popen.wait(timeout=5)
        deadline = time.monotonic() + 5
        for pid, started in descendants:
            while start_time(pid) == started and time.monotonic() < deadline:
                time.sleep(0.05)
            if started is not None and start_time(pid) == started:
                os.kill(pid, signal.SIGKILL)
