"""Composite CPU per minute of meeting: `python -m bench.composite_cpu [--quick]`.

A meeting of four participants is made once per camera size with ffmpeg: each has a
moving test-pattern camera (VP8/WebM, 30 fps, 1.2 Mbit/s) and a voice (Opus/WebM, a tone whose
loudness passes from one participant to the next every 5 s, so the stage changes hands),
laid out with a manifest.json as the recorder writes them. The composite is then built as a
recorder worker builds it, in a child process (`python -m recorder.composite`, 1280x720 at
15 fps by default), and that child's CPU time (user + system, all threads, from wait4) is
taken, interpreter start-up included. The median over the repeats is reported as CPU
seconds per minute of meeting. Writes bench/results/composite-cpu-<date>.json.
"""

from __future__ import annotations

import argparse
import datetime
import hashlib
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
PARTICIPANTS = ("张伟", "Li Na", "王芳", "Bob")
TURN_S = 5  # each participant is the loud one for this long, in turn


def make_meeting(directory: Path, seconds: int, camera: str, fps: int) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    # One camera clip, copied to every participant: the composite decodes each copy on its
    # own, so the cost is that of four cameras, at a quarter of the encoding time here.
    clip = directory / "camera.webm"
    _ffmpeg(["-f", "lavfi", "-i", f"testsrc2=size={camera}:rate={fps}", "-t", str(seconds),
             "-c:v", "libvpx", "-deadline", "realtime", "-cpu-used", "8", "-b:v", "1200k",
             "-g", str(fps * 3), str(clip)])
    files = []
    for index, name in enumerate(PARTICIPANTS):
        pid = f"p{index}"
        video, audio = f"{pid}-camera.webm", f"{pid}-microphone.webm"
        shutil.copyfile(clip, directory / video)
        loud = f"between(mod(t,{TURN_S * len(PARTICIPANTS)}),{index * TURN_S}," \
            f"{(index + 1) * TURN_S})"
        _ffmpeg(["-f", "lavfi", "-i", f"sine=frequency={300 + 150 * index}:sample_rate=48000",
                 "-t", str(seconds), "-af", f"volume='if({loud},0.5,0.02)':eval=frame",
                 "-c:a", "libopus", "-b:a", "32k", "-ac", "1", str(directory / audio)])
        for file, kind, source, codec in ((video, "video", "camera", "vp8"),
                                          (audio, "audio", "microphone", "opus")):
            data = (directory / file).read_bytes()
            files.append({"name": file, "segment": 1, "participant_id": pid,
                          "participant_name": name, "kind": kind, "source": source,
                          "codec": codec, "start_ms": 0, "end_ms": seconds * 1000,
                          "bytes": len(data), "sha256": hashlib.sha256(data).hexdigest()})
    manifest = {"recording_id": "bench", "room_id": "bench", "started_at": time.time(),
                "stopped_at": time.time() + seconds, "state": "stopped", "files": files}
    (directory / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    return directory


def _ffmpeg(args: list[str]) -> None:
    subprocess.run(["ffmpeg", "-hide_banner", "-loglevel", "error", "-y", *args], check=True,
                   timeout=1200)


def build_once(meeting: Path, out: Path, size: str, fps: int) -> dict[str, Any]:
    """One composite build in a child process; its CPU and wall time and its result."""
    width, height = size.split("x")
    started = time.monotonic()
    proc = subprocess.Popen([sys.executable, "-m", "recorder.composite", str(meeting),
                             str(out), "--width", width, "--height", height, "--fps",
                             str(fps)], cwd=ROOT, stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    output = proc.stdout.read()
    _pid, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise RuntimeError(f"composite build failed with {proc.returncode}")
    result = json.loads(output)
    return {"cpu_s": usage.ru_utime + usage.ru_stime, "wall_s": time.monotonic() - started,
            "max_rss_mb": usage.ru_maxrss / 1024, "duration_s": result["duration_s"],
            "speaker_changes": len(result["speaker_changes"])}


def measure(camera: str, args: argparse.Namespace, workdir: Path) -> dict[str, Any]:
    meeting = make_meeting(workdir / camera, args.seconds, camera, args.camera_fps)
    runs = [build_once(meeting, workdir / f"{camera}.mp4", args.size, args.fps)
            for _ in range(args.repeats)]
    per_minute = [run["cpu_s"] * 60 / run["duration_s"] for run in runs]
    summary = {"camera": f"{camera}@{args.camera_fps}", "participants": len(PARTICIPANTS),
               "meeting_s": args.seconds, "output": f"{args.size}@{args.fps}",
               "repeats": args.repeats, "runs": runs,
               "cpu_s_per_meeting_minute_median": round(statistics.median(per_minute), 2),
               "realtime_factor_median": round(statistics.median(
                   run["wall_s"] / run["duration_s"] for run in runs), 3),
               "max_rss_mb_max": round(max(run["max_rss_mb"] for run in runs), 1)}
    print(f"composite: {summary['participants']} cameras {summary['camera']} -> "
          f"{summary['output']}: {summary['cpu_s_per_meeting_minute_median']} CPU s per "
          f"minute of meeting (median of {args.repeats}; wall x"
          f"{summary['realtime_factor_median']} of real time; peak RSS "
          f"{summary['max_rss_mb_max']} MB)", flush=True)
    return summary


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.composite_cpu", description=__doc__)
    parser.add_argument("--quick", action="store_true",
                        help="20 s meeting, 640x360 cameras at 15 fps, one build")
    parser.add_argument("--seconds", type=int, default=60, help="meeting length")
    parser.add_argument("--cameras", default="1280x720,640x360",
                        help="camera sizes to measure, comma-separated")
    parser.add_argument("--camera-fps", type=int, default=30)
    parser.add_argument("--size", default="1280x720", help="composite size")
    parser.add_argument("--fps", type=int, default=15, help="composite frame rate")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args(argv)
    if args.quick:
        args.seconds, args.cameras, args.camera_fps, args.repeats = 20, "640x360", 15, 1
    with tempfile.TemporaryDirectory(prefix="composite-bench-") as tmp:
        results = [measure(camera, args, Path(tmp)) for camera in args.cameras.split(",")]
    RESULTS.mkdir(parents=True, exist_ok=True)
    stamp = datetime.datetime.now(datetime.timezone.utc).strftime("%Y%m%d-%H%M%S")
    path = RESULTS / f"composite-cpu-{stamp}.json"
    path.write_text(json.dumps({"benchmark": "composite_cpu", "at": stamp, "quick": args.quick,
                                "cpu_count": os.cpu_count(), "results": results}, indent=1,
                               ensure_ascii=False), encoding="utf-8")
    print(f"written {path.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
