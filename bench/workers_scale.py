"""Several rooms on one CommandPost, with 1 SFU worker process and with N:
`python -m bench.workers_scale [--rooms 2] [--workers 1,2] [--subscribers 16]`.

Each room gets its own load generator process (P publishers, S subscribers, the load of
`python -m bench`), all against the same server at once. While every load generator is in
its measuring window, the CPU of each server process (front, workers, Redis) is sampled
from /proc, so the table shows how the rooms' work spreads over cores. Writes
bench/results/<date>-workers.json.
"""

from __future__ import annotations

import argparse
import datetime
import json
import sys
import tempfile
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

from bench import metrics, servers
from bench.clip import ClipSpec, ensure_clip
from bench.loadgen.run import LoadConfig
from bench.procs import (Proc, cpu_seconds, machine_busy_seconds, tree_cpu_seconds,
                         tree_pids)
from bench.runner import LOADGEN_SLACK_S, REPO_ROOT

RESULTS = Path(__file__).resolve().parent / "results"
SETUP_TIMEOUT_S = 90.0


def _role(pid: int) -> str:
    try:
        argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return "gone"
    text = " ".join(a.decode(errors="replace") for a in argv)
    if "redis-server" in text:
        return "redis"
    return "worker" if "--worker-of" in text else "front/server"


def _cpu_snapshot(root: int) -> dict[int, tuple[str, float]]:
    return {pid: (_role(pid), cpu_seconds(pid)) for pid in tree_pids(root)}


def run_once(workers: int, args: argparse.Namespace, clip: Path, work: Path) -> dict[str, Any]:
    per_room = args.publishers + args.subscribers
    server = servers.start_commandpost(work, args.rooms * per_room,
                                       {"SERVER_WORKERS": str(workers)})
    gens: list[tuple[Proc, Path]] = []
    try:
        for room in range(args.rooms):
            config = LoadConfig(server="commandpost", base_url=server.base_url,
                                server_pid=server.pid, clip_path=str(clip),
                                publishers=args.publishers, subscribers=args.subscribers,
                                warmup_s=args.warmup_s, duration_s=args.duration_s,
                                setup_timeout_s=SETUP_TIMEOUT_S, secret=server.secret)
            log_path = work / f"loadgen-room{room}.log"
            gens.append((Proc(f"loadgen{room}", [sys.executable, "-m", "bench.loadgen",
                                                 json.dumps(asdict(config))],
                              log_path, cwd=REPO_ROOT), log_path))
            time.sleep(1.0)  # room creation and first publish one after the other
        per_process = _sample_window(server.pid, gens, args.duration_s)
        results = [_result(proc, path, args) for proc, path in gens]
    finally:
        for proc, _ in gens:
            proc.stop(timeout_s=5)
        server.stop()
    return {"workers": workers, "rooms": results, "server_processes": per_process}


def _sample_window(root: int, gens: list[tuple[Proc, Path]], duration_s: float
                   ) -> list[dict[str, Any]] | None:
    """CPU of each server process over the part of the window all load generators share."""
    deadline = time.monotonic() + SETUP_TIMEOUT_S + 30
    while not all("WINDOW_OPEN" in p.log_tail(100_000) for p, _ in gens):
        if time.monotonic() > deadline or not all(p.alive() for p, _ in gens):
            return None
        time.sleep(0.1)
    span = duration_s * 0.7
    gen_pids = [p.pid for p, _ in gens]
    before, t0 = _cpu_snapshot(root), time.monotonic()
    gens0, busy0 = sum(tree_cpu_seconds(p) for p in gen_pids), machine_busy_seconds()
    time.sleep(span)
    after, elapsed = _cpu_snapshot(root), time.monotonic() - t0
    gens1, busy1 = sum(tree_cpu_seconds(p) for p in gen_pids), machine_busy_seconds()
    rows = [{"pid": pid, "role": role, "cores": (after[pid][1] - cpu) / elapsed}
            for pid, (role, cpu) in before.items() if pid in after]
    server = sum(r["cores"] for r in rows)
    loadgens = (gens1 - gens0) / elapsed
    rows.append({"pid": None, "role": "load generators", "cores": loadgens})
    rows.append({"pid": None, "role": "background", "cores": max(
        0.0, (busy1 - busy0) / elapsed - server - loadgens)})
    return rows


def _result(proc: Proc, path: Path, args: argparse.Namespace) -> dict[str, Any]:
    deadline = time.monotonic() + SETUP_TIMEOUT_S + args.warmup_s + args.duration_s \
        + LOADGEN_SLACK_S
    while proc.alive() and time.monotonic() < deadline:
        time.sleep(0.2)
    for line in reversed(path.read_text(errors="replace").splitlines()):
        if line.startswith("RESULT "):
            raw = json.loads(line[len("RESULT "):])
            derived = metrics.derive(raw)
            return {k: derived[k] for k in ("forwarded_pps", "loss_pct", "latency_p50_ms",
                                            "latency_p99_ms", "loadgen_cpu_cores")}
        if line.startswith("ERROR "):
            return {"error": line[len("ERROR "):]}
    return {"error": "no result", "log_tail": proc.log_tail(2000)}


def summarise(run: dict[str, Any]) -> str:
    rooms = run["rooms"]
    ok = [r for r in rooms if "error" not in r]
    rows = run["server_processes"] or []
    procs = [p for p in rows if p["pid"] is not None]
    other = ", ".join(f"{p['role']} {p['cores']:.2f}" for p in rows if p["pid"] is None)
    cores = sum(p["cores"] for p in procs)
    pps = sum(r["forwarded_pps"] for r in ok)
    split = ", ".join(f"{p['role']} {p['cores']:.2f}" for p in procs)
    lat = " / ".join(f"{_num(r['latency_p50_ms'], 2)}-{_num(r['latency_p99_ms'], 1)}"
                     for r in ok)
    loss = max((r["loss_pct"] for r in ok), default=float("nan"))
    per_1000 = cores * 1000 / (pps / 1000) if pps else float("nan")
    return (f"workers={run['workers']}: {len(ok)}/{len(rooms)} rooms ok, {pps:,.0f} pkt/s, "
            f"server {cores:.2f} cores ({per_1000:.1f} ms/1000 pkt) [{split}], max loss "
            f"{loss:.2f} %, latency p50-p99 ms per room {lat}; {other}")


def _num(value: float | None, digits: int) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.workers_scale")
    parser.add_argument("--rooms", type=int, default=2)
    parser.add_argument("--workers", default="1,2", help="worker counts to compare")
    parser.add_argument("--publishers", type=int, default=2)
    parser.add_argument("--subscribers", type=int, default=16)
    parser.add_argument("--warmup-s", type=float, default=3.0)
    parser.add_argument("--duration-s", type=float, default=15.0)
    parser.add_argument("--repeats", type=int, default=1)
    args = parser.parse_args(argv)
    clip = ensure_clip(ClipSpec(seconds=10))
    runs: list[dict[str, Any]] = []
    out = RESULTS / f"{datetime.date.today().isoformat()}-workers.json"
    with tempfile.TemporaryDirectory(prefix="cp-bench-workers-") as tmp:
        for repeat in range(args.repeats):
            for count in (int(c) for c in args.workers.split(",")):
                run = run_once(count, args, clip, Path(tmp) / f"w{count}-{repeat}")
                runs.append(run)
                out.write_text(json.dumps({"params": vars(args), "runs": runs}, indent=1) + "\n")
                print(summarise(run), flush=True)
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
