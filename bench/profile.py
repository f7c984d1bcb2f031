"""Where CommandPost's CPU goes under the benchmark load: a sampler watches the server process
during the steady-state window only.

    python -m bench.profile [--publishers 2] [--subscribers 10] [--duration-s 20] [--perf]

py-spy (default; `pip install py-spy`, not a project dependency) gives Python stacks,
summarised by function and by area; it pauses the process to read them and counts some
time asleep in `epoll_wait` as busy, so its shares lean towards syscalls. `--perf` uses
Linux perf (Debian `linux-perf`, `make bench` installs it) with the cpu-clock event: it
samples only while the process runs, kernel included, and is summarised by shared object
(libpython = the interpreter, [kernel], libsrtp inside pylibsrtp's `_binding`...), by
symbol and by system call. Writes bench/results/<date>-profile-p<P>s<S>[-perf].txt (and,
for py-spy, the raw collapsed stacks next to it, gzip).
"""

from __future__ import annotations

import argparse
import datetime
import gzip
import re
import shutil
import subprocess
import sys
import tempfile
from collections import Counter
from collections.abc import Callable
from pathlib import Path

from bench.clip import ClipSpec, ensure_clip
from bench.metrics import derive
from bench.procs import Proc
from bench.runner import measure
from bench.servers import Server

RESULTS = Path(__file__).resolve().parent / "results"
SAMPLE_RATE = 250

# First match wins; patterns are tested against "function (file)".
AREAS = (
    ("SRTP protect/unprotect (pylibsrtp, C)", r"pylibsrtp"),
    ("UDP send (asyncio transport, kernel)", r"sendto|send_data|Connection\.send"),
    ("UDP receive + ICE demux (asyncio, aioice)", r"_read_ready|datagram_received|recvfrom|"
                                                   r"Connection\.recv"),
    ("RTP/RTCP parse+serialise (aiortc)", r"aiortc/rtp\.py"),
    ("SFU forwarding (sfu/)", r"\(sfu/"),
    ("aiortc DTLS/RTP plumbing", r"aiortc/"),
    ("signalling, Redis, HTTP (signaling/, redis, aiohttp)", r"signaling/|redis/|aiohttp/"),
    ("event loop", r"asyncio/|selectors\.py"),
)


def summarise(collapsed: str, top: int = 25) -> str:
    self_time: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    areas: Counter[str] = Counter()
    total = 0
    for line in collapsed.splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        n = int(count)
        frames = [_function(f) for f in stack.split(";")[1:]]  # [0] is the thread
        if not frames:
            continue
        total += n
        self_time[frames[-1]] += n
        for frame in set(frames):
            inclusive[frame] += n
        areas[_area(frames)] += n
    if not total:
        return "no samples\n"
    out = [f"{total} samples of busy threads at {SAMPLE_RATE} Hz", "", "by area (leaf frame):"]
    out += [f"  {100 * n / total:5.1f}%  {name}" for name, n in areas.most_common()]
    out += ["", f"top {top} functions by own time:"]
    out += [f"  {100 * n / total:5.1f}%  {name}" for name, n in self_time.most_common(top)]
    out += ["", f"top {top} functions by inclusive time:"]
    out += [f"  {100 * n / total:5.1f}%  {name}" for name, n in inclusive.most_common(top)]
    return "\n".join(out) + "\n"


def _function(frame: str) -> str:
    """'send (aiortc/rtcdtlstransport.py:719)' -> 'send (aiortc/rtcdtlstransport.py)'."""
    frame = re.sub(r":\d+\)$", ")", frame.strip())
    return re.sub(r"\(/.*?/(site-packages|main|lib/python3\.\d+)/", "(", frame)


def _area(frames: list[str]) -> str:
    for frame in reversed(frames):  # the innermost frame that belongs to a known area
        for name, pattern in AREAS:
            if re.search(pattern, frame):
                return name
    return "other"


