"""`python -m bench.whiteboard_fanout [--quick]`: 30 people drawing at once on one board.

A real `commandpost serve` (pinned to one core when there are two or more) on a private
redis-server with the append-only file on. N WebSocket participants (default 30) join one
room and all draw at once, as a browser does: every 60 ms a `wb_live` with the stroke's new
points (3 per batch) and a pointer, and every 2 s the finished stroke as a `wb_op` upsert.
Measures, over the drawing window:
- live fan-out latency: from a drawer's `wb_live` send to its arrival (coalesced, in the
  server's per-tick `wb_live`) at every other participant, p50/p99 (target p99 < 50 ms);
- operation latency: from a `wb_op` send to the `wb_elements` carrying it at the others
  (includes the Redis write before fan-out), p50/p99;
- server CPU (the serve process, Redis apart) per 1000 client messages (live + ops), and
  the messages the server sent per client message (coalescing at work);
- then, for half as long, operations only (each participant a finished 20-point stroke
  every 100 ms, every one stored in Redis and fanned out): server CPU per 1000 operations
  and their latency.
The clients run in this process on the other core; latency is taken at the first 6 of them
(the others receive everything but do not parse it, so this process keeps up). Prints the figures and writes JSON to
bench/results/whiteboard-<time>.json.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import aiohttp

from bench.procs import cpu_seconds
from bench.stack import start_stack

ROOT = Path(__file__).resolve().parents[1]
# A browser (web/static/js/wb-sync.js) batches pointer samples into one wb_live per 60 ms,
# which keeps it under the core limit of 20 messages/s with its wb_ops and pings.
LIVE_PERIOD_S = 0.06
POINTS_PER_BATCH = 3
STROKE_BATCHES = 33  # a stroke lasts 2 s, then it is sent as one wb_op
TARGET_P99_MS = 50.0
OP_PERIOD_S = 0.1  # phase 2: each participant stores 10 operations a second
# Latency is measured at this many participants (all 30 draw and receive everything); the
# others only count frames, so the one client process does not become the bottleneck.
OBSERVERS = 6


def start_server(workdir: Path, tick_ms: int, aof: bool = True
                 ) -> tuple[list[subprocess.Popen[bytes]], str]:
    procs, base, _ = start_stack(workdir, {
        "COMMANDPOST_SERVER_WORKERS": "0",
        "COMMANDPOST_LIMITS_MAX_PARTICIPANTS_PER_ROOM": "300",
        "COMMANDPOST_WHITEBOARD_TICK_MS": str(tick_ms)}, aof=aof)
    return procs, base


class Drawer:
    """One participant: draws, and timestamps what arrives from the others."""

    def __init__(self, n: int, sent: dict[tuple[str, int], float],
                 ops_sent: dict[str, float]) -> None:
        self.n = n
        self.sent, self.ops_sent = sent, ops_sent
        self.pid = ""
        self.ws: aiohttp.ClientWebSocketResponse | None = None
        self.live_ms: list[float] = []
        self.op_ms: list[float] = []
        self.drawing_op_ms: list[float] = []
        self.messages_in = 0
        self.errors: list[dict[str, Any]] = []
        self.recording = False
        self.measures = n < OBSERVERS

    async def join(self, http: aiohttp.ClientSession, base: str, code: str) -> None:
        self.ws = await http.ws_connect(base.replace("http", "ws", 1) + "/ws",
                                        max_msg_size=16 * 1024 * 1024)
        await self.ws.send_json({"type": "join", "code": code, "name": f"Drawer {self.n}"})
        while True:
            msg = json.loads((await self.ws.receive()).data)
            if msg["type"] == "joined":
                self.pid = msg["participant_id"]
                return

    async def read(self) -> None:
        assert self.ws is not None
        async for frame in self.ws:
            if frame.type is not aiohttp.WSMsgType.TEXT:
                continue
            now = time.perf_counter()
            self.messages_in += 1
            if not self.recording:
                continue
            if not self.measures:  # one client process for all: only observers parse
                if frame.data.startswith('{"type":"error"'):
                    self.errors.append(json.loads(frame.data))
                continue
            msg = json.loads(frame.data)
            kind = msg["type"]
            if kind == "wb_live":
                for user in msg["users"]:
                    started = self.sent.get((user["participant_id"], user.get("seq", -1)))
                    if started is not None:
                        self.live_ms.append((now - started) * 1000)
            elif kind == "wb_elements":
                for element in msg["elements"]:
                    started = self.ops_sent.get(element["id"])
                    if started is not None and element.get("updated_by") != self.pid:
                        self.op_ms.append((now - started) * 1000)
            elif kind == "error":
                self.errors.append(msg)

    async def draw(self, until: float) -> tuple[int, int]:
        """Draw strokes until `until`; returns (live messages, operations) sent."""
        assert self.ws is not None
        seq = lives = ops = strokes = 0
        x0 = 20.0 * self.n
        points: list[list[float]] = []
        await asyncio.sleep(LIVE_PERIOD_S * self.n / 30)  # spread the drawers over a period
        next_at = time.perf_counter()
        while time.perf_counter() < until:
            stroke_id = f"b{self.n:03d}s{strokes:05d}"
            for _ in range(STROKE_BATCHES):
                batch = [[x0 + len(points) + i, 100.0 + (seq % 50)] for i in
                         range(POINTS_PER_BATCH)]
                points += batch
                seq += 1
                self.sent[(self.pid, seq)] = time.perf_counter()
                await self.ws.send_str(json.dumps({
                    "type": "wb_live", "board_id": "main", "seq": seq,
                    "stroke": {"id": stroke_id, "type": "pen", "color": "#e5484d",
                               "width": 4, "points": batch},
                    "pointer": {"points": [batch[-1]]}}))
                lives += 1
                # A late timer sends the next batch late, never two at once (as a browser)
                next_at = max(next_at + LIVE_PERIOD_S, time.perf_counter())
                await asyncio.sleep(next_at - time.perf_counter())
            self.ops_sent[stroke_id] = time.perf_counter()
            await self.ws.send_str(json.dumps({
                "type": "wb_op", "board_id": "main", "op": "upsert", "elements": [{
                    "id": stroke_id, "type": "pen", "points": points[-1000:],
                    "color": "#e5484d", "width": 4, "index": f"a{self.n:03d}{strokes:05d}",
                    "version": 1, "version_nonce": self.n}]}))
            ops += 1
            strokes += 1
            points = []
        return lives, ops


    async def write(self, until: float, period: float) -> int:
        """Finished strokes only (20-point pens), one `wb_op` per `period`; returns how many."""
        assert self.ws is not None
        count = 0
        await asyncio.sleep(period * self.n / 30)
        next_at = time.perf_counter()
        while time.perf_counter() < until:
            element_id = f"w{self.n:03d}o{count:05d}"
            self.ops_sent[element_id] = time.perf_counter()
            await self.ws.send_str(json.dumps({
                "type": "wb_op", "board_id": "ops", "op": "upsert", "elements": [{
                    "id": element_id, "type": "pen", "color": "#0090ff", "width": 3,
                    "points": [[self.n * 10.0 + i, count % 500 + i / 2] for i in range(20)],
                    "index": f"b{self.n:03d}{count:05d}", "version": 1,
                    "version_nonce": count}]}))
            count += 1
            next_at = max(next_at + period, time.perf_counter())
            await asyncio.sleep(next_at - time.perf_counter())
        return count


def pct(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))], 2)


async def run(base: str, server_pid: int, participants: int, seconds: float) -> dict[str, Any]:
    async with aiohttp.ClientSession() as http:
        async with http.post(base + "/api/rooms", json={"name": "whiteboard bench"}) as r:
            room = await r.json()
        sent: dict[tuple[str, int], float] = {}
        ops_sent: dict[str, float] = {}
        drawers = [Drawer(n, sent, ops_sent) for n in range(participants)]
        for drawer in drawers:
            await drawer.join(http, base, room["share_code"])
        readers = [asyncio.create_task(d.read()) for d in drawers]
        await asyncio.sleep(1.0)  # joins settle
        for drawer in drawers:
            drawer.recording = True
        cpu0, t0, me0 = cpu_seconds(server_pid), time.perf_counter(), time.process_time()
        totals = await asyncio.gather(*(d.draw(t0 + seconds) for d in drawers))
        await asyncio.sleep(0.5)  # the last fan-outs arrive
        cpu1, t1, me1 = cpu_seconds(server_pid), time.perf_counter(), time.process_time()
        # phase 2: only stored operations (each one a Redis write), 10 a second per person
        for drawer in drawers:
            drawer.drawing_op_ms, drawer.op_ms = drawer.op_ms, []
        cpu2, t2, me2 = cpu_seconds(server_pid), time.perf_counter(), time.process_time()
        written = sum(await asyncio.gather(*(d.write(t2 + seconds / 2, OP_PERIOD_S)
                                              for d in drawers)))
        await asyncio.sleep(0.5)
        cpu3, t3, me3 = cpu_seconds(server_pid), time.perf_counter(), time.process_time()
        for task in readers:
            task.cancel()
        for drawer in drawers:
            assert drawer.ws is not None
            await drawer.ws.close()
    lives = sum(t[0] for t in totals)
    ops = sum(t[1] for t in totals)
    live_ms = [v for d in drawers for v in d.live_ms]
    op_ms = [v for d in drawers for v in d.drawing_op_ms]
    ops_only = [v for d in drawers for v in d.op_ms]
    received = sum(d.messages_in for d in drawers)
    cpu = cpu1 - cpu0
    return {
        "participants": participants, "seconds": round(t1 - t0, 2),
        "client_messages": lives + ops, "live_messages": lives, "operations": ops,
        "server_messages_out": received,
        "server_messages_per_client_message": round(received / max(1, lives + ops), 2),
        "live_latency_ms": {"p50": pct(live_ms, 0.5), "p99": pct(live_ms, 0.99),
                            "max": pct(live_ms, 1.0), "samples": len(live_ms)},
        "op_latency_ms": {"p50": pct(op_ms, 0.5), "p99": pct(op_ms, 0.99),
                          "samples": len(op_ms)},
        "server_cpu_s": round(cpu, 3),
        "server_cpu_percent": round(100 * cpu / (t1 - t0), 1),
        # the clients share one process: if this nears 100 %, latency is the clients' own
        "client_cpu_percent": round(100 * (me1 - me0) / (t1 - t0), 1),
        "server_cpu_ms_per_1000_client_messages": round(1e6 * cpu / max(1, lives + ops), 1),
        "ops_phase": {
            "operations": written, "seconds": round(t3 - t2, 2),
            "ops_per_second": round(written / (t3 - t2), 1),
            "latency_ms": {"p50": pct(ops_only, 0.5), "p99": pct(ops_only, 0.99),
                           "samples": len(ops_only)},
            "server_cpu_ms_per_1000_ops": round(1e6 * (cpu3 - cpu2) / max(1, written), 1),
            "server_cpu_percent": round(100 * (cpu3 - cpu2) / (t3 - t2), 1),
            "client_cpu_percent": round(100 * (me3 - me2) / (t3 - t2), 1)},
        "errors": [e for d in drawers for e in d.errors][:10],
        "mean_live_samples_per_observer": round(statistics.mean(
            len(d.live_ms) for d in drawers if d.measures), 1),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.whiteboard_fanout",
                                     description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="5 s of drawing instead of 20")
    parser.add_argument("--participants", type=int, default=30)
    parser.add_argument("--tick-ms", type=int, default=20, help="whiteboard.tick_ms")
    parser.add_argument("--seconds", type=float, default=0.0)
    parser.add_argument("--no-aof", action="store_true",
                        help="Redis without its append-only file (to tell disk waits apart)")
    args = parser.parse_args(argv)
    seconds = args.seconds or (5.0 if args.quick else 20.0)
    with tempfile.TemporaryDirectory(prefix="wb-bench-") as tmp:
        procs, base = start_server(Path(tmp), args.tick_ms, aof=not args.no_aof)
        try:
            result = asyncio.run(run(base, procs[0].pid, args.participants, seconds))
        finally:
            for proc in procs:  # the server first: it stores what it holds in Redis
                proc.terminate()
                try:
                    proc.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    print(f"pid {proc.pid} did not stop within 30 s; killing it",
                          file=sys.stderr)
                    proc.kill()
                    proc.wait()
    result |= {"tick_ms": args.tick_ms, "quick": args.quick, "redis_aof": not args.no_aof,
               "load_average_1m": round(os.getloadavg()[0], 2), "cpus": os.cpu_count(),
               "target_live_p99_ms": TARGET_P99_MS,
               "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
    out = ROOT / "bench" / "results" / f"whiteboard-{time.strftime('%Y-%m-%d-%H%M%S')}.json"
    out.write_text(json.dumps(result, indent=1) + "\n")
    print(json.dumps(result, indent=1))
    live = result["live_latency_ms"]
    print(f"\n{args.participants} drawers: live fan-out p50 {live['p50']} ms, p99 {live['p99']} "
          f"ms (target < {TARGET_P99_MS:g}); op p99 {result['op_latency_ms']['p99']} ms; "
          f"server CPU {result['server_cpu_ms_per_1000_client_messages']} ms per 1000 "
          f"client messages ({result['server_cpu_percent']} % of a core); "
          f"{result['ops_phase']['server_cpu_ms_per_1000_ops']} ms per 1000 stored ops "
          f"(op p99 {result['ops_phase']['latency_ms']['p99']} ms); load average "
          f"{result['load_average_1m']}; written {out}")
    return 0 if not result["errors"] else 1


if __name__ == "__main__":
    sys.exit(main())
