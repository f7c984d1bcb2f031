"""`python -m bench`: the same load against CommandPost, Janus VideoRoom and the naive aiortc
relay; medians of repeated runs, ratios to Janus, a ramp over subscribers, a JSON file, a
PNG chart and a printed table."""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import signal
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from bench import metrics, report
from bench.clip import ClipSpec, ensure_clip, layer_specs, load_clip
from bench.ramp import ramp
from bench.runner import measure
from bench.servers import SERVERS

RESULTS = Path(__file__).resolve().parent / "results"
DEFAULT_RAMP = "1,2,4,8,12,16,24,32,40"


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--publishers", type=int, default=2, help="P publishers (default 2)")
    parser.add_argument("--subscribers", type=int, default=10,
                        help="S subscribers, each receiving every publisher (default 10)")
    parser.add_argument("--duration-s", type=float, default=20.0,
                        help="measuring window of each run (default 20)")
    parser.add_argument("--warmup-s", type=float, default=3.0,
                        help="seconds of traffic before the window opens (default 3)")
    parser.add_argument("--repeats", type=int, default=3, help="runs per server (default 3)")
    parser.add_argument("--servers", default=None,
                        help=f"comma separated, from {', '.join(SERVERS)} (default: all; "
                             "commandpost with --simulcast)")
    parser.add_argument("--ramp", default=DEFAULT_RAMP,
                        help=f"subscriber counts of the ramp (default {DEFAULT_RAMP})")
    parser.add_argument("--no-ramp", action="store_true", help="skip the ramp")
    parser.add_argument("--ramp-duration-s", type=float, default=8.0,
                        help="window of each ramp step (default 8)")
    parser.add_argument("--max-loss-pct", type=float, default=1.0,
                        help="ramp stops when loss passes this (default 1)")
    parser.add_argument("--cpu-limit-cores", type=float, default=0.9,
                        help="ramp stops when the server (or load generator) uses this many "
                             "cores (default 0.9: one core each on a 2-core machine)")
    parser.add_argument("--clip-seconds", type=int, default=10,
                        help="length of the looped clip (default 10)")
    parser.add_argument("--out", type=Path, default=RESULTS, help="results directory")
    parser.add_argument("--quick", action="store_true",
                        help="smoke run (~1 minute): P=1, S=2, 4 s windows, 1 repeat, no ramp")
    parser.add_argument("--simulcast", action="store_true",
                        help="CommandPost only: each publisher sends three VP8 layers "
                             "(320x180, 640x360, 1280x720) with rids, subscribers change tile "
                             "sizes every few seconds; reports layer switches; loss is "
                             "sequence-gap loss at the subscribers")
    args = parser.parse_args(argv)
    if args.servers is None:
        args.servers = "commandpost" if args.simulcast else ",".join(SERVERS)
    if args.quick:
        args.publishers, args.subscribers, args.duration_s = 1, 2, 4.0
        args.warmup_s, args.repeats, args.no_ramp, args.clip_seconds = 1.0, 1, True, 4
    args.server_list = [s.strip() for s in args.servers.split(",") if s.strip()]
    unknown = set(args.server_list) - set(SERVERS)
    if unknown:
        parser.error(f"unknown server(s): {', '.join(sorted(unknown))}")
    others = [s for s in args.server_list if s != "commandpost"]
    if args.simulcast and (others or not args.server_list):
        reasons = {"janus": "Janus needs its own simulcast configuration",
                   "relay": "the naive relay has no simulcast"}
        why = "; ".join(reasons.get(s, s) for s in others) or "no server named"
        parser.error(f"--simulcast measures CommandPost only: {why} "
                     "(use --servers commandpost, or leave --servers out)")
    args.ramp_steps = sorted({int(s) for s in args.ramp.split(",") if s.strip()})
    if args.publishers < 1 or args.subscribers < 1 or args.repeats < 1:
        parser.error("--publishers, --subscribers and --repeats must be at least 1")
    return args