def perf_summary(data: Path, top: int = 30) -> str:
    """Shares by shared object, by symbol, and the system calls (inclusive)."""
    def report(*options: str) -> list[str]:
        out = subprocess.run(["perf", "report", "-i", str(data), "--stdio", "-g", "none",
                              *options], capture_output=True, text=True, timeout=120).stdout
        return [line for line in out.splitlines() if line.strip() and not line.startswith("#")]
    by_dso = report("--no-children", "--sort", "dso")
    by_sym = report("--no-children", "--sort", "dso,sym")[:top]
    syscalls = [line for line in report("--children", "--sort", "sym")
                if re.search(r"\[k\] __x64_sys_|\[k\] __schedule$|\[k\] handle_softirqs", line)]
    return "\n".join(["by shared object (self):", *by_dso, "", f"top {top} symbols (self):",
                      *by_sym, "", "system calls and scheduling (inclusive):", *syscalls]) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.profile", description=__doc__)
    parser.add_argument("--publishers", type=int, default=2)
    parser.add_argument("--subscribers", type=int, default=10)
    parser.add_argument("--duration-s", type=float, default=20.0)
    parser.add_argument("--native", action="store_true", help="include C frames (py-spy)")
    parser.add_argument("--perf", action="store_true",
                        help="sample with Linux perf (cpu-clock, kernel included)")
    parser.add_argument("--out", type=Path, default=RESULTS, help="results directory")
    args = parser.parse_args(argv)
    if args.perf:
        return _run_perf(args)
    py_spy = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
    if not Path(py_spy).exists():
        print("py-spy not found: pip install py-spy", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="cp-profile-") as tmp:
        raw = Path(tmp) / "stacks.txt"

        def spy_argv(pid: int) -> list[str]:
            return [py_spy, "record", "--pid", str(pid), "--rate", str(SAMPLE_RATE),
                    "--duration", str(int(args.duration_s)), "--format", "raw",
                    "--output", str(raw), "--subprocesses"] + (["--native"] if args.native
                                                               else [])

        result = _sampled_run(args, Path(tmp), "py-spy", spy_argv, raw)
        if result is None:
            return 1
        collapsed = raw.read_text()
    m = derive(result)
    stem = f"{datetime.date.today().isoformat()}-profile-p{args.publishers}s{args.subscribers}"
    header = (f"CommandPost under P={args.publishers} x S={args.subscribers} "
              f"({m['forwarded_pps']:.0f} forwarded packets/s, server "
              f"{m['server_cpu_cores']:.2f} cores incl. py-spy's pauses, "
              f"{m['cpu_ms_per_1000']:.1f} ms CPU per 1000 packets while sampled)\n")
    text = header + summarise(collapsed)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / f"{stem}.txt").write_text(text)
    with gzip.open(args.out / f"{stem}.collapsed.gz", "wt") as out:
        out.write(collapsed)
    print(text)
    print(f"wrote {args.out / (stem + '.txt')}")
    return 0


def _sampled_run(args: argparse.Namespace, work: Path, name: str,
                 sampler_argv: Callable[[int], list[str]], output: Path) -> dict | None:
    """One benchmark run with `sampler_argv(server pid)` started when the window opens;
    the run's result, or None (reported) when it or the sampler failed."""
    samplers: list[Proc] = []

    def start(server: Server) -> None:
        samplers.append(Proc(name, sampler_argv(server.pid), work / f"{name}.log"))

    result = measure("commandpost", args.publishers, args.subscribers, 3.0, args.duration_s,
                     ensure_clip(ClipSpec()), work / "run", on_window=start)
    for sampler in samplers:
        try:
            sampler.popen.wait(timeout=60)
        finally:
            sampler.stop()
    if "error" in result or not output.exists():
        print(f"profile run failed: {result.get('error')}\n"
              f"{samplers[0].log_tail() if samplers else ''}", file=sys.stderr)
        return None
    return result


def _run_perf(args: argparse.Namespace) -> int:
    if shutil.which("perf") is None:
        print("perf not found: apt-get install linux-perf", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="cp-perf-") as tmp:
        data = Path(tmp) / "perf.data"

        def perf_argv(pid: int) -> list[str]:
            return ["perf", "record", "-e", "cpu-clock", "-F", "1000", "-g", "-p", str(pid),
                    "-o", str(data), "--", "sleep", str(int(args.duration_s))]

        result = _sampled_run(args, Path(tmp), "perf", perf_argv, data)
        if result is None:
            return 1
        summary = perf_summary(data)
    m = derive(result)
    stem = f"{datetime.date.today().isoformat()}-profile-p{args.publishers}s{args.subscribers}-perf"
    text = (f"CommandPost under P={args.publishers} x S={args.subscribers} "
            f"({m['forwarded_pps']:.0f} forwarded packets/s, server {m['server_cpu_cores']:.2f} "
            f"cores, {m['cpu_ms_per_1000']:.1f} ms CPU per 1000 packets while sampled); "
            f"perf cpu-clock at 1000 Hz, main server process only\n") + summary
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / f"{stem}.txt").write_text(text)
    print(text)
    print(f"wrote {args.out / (stem + '.txt')}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
