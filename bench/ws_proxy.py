"""What the front's WebSocket pipe costs: `python -m bench.ws_proxy [--messages N]`.

Starts `commandpost serve` with 2 workers (its own private Redis), joins one client through
the front and one straight to the room's worker, and sends N `ping` messages one after the
other on each (a `pong` comes back for each): round-trip time both ways, and the front's CPU
per relayed frame (each round trip is two frames through the front). Writes
bench/results/<date>-ws-proxy.json.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import secrets
import statistics
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

import aiohttp

from bench.procs import Proc, cpu_seconds
from bench.servers import REPO_ROOT, free_port

RESULTS = Path(__file__).resolve().parent / "results"


def _get(url: str, data: bytes | None = None) -> Any:
    request = urllib.request.Request(url, data=data, method="POST" if data else "GET",
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())


def start(workdir: Path) -> tuple[Proc, str]:
    port = free_port()
    env = {"COMMANDPOST_REDIS_URL": "", "COMMANDPOST_SERVER_PORT": str(port),
           "COMMANDPOST_SERVER_DATA_DIR": str(workdir / "data"),
           "COMMANDPOST_SERVER_SECRET": secrets.token_urlsafe(32),
           "COMMANDPOST_SERVER_WORKERS": "2", "COMMANDPOST_LOG_LEVEL": "warning",
           "COMMANDPOST_LIMITS_WS_MESSAGES_PER_SECOND": "10000",
           "COMMANDPOST_LIMITS_WS_MESSAGE_BURST": "100000"}
    env = {k: v for k, v in os.environ.items() if not k.startswith("COMMANDPOST_")} | env
    proc = Proc("commandpost", [sys.executable, "-m", "signaling.cli", "serve"],
                workdir / "commandpost.log", env=env, cwd=REPO_ROOT)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if _get(base + "/healthz")["status"] == "ok":
                return proc, base
        except OSError:
            pass
        time.sleep(0.2)
    proc.stop()
    raise RuntimeError("commandpost did not start")


async def round_trips(url: str, code: str, count: int, front_pid: int) -> dict[str, float]:
    async with aiohttp.ClientSession() as http:
        async with http.ws_connect(url + "/ws") as ws:
            await ws.send_json({"type": "join", "code": code, "name": "bench"})
            while (await ws.receive_json()).get("type") != "joined":
                pass
            rtts = []
            cpu0 = cpu_seconds(front_pid)
            for i in range(count):
                start = time.perf_counter()
                await ws.send_str(json.dumps({"type": "ping", "t": i}))
                while True:
                    msg = await ws.receive_json()
                    if msg.get("type") == "pong":
                        break
                rtts.append((time.perf_counter() - start) * 1000)
            cpu = cpu_seconds(front_pid) - cpu0
    rtts.sort()
    return {"rtt_p50_ms": statistics.median(rtts), "rtt_p99_ms": rtts[int(len(rtts) * 0.99)],
            "front_cpu_us_per_frame": cpu / (2 * count) * 1e6}


async def measure(base: str, front_pid: int, count: int) -> dict[str, Any]:
    room = _get(base + "/api/rooms", b'{"name": "ws proxy bench"}')
    # A member joined through the front pins the room to a worker for the whole run.
    async with aiohttp.ClientSession() as http:
        async with http.ws_connect(base + "/ws") as holder:
            await holder.send_json({"type": "join", "code": room["share_code"],
                                    "name": "holder"})
            while (await holder.receive_json()).get("type") != "joined":
                pass
            node = _room_node(base, room)
            worker = next(w for w in _get(base + "/healthz")["workers"]
                          if w["node_id"] == node)
            direct = f"http://127.0.0.1:{worker['port']}"
            results = {}
            for label, url in (("direct", direct), ("front", base),
                               ("direct_again", direct), ("front_again", base)):
                results[label] = await round_trips(url, room["share_code"], count, front_pid)
    return results


def _room_node(base: str, room: dict[str, Any]) -> str:
    request = urllib.request.Request(f"{base}/api/rooms/{room['room_id']}",
                                     headers={"Authorization": f"Bearer {room['host_token']}"})
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())["node"]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.ws_proxy")
    parser.add_argument("--messages", type=int, default=3000)
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/cp-bench-ws-proxy"))
    args = parser.parse_args(argv)
    args.workdir.mkdir(parents=True, exist_ok=True)
    proc, base = start(args.workdir)
    try:
        results = asyncio.run(measure(base, proc.pid, args.messages))
    finally:
        proc.stop()
    results["messages"] = args.messages
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / f"{time.strftime('%Y-%m-%d')}-ws-proxy.json"
    out.write_text(json.dumps(results, indent=1) + "\n")
    for label, row in results.items():
        if isinstance(row, dict):
            print(f"{label:13s} rtt p50 {row['rtt_p50_ms']:.3f} ms  p99 {row['rtt_p99_ms']:.3f} ms"
                  f"  front CPU {row['front_cpu_us_per_frame']:.1f} us/frame")
    print(f"written {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
