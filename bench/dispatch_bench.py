"""`python -m bench.dispatch_bench [--quick]`: dispatch write throughput and live-event delay.

A real `commandpost serve` (pinned to one core with taskset when there is one) on a private
redis-server with the append-only file on (appendfsync everysec). Measures
1. task writes per second: creates and status transitions over REST, 32 in flight;
2. the delay from a dispatch (operator's REST POST /api/dispatch/tasks) to the
   `dispatch_task` event at the field client of that unit, with 200 units connected
   (200 WebSocket sessions, each subscribed with its member token), p50/p99.
Prints the figures and writes JSON to bench/results/dispatch-<time>.json.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import aiohttp

from bench.procs import cpu_seconds
from bench.stack import pinned, start_stack

ROOT = Path(__file__).resolve().parents[1]
API_KEY = "bench-api-key-000"


def start(workdir: Path) -> tuple[list[subprocess.Popen[bytes]], str]:
    procs, base, _ = start_stack(workdir, {
        "COMMANDPOST_SERVER_API_KEY": API_KEY, "COMMANDPOST_SERVER_WORKERS": "0",
        "COMMANDPOST_LIMITS_MAX_PARTICIPANTS_PER_ROOM": "300",
        "COMMANDPOST_LIMITS_WS_MESSAGES_PER_SECOND": "1000"})
    return procs, base


class Api:
    def __init__(self, http: aiohttp.ClientSession, base: str) -> None:
        self.http, self.base = http, base

    async def post(self, path: str, body: dict[str, Any], token: str = API_KEY) -> Any:
        async with self.http.post(self.base + path, json=body, headers={
                "Authorization": f"Bearer {token}", "Idempotency-Key": uuid.uuid4().hex}) as r:
            data = await r.json()
            if r.status >= 300:
                raise RuntimeError(f"{path}: {r.status} {data}")
            return data


async def writes_per_second(api: Api, unit_id: str, seconds: float, pids: list[int],
                            in_flight: int = 32) -> dict[str, Any]:
    done = 0
    stop = time.perf_counter() + seconds

    async def worker() -> None:
        nonlocal done
        while time.perf_counter() < stop:
            task = await api.post("/api/dispatch/tasks", {
                "title": "bench", "assignee": {"unit_id": unit_id}, "deadline_in_s": 86400})
            done += 1
            for step in ("acknowledged", "en_route", "on_scene", "resolved"):
                if time.perf_counter() >= stop:
                    break
                await api.post(f"/api/dispatch/tasks/{task['task_id']}/transition",
                               {"status": step})
                done += 1
    cpu_before = [cpu_seconds(pid) for pid in pids]
    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(in_flight)))
    elapsed = time.perf_counter() - started
    server_cpu, redis_cpu = (cpu_seconds(pid) - before for pid, before in zip(pids, cpu_before))
    # On a shared machine the wall-clock rate depends on the neighbours; CPU seconds spent
    # by the server process do not, so writes per server CPU second is the one-core figure.
    return {"writes": done, "seconds": round(elapsed, 2),
            "writes_per_s": round(done / elapsed, 1), "in_flight": in_flight,
            "server_cpu_s": round(server_cpu, 2), "redis_cpu_s": round(redis_cpu, 2),
            "writes_per_server_cpu_s": round(done / server_cpu, 1) if server_cpu else None}


class Field:
    """One field phone: joined to the room, subscribed with its member token."""

    def __init__(self) -> None:
        self.arrived: dict[str, float] = {}
        self.event = asyncio.Event()

    async def connect(self, http: aiohttp.ClientSession, base: str, code: str,
                      token: str) -> None:
        self.ws = await http.ws_connect(base.replace("http", "ws", 1) + "/ws")
        await self.ws.send_json({"type": "join", "code": code, "name": "field"})
        await self._until("joined")
        await self.ws.send_json({"type": "dispatch_subscribe", "token": token})
        await self._until("dispatch_subscribed")
        self.reader = asyncio.create_task(self._read())

    async def _until(self, kind: str) -> dict[str, Any]:
        while True:
            msg = await self.ws.receive_json(timeout=30)
            if msg.get("type") == "error":
                raise RuntimeError(msg)
            if msg.get("type") == kind:
                return msg  # type: ignore[no-any-return]

    async def _read(self) -> None:
        async for msg in self.ws:
            if msg.type is not aiohttp.WSMsgType.TEXT:
                continue
            data = json.loads(msg.data)
            if data.get("type") == "dispatch_task" and data.get("action") == "created":
                self.arrived[data["task"]["task_id"]] = time.perf_counter()
                self.event.set()


async def dispatch_delay(api: Api, http: aiohttp.ClientSession, units: int, samples: int
                         ) -> dict[str, Any]:
    # Field units are spread over rooms of 20 (a room per incident area), as in use: one
    # room of 200 would measure the join/presence fan-out of a 200-person room instead.
    rooms = [await api.post("/api/rooms", {"name": f"area {r}"}, API_KEY)
             for r in range((units + 19) // 20)]

    async def one(i: int) -> tuple[Field, str]:
        room = rooms[i // 20]
        unit = await api.post("/api/dispatch/units", {"name": f"unit {i:03d}"})
        member = await api.post("/api/dispatch/members", {"name": f"m{i}",
                                                          "unit_id": unit["unit_id"]})
        token = await api.post(f"/api/dispatch/members/{member['member_id']}/token", {})
        field = Field()
        await field.connect(http, api.base, room["share_code"], token["token"])
        return field, unit["unit_id"]
    pairs: list[tuple[Field, str]] = []
    for batch in range(0, units, 20):  # 20 phones at a time, like a shift starting
        pairs += await asyncio.gather(*(one(i) for i in range(batch, min(units, batch + 20))))
        print(f"{len(pairs)} field clients connected", file=sys.stderr, flush=True)
    fields, unit_ids = [p[0] for p in pairs], [p[1] for p in pairs]
    delays = []
    for n in range(samples):
        i = n % units
        fields[i].event.clear()
        sent = time.perf_counter()
        task = await api.post("/api/dispatch/tasks", {
            "title": "go", "assignee": {"unit_id": unit_ids[i]}, "deadline_in_s": 3600})
        while task["task_id"] not in fields[i].arrived:
            await asyncio.wait_for(fields[i].event.wait(), 10)
            fields[i].event.clear()
        delays.append((fields[i].arrived[task["task_id"]] - sent) * 1000)
    for field in fields:
        field.reader.cancel()
        await field.ws.close()
    ordered = sorted(delays)
    return {"units_connected": units, "samples": samples,
            "p50_ms": round(statistics.median(ordered), 2),
            "p99_ms": round(ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))], 2),
            "max_ms": round(ordered[-1], 2)}


async def run(quick: bool, base: str, units: int, pids: list[int]) -> dict[str, Any]:
    # No connection cap: aiohttp's default (100) would stall the 101st field WebSocket.
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as http:
        api = Api(http, base)
        unit = await api.post("/api/dispatch/units", {"name": "bench"})
        writes = await writes_per_second(api, unit["unit_id"], 3 if quick else 10, pids)
        delay = await dispatch_delay(api, http, units, 60 if quick else 400)
    return {"writes": writes, "dispatch_to_field_event": delay}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.dispatch_bench", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="shorter runs (a smoke check)")
    parser.add_argument("--units", type=int, default=200, help="field clients connected")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="dispatch-bench-") as tmp:
        procs, base = start(Path(tmp))
        try:
            figures = asyncio.run(run(args.quick, base, args.units, [p.pid for p in procs]))
        finally:
            for proc in procs:
                proc.terminate()
                proc.wait(15)
    result = {"bench": "dispatch", "quick": args.quick, "time": time.time(),
              "server_pinned_to_one_core": bool(pinned(0)), "redis": "appendonly yes, "
              "appendfsync everysec", **figures}
    out = ROOT / "bench" / "results" / time.strftime("dispatch-%Y%m%d-%H%M%S.json")
    out.write_text(json.dumps(result, indent=1))
    print(json.dumps(result, indent=1))
    print(f"written to {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
