"""`python -m bench.sidecars`: the benchmarks of the recorder, composite, transcriber,
minutes, whiteboard and dispatch, one after another (`make bench` runs it after the SFU benchmark).

Each is its own module runnable alone (`python -m bench.<name> --help`); they print their
figures and write JSON to bench/results/. One failing does not stop the others; the exit
status says whether all passed.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time

BENCHES = ("recorder_cpu", "composite_cpu", "transcribe_rtf", "minutes_speed",
           "whiteboard_fanout", "dispatch_bench")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.sidecars", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="pass --quick to each benchmark")
    parser.add_argument("--only", default="", help="comma-separated subset of: "
                        + ", ".join(BENCHES))
    args = parser.parse_args(argv)
    chosen = [b for b in args.only.split(",") if b] or list(BENCHES)
    unknown = set(chosen) - set(BENCHES)
    if unknown:
        parser.error(f"unknown benchmark(s): {', '.join(sorted(unknown))}")
    failed = []
    for name in chosen:
        print(f"\n=== bench.{name} ===", flush=True)
        started = time.monotonic()
        cmd = [sys.executable, "-m", f"bench.{name}"] + (["--quick"] if args.quick else [])
        code = subprocess.call(cmd)
        print(f"=== bench.{name}: exit {code} after {time.monotonic() - started:.0f} s ===",
              flush=True)
        if code != 0:
            failed.append(name)
    if failed:
        print(f"failed: {', '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