def _terminate(signum: int, frame: Any) -> None:
    raise SystemExit(f"stopped by signal {signum}")  # so every started process is ended


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    signal.signal(signal.SIGTERM, _terminate)
    started = datetime.datetime.now()
    log("encoding the clip once (cached):")
    clip_path = ensure_clip(ClipSpec(seconds=args.clip_seconds))
    clip = load_clip(clip_path)
    log(f"  {clip_path} ({clip.seconds:.0f} s, VP8 {clip.video_kbps():.0f} kbit/s)")
    args.layer_clips = simulcast_clips(args.clip_seconds) if args.simulcast else None
    with tempfile.TemporaryDirectory(prefix="cp-bench-") as tmp:
        work = Path(tmp)
        runs = run_repeats(args, clip_path, work)
        ramps = {} if args.no_ramp else run_ramps(args, clip_path, work)
    summary = {s: metrics.medians([r["metrics"] for r in runs[s] if "metrics" in r])
               for s in args.server_list}
    ratios = metrics.ratios(summary)
    ratios["relay_unloaded"] = metrics.relay_unloaded(ramps, summary)
    document = {
        "date": started.isoformat(timespec="seconds"),
        "finished": datetime.datetime.now().isoformat(timespec="seconds"),
        "params": {k: [str(p) for p in v] if k == "layer_clips" and v else v
                   for k, v in vars(args).items() if k not in ("out",)},
        "machine": machine_info(),
        "clip": {"path": str(clip_path), "seconds": clip.seconds,
                 "video_kbps": clip.video_kbps()},
        "summary": summary, "ratios": ratios, "ramps": ramps, "runs": runs,
    }
    if args.simulcast:
        document["simulcast"] = True
        document["layer_clips"] = [{"path": str(p), "video_kbps": load_clip(p).video_kbps()}
                                   for p in args.layer_clips]
        document["loss_measure"] = metrics.SIMULCAST_LOSS
    stem = (started.date().isoformat() + ("-simulcast" if args.simulcast else "")
            + ("-quick" if args.quick else ""))
    json_path, png_path = args.out / f"{stem}.json", args.out / f"{stem}.png"
    report.write_json(json_path, document)
    video = ("simulcast VP8 180p/360p/720p" if args.simulcast else "720p VP8")
    title = (f"P={args.publishers} publishers x S={args.subscribers} subscribers, {video} + "
             f"Opus, medians of {args.repeats} runs ({started:%Y-%m-%d})")
    report.write_chart(png_path, summary, ramps, title)
    print(report.table(summary, ratios, ramps))
    if args.simulcast:
        print(report.simulcast_lines(summary))
    print(f"wrote {json_path} and {png_path}")
    failed = [s for s in args.server_list if summary[s]["runs"] == 0]
    if failed:
        print(f"no successful run for: {', '.join(failed)} (see errors in the JSON)")
    return 1 if failed else 0


def simulcast_clips(seconds: int) -> list[Path]:
    log("encoding the simulcast layers once (cached):")
    paths = [ensure_clip(spec) for spec in layer_specs(seconds)]
    for spec, path in zip(layer_specs(seconds), paths):
        log(f"  {spec.width}x{spec.height}: {path} "
            f"(VP8 {load_clip(path).video_kbps():.0f} kbit/s)")
    return paths


def run_repeats(args: argparse.Namespace, clip_path: Path, work: Path
                ) -> dict[str, list[dict[str, Any]]]:
    """Servers take turns within each repeat, so a change in background load hits all."""
    runs: dict[str, list[dict[str, Any]]] = {s: [] for s in args.server_list}
    for repeat in range(args.repeats):
        for server in args.server_list:
            log(f"run {repeat + 1}/{args.repeats}: {server} P={args.publishers} "
                f"S={args.subscribers} for {args.duration_s:.0f} s")
            result = measure(server, args.publishers, args.subscribers, args.warmup_s,
                             args.duration_s, clip_path, work / f"{server}-{repeat}",
                             layer_clips=args.layer_clips)
            if "error" in result:
                log(f"  failed: {result['error']}")
                runs[server].append(result)
                continue
            derived = metrics.derive(result)
            log("  " + ", ".join(f"{k} {v:.2f}" for k, v in derived.items()
                                 if isinstance(v, float)))
            runs[server].append({"metrics": derived, "raw": result})
    return runs


def run_ramps(args: argparse.Namespace, clip_path: Path, work: Path) -> dict[str, Any]:
    results = {}
    for server in args.server_list:
        log(f"ramp {server}: S in {args.ramp_steps}")
        results[server] = ramp(server, args.ramp_steps, args.publishers, args.warmup_s,
                               args.ramp_duration_s, clip_path, work, args.max_loss_pct,
                               args.cpu_limit_cores, log=log, layer_clips=args.layer_clips)
        log(f"  {server}: largest S {results[server]['largest_subscribers']} "
            f"({results[server]['stop']})")
    return results


def machine_info() -> dict[str, Any]:
    info: dict[str, Any] = {"cpus": os.cpu_count(), "python": platform.python_version(),
                            "platform": platform.platform()}
    try:
        info["cpu_model"] = next(line.split(":", 1)[1].strip() for line in
                                 Path("/proc/cpuinfo").read_text().splitlines()
                                 if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    info["loadavg_at_end"] = Path("/proc/loadavg").read_text().split()[:3]
    info["janus"] = _first_line(["janus", "--version"])
    info["commandpost_commit"] = _first_line(["git", "-C", str(RESULTS.parents[1]),
                                              "rev-parse", "--short", "HEAD"])
    try:
        import aiortc
        info["aiortc"] = aiortc.__version__
    except ImportError:
        pass
    return info


def _first_line(argv: list[str]) -> str | None:
    try:
        out = subprocess.run(argv, capture_output=True, text=True, timeout=10).stdout
    except (OSError, subprocess.TimeoutExpired):
        return None
    return out.splitlines()[0] if out else None


def log(text: str) -> None:
    print(text, file=sys.stderr, flush=True)
