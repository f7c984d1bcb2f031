"""`python -m bench.minutes_speed [--repeat N]`: how long minutes take to make.

For each sample meeting of tests/transcribe/samples (punctuated and recogniser form) and for
long meetings made by repeating the samples (~1,200 segments, about an hour and a half of
talk), the CPU time of `build_minutes` (jieba's dictionary and IDF table loaded beforehand,
as in a running node), median of N runs. Prints the figures and writes JSON to
bench/results/minutes-<time>.json."""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "transcribe"))

from minutes_samples import asr_form, load, request_body, sample_names  # noqa: E402

from transcribe.minutes.build import build_minutes  # noqa: E402
from transcribe.minutes.model import parse_transcript  # noqa: E402
from transcribe.minutes.rules import RuleBook  # noqa: E402


def long_meeting(sample: dict, copies: int) -> dict:
    segments, offset = [], 0.0
    for k in range(copies):
        for seg in sample["segments"]:
            segments.append({**seg, "id": f"k{k}-{seg['id']}", "start": seg["start"] + offset,
                             "end": seg["end"] + offset})
        offset = segments[-1]["end"] + 1
    return {**sample, "segments": segments}


def cpu_median(book: RuleBook, sample: dict, repeat: int) -> float:
    transcript = parse_transcript(request_body(sample), 100000)
    rules = book.get(sample["language"])
    build_minutes(transcript, rules)  # warm: jieba dictionary, IDF table
    times = []
    for _ in range(repeat):
        start = time.process_time()
        build_minutes(transcript, rules)
        times.append(time.process_time() - start)
    return statistics.median(times)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--quick", action="store_true", help="one repeat (bench.sidecars)")
    args = parser.parse_args()
    if args.quick:
        args.repeat = 1
    book = RuleBook()
    rows = []
    for name in sample_names():
        sample = load(name)
        for form, data in (("punctuated", sample), ("recogniser", asr_form(sample))):
            rows.append({"meeting": name, "form": form, "segments": len(data["segments"]),
                         "cpu_s_median": round(cpu_median(book, data, args.repeat), 4)})
    for name in ("zh_flood_meeting", "en_winter_storm"):
        data = long_meeting(asr_form(load(name)), 40)
        rows.append({"meeting": f"{name} x40", "form": "recogniser",
                     "segments": len(data["segments"]),
                     "cpu_s_median": round(cpu_median(book, data, max(1, args.repeat // 2)), 3)})
    for row in rows:
        print(f"{row['meeting']:28s} {row['form']:10s} {row['segments']:5d} segments "
              f"{row['cpu_s_median'] * 1000:8.1f} ms CPU")
    out = ROOT / "bench" / "results" / f"minutes-{time.strftime('%Y%m%d-%H%M%S')}.json"
    out.write_text(json.dumps({"repeat": args.repeat, "rows": rows}, indent=1))
    print(f"wrote {out.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
