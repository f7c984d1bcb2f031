"""SFU worker processes behind the front: spawn, watch, restart, and know their load.

Each worker is a full `commandpost serve` node (own node id `<front id>-w<i>`, own loopback
HTTP port, own UDP sockets for media) sharing the front's Redis. The front starts them with
`--worker-of <front pid>`, so a worker also exits when its front vanishes. A worker that dies
is restarted with the same node id (its pinned rooms come back to it); meanwhile its
heartbeat key is dropped at once, so a join for one of its rooms is assigned to a live
worker by the ordinary dead-node rule of the room claim (docs/ARCHITECTURE.md).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import socket
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import aiohttp

from signaling.store import Store

log = logging.getLogger(__name__)
READY_TIMEOUT_S = 60.0
POLL_INTERVAL_S = 1.0
RESTART_MIN_S = 0.5
RESTART_MAX_S = 30.0
STABLE_AFTER_S = 10.0  # a worker that lived this long restarts without back-off
STOP_TIMEOUT_S = 15.0
START_ATTEMPTS = 3  # a worker that never came up this often fails `serve` at start-up


class WorkerStartError(RuntimeError):
    """The SFU workers could not be started (the log says why)."""


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def worker_node_id(front_node_id: str, index: int) -> str:
    return f"{front_node_id[:58]}-w{index}"


@dataclass
class Worker:
    """One worker slot; its process changes on restart, its node id does not."""

    index: int
    node_id: str
    proc: asyncio.subprocess.Process | None = None
    port: int = 0
    state: str = "starting"  # starting | ready | dead | stopped
    restarts: int = 0
    rooms: int = 0
    participants: int = 0
    assigned: int = 0  # rooms handed to it since its last health poll
    started_at: float = 0.0
    cpu: float = 0.0  # cores used over the last poll interval
    ready_event: asyncio.Event = field(default_factory=asyncio.Event)
    _cpu_mark: tuple[float, float] | None = None  # (monotonic time, CPU seconds)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.proc is not None else None

    @property
    def load(self) -> int:
        return self.rooms + self.assigned

    def report(self) -> dict[str, Any]:
        return {"index": self.index, "node_id": self.node_id, "pid": self.pid,
                "port": self.port, "state": self.state, "rooms": self.rooms,
                "participants": self.participants, "cpu": round(self.cpu, 3),
                "restarts": self.restarts}

    def sample_cpu(self) -> None:
        """Cores this worker used since the last sample (Linux /proc; 0 elsewhere)."""
        used = process_cpu_s(self.pid) if self.pid else None
        now = time.monotonic()
        if used is None:
            self.cpu, self._cpu_mark = 0.0, None
            return
        if self._cpu_mark is not None and now > self._cpu_mark[0]:
            self.cpu = max(0.0, (used - self._cpu_mark[1]) / (now - self._cpu_mark[0]))
        self._cpu_mark = (now, used)


def process_cpu_s(pid: int) -> float | None:
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class WorkerPool:
    """Runs `count` workers; `argv` starts one (without the port/node id, given by env)."""

    def __init__(self, count: int, front_node_id: str, argv: Sequence[str],
                 env: Mapping[str, str], store: Store) -> None:
        self.workers = [Worker(i, worker_node_id(front_node_id, i)) for i in range(count)]
        self._argv = list(argv)
        self._env = dict(env)
        self._store = store
        self._stopping = False
        self._tasks: list[asyncio.Task[None]] = []
        self._http: aiohttp.ClientSession | None = None
        self._broken = asyncio.Event()  # a worker keeps failing before it is ever ready

    # lifecycle
    async def start(self) -> None:
        """Spawn every worker and return when all answer /healthz (or one fails to)."""
        self._http = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=5))
        for worker in self.workers:
            self._tasks.append(asyncio.create_task(self._keep_running(worker),
                                                   name=f"worker-{worker.index}"))
        self._tasks.append(asyncio.create_task(self._poll_loop(), name="worker-poll"))
        all_ready = asyncio.gather(*(w.ready_event.wait() for w in self.workers))
        broken = asyncio.ensure_future(self._broken.wait())
        await asyncio.wait([all_ready, broken], timeout=READY_TIMEOUT_S,
                           return_when=asyncio.FIRST_COMPLETED)
        all_ready.cancel()
        broken.cancel()
        missing = [w.index for w in self.workers if w.state != "ready"]
        if missing:
            raise WorkerStartError(f"SFU workers {missing} of {len(self.workers)} did not start "
                               "(see the log above)")

    async def stop(self) -> None:
        """SIGTERM every worker (they shut down cleanly), SIGKILL what hangs."""
        self._stopping = True
        for worker in self.workers:
            if worker.proc is not None and worker.proc.returncode is None:
                worker.proc.terminate()
        procs = [w.proc for w in self.workers if w.proc is not None]
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(asyncio.gather(*(p.wait() for p in procs)), STOP_TIMEOUT_S)
        for proc in procs:
            if proc.returncode is None:
                log.warning("worker pid %d did not stop; killing it", proc.pid)
                proc.kill()
                await proc.wait()
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        for worker in self.workers:
            worker.state = "stopped"
        if self._http is not None:
            await self._http.close()

    # choosing
    def ready(self) -> list[Worker]:
        return [w for w in self.workers if w.state == "ready"]

    def by_node(self, node_id: str) -> Worker | None:
        return next((w for w in self.workers if w.node_id == node_id), None)

    def least_loaded(self) -> Worker | None:
        ready = self.ready()
        return min(ready, key=lambda w: (w.load, w.participants, w.index)) if ready else None

    async def wait_ready(self, worker: Worker, timeout: float) -> bool:
        if worker.state != "ready":
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(worker.ready_event.wait(), timeout)
        return worker.state == "ready"

    # one slot
    async def _keep_running(self, worker: Worker) -> None:
        backoff = RESTART_MIN_S
        failed_starts = 0
        while not self._stopping:
            await self._spawn(worker)
            assert worker.proc is not None
            ready = asyncio.create_task(self._await_ready(worker))
            code = await worker.proc.wait()
            ready.cancel()
            if worker.state != "ready":
                failed_starts += 1
                if failed_starts >= START_ATTEMPTS:
                    self._broken.set()
            else:
                failed_starts = 0
            worker.state, worker.rooms, worker.participants = "dead", 0, 0
            worker.ready_event.clear()
            if self._stopping:
                return
            log.warning("worker %d (node %s, pid %d) exited with %s; restarting",
                        worker.index, worker.node_id, worker.proc.pid, code)
            await self._forget(worker)
            lived = time.monotonic() - worker.started_at
            backoff = RESTART_MIN_S if lived > STABLE_AFTER_S else min(backoff * 2,
                                                                        RESTART_MAX_S)
            await asyncio.sleep(backoff)
            worker.restarts += 1

    async def _spawn(self, worker: Worker) -> None:
        worker.port = free_port()
        env = dict(self._env)
        env.update({"COMMANDPOST_SERVER_HOST": "127.0.0.1",
                    "COMMANDPOST_SERVER_PORT": str(worker.port),
                    "COMMANDPOST_SERVER_NODE_ID": worker.node_id,
                    "COMMANDPOST_SERVER_WORKERS": "1"})
        worker.state, worker.assigned = "starting", 0
        worker.started_at = time.monotonic()
        worker.proc = await asyncio.create_subprocess_exec(*self._argv, env=env)
        log.info("worker %d: node %s, pid %d, port %d", worker.index, worker.node_id,
                 worker.proc.pid, worker.port)

    async def _await_ready(self, worker: Worker) -> None:
        deadline = time.monotonic() + READY_TIMEOUT_S
        while time.monotonic() < deadline:
            if await self._poll(worker):
                worker.state = "ready"
                worker.ready_event.set()
                print(f"CommandPost worker {worker.index} ready: node {worker.node_id}, "
                      f"pid {worker.pid}, {worker.url}", flush=True)
                return
            await asyncio.sleep(0.1)
        log.error("worker %d did not answer /healthz within %g s; killing it", worker.index,
                  READY_TIMEOUT_S)
        if worker.proc is not None and worker.proc.returncode is None:
            worker.proc.kill()

    async def _forget(self, worker: Worker) -> None:
        """A dead worker's heartbeat would keep its rooms for up to its TTL; drop it now."""
        try:
            await self._store.drop_node(worker.node_id)
        except Exception as exc:
            log.warning("could not drop the heartbeat of worker %d: %s", worker.index, exc)

    # load
    async def _poll_loop(self) -> None:
        while True:
            await asyncio.sleep(POLL_INTERVAL_S)
            await asyncio.gather(*(self._poll(w) for w in self.ready()))

    async def _poll(self, worker: Worker) -> bool:
        """Refresh the worker's load from its /healthz; True if it answered 200."""
        assert self._http is not None
        pid = worker.pid
        try:
            async with self._http.get(worker.url + "/healthz") as response:
                if response.status != 200:
                    return False
                health = json.loads(await response.text())
        except (aiohttp.ClientError, asyncio.TimeoutError, ValueError):
            return False
        if health.get("pid") not in (None, pid):
            return False  # another process on that port
        worker.sample_cpu()
        worker.rooms = int(health.get("rooms", 0))
        worker.participants = int(health.get("participants", 0))
        worker.assigned = 0
        return True


def worker_argv(config_path: str | None, front_pid: int) -> list[str]:
    argv = [sys.executable, "-m", "signaling.cli", "serve", "--worker-of", str(front_pid)]
    if config_path:
        argv += ["--config", os.path.abspath(config_path)]
    return argv
