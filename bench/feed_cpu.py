"""CPU of one device feed: `python -m bench.feed_cpu [--seconds 15] [--size 1280x720]`.

A clip (H.264 + AAC, made once by ffmpeg) is served by the GStreamer RTSP camera of the
tests and pushed by ffmpeg over RTMP; a FeedRunner in this process ingests it into a
RoomMedia with no subscriber, so the figure is the ingest alone: demux, H.264
packetising, AAC -> Opus, the room's fan-out bookkeeping. This process's CPU time
(all threads) over a window while the feed is live is reported per second of feed.
Writes bench/results/<date>-feeds.json.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime
import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from sfu import RoomMedia, SfuSettings
from sfu.ingest import FeedRunner, FeedSettings, FeedSpec

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
CAMERA = ROOT / "tests" / "media_tools" / "rtsp_camera.py"


def make_clip(path: Path, size: str, fps: int, seconds: int, codec: str = "libx264") -> Path:
    if not path.exists():
        subprocess.run(["ffmpeg", "-hide_banner", "-loglevel", "error", "-y",
                        "-f", "lavfi", "-i", f"testsrc2=size={size}:rate={fps}",
                        "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000",
                        "-t", str(seconds), "-c:v", codec, "-preset", "veryfast",
                        "-b:v", "2500k", "-g", str(fps * 2), "-pix_fmt", "yuv420p",
                        "-c:a", "aac", "-b:a", "96k", "-ac", "2", str(path)],
                       check=True, timeout=600)
    return path


def start_camera(clip: Path, port: int, codec: str) -> tuple[subprocess.Popen[str], str]:
    proc = subprocess.Popen(["/usr/bin/python3", str(CAMERA), "--file", str(clip),
                             "--port", str(port), "--codec", codec],
                            stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    line = proc.stdout.readline()
    if not line.startswith("READY "):
        proc.terminate()
        raise RuntimeError(f"RTSP camera did not start: {line!r}")
    return proc, line.split()[1]


async def measure(kind: str, clip: Path, seconds: float, port: int) -> dict[str, Any]:
    media = RoomMedia("bench", SfuSettings(ice_host_addresses=("127.0.0.1",)))
    helper: subprocess.Popen[Any]
    settings = FeedSettings(transcode_h265=kind == "rtsp-h265")
    if kind.startswith("rtsp"):
        helper, url = start_camera(clip, port, "h265" if kind == "rtsp-h265" else "h264")
        spec = FeedSpec("bench", "Bench camera", url)
    else:
        url = f"rtmp://127.0.0.1:{port}/benchkey/feed"
        spec = FeedSpec("bench", "Bench drone", url, listen=True)
    runner = FeedRunner(media, spec, settings=settings)
    await runner.start()
    if kind == "rtmp":
        helper = subprocess.Popen(["ffmpeg", "-hide_banner", "-loglevel", "error", "-re",
                                   "-stream_loop", "-1", "-i", str(clip), "-c", "copy",
                                   "-f", "flv", url], stdin=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 30
        while runner.status.state != "live":
            if time.monotonic() > deadline:
                raise RuntimeError(f"{kind} feed not live: {runner.status}")
            await asyncio.sleep(0.1)
        await asyncio.sleep(2.0)  # past the start-up (stream probing, encoder set-up)
        cpu0, wall0 = time.process_time(), time.monotonic()
        await asyncio.sleep(seconds)
        cpu, wall = time.process_time() - cpu0, time.monotonic() - wall0
        status = runner.status
    finally:
        await runner.stop()
        helper.terminate()
        helper.wait(10)
        await media.close()
    return {"kind": kind, "cpu_ms_per_s": round(cpu / wall * 1000, 1),
            "cores": round(cpu / wall, 3), "bitrate_bps": status.bitrate_bps,
            "width": status.width, "height": status.height,
            "video_codec": status.video_codec, "audio_codec": status.audio_codec,
            "dropped_frames": status.dropped_frames}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=15.0)
    parser.add_argument("--size", default="1280x720")
    parser.add_argument("--fps", type=int, default=30)
    parser.add_argument("--port", type=int, default=18654)
    parser.add_argument("--transcode", action="store_true",
                        help="also an H.265 camera transcoded to H.264 ([feeds] transcode_h265)")
    args = parser.parse_args(argv)
    RESULTS.mkdir(parents=True, exist_ok=True)
    clip = make_clip(Path("/tmp") / f"commandpost-feed-{args.size}-{args.fps}.mp4",
                     args.size, args.fps, 60)
    rows = [asyncio.run(measure(kind, clip, args.seconds, args.port))
            for kind in ("rtsp", "rtmp")]
    if args.transcode:
        hevc = make_clip(Path("/tmp") / f"commandpost-feed-{args.size}-{args.fps}-hevc.mp4",
                         args.size, args.fps, 60, codec="libx265")
        rows.append(asyncio.run(measure("rtsp-h265", hevc, args.seconds, args.port)))
    print(f"{'feed':9} {'size':>10} {'bitrate':>10} {'CPU ms/s':>9} {'cores':>6}")
    for row in rows:
        print(f"{row['kind']:9} {row['width']}x{row['height']:<5} "
              f"{row['bitrate_bps'] / 1e6:8.2f}M {row['cpu_ms_per_s']:9.1f} {row['cores']:6.3f}")
    out = RESULTS / f"{datetime.date.today().isoformat()}-feeds.json"
    out.write_text(json.dumps({"size": args.size, "fps": args.fps, "seconds": args.seconds,
                               "python": sys.version.split()[0], "rows": rows}, indent=2))
    print(f"written {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
