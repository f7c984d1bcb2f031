"""Recorder CPU per recorded track: `python -m bench.recorder_cpu [--quick]`.

One run, side by side on the same stream: a `commandpost serve` node (its private Redis),
one publisher in this process sending a pre-encoded 720p clip through aiortc (no encoding
here: `MediaPlayer(decode=False)`), and two subscribers in their own processes:

- our recorder (`commandpost worker recorder`): RTP taken before aiortc's decoder,
  depacketized and muxed into WebM/Matroska as is;
- aiortc's `MediaRecorder` (this module with `--role mediarecorder`): aiortc's normal
  receive path (jitter buffer, decoder thread) and MediaRecorder re-encoding to MP4
  (libx264), the usual way to record with aiortc.

Two phases: a 720p30 VP8 camera track (published over the WebSocket like a browser), and a
720p30 H.264 feed (constrained baseline, published by WHIP like a drone or an encoder). In
each, the CPU time of both processes (all threads, /proc) and the frames each handled are
taken over several windows while both record. The figure is CPU per frame handled x 30
frames/s, as % of one core: on a busy machine the MediaRecorder cannot keep up and handles
fewer frames, which would make its raw CPU share look smaller than the work costs (both raw
shares are in the JSON too). Medians are reported. Writes
bench/results/<date>-recorder-cpu.json.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime
import json
import os
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
LOOPBACK = "127.0.0.1"
TARGET_RATIO = 30.0
TARGET_CORE_PCT = 3.0
FPS = 30


# media ------------------------------------------------------------------------------------
def make_clip(path: Path, codec: str, seconds: int) -> Path:
    """A 1280x720 30 fps video-only clip, made once by ffmpeg (cached under /tmp)."""
    if path.exists():
        return path
    common = ["ffmpeg", "-hide_banner", "-loglevel", "error", "-y", "-f", "lavfi", "-i",
              "testsrc2=size=1280x720:rate=30", "-t", str(seconds), "-pix_fmt", "yuv420p",
              "-g", "30"]
    if codec == "vp8":
        args = ["-c:v", "libvpx", "-b:v", "2500k", "-deadline", "realtime", "-cpu-used", "8"]
    else:  # what aiortc negotiates: constrained baseline, packetization-mode 1
        args = ["-c:v", "libx264", "-preset", "veryfast", "-profile:v", "baseline",
                "-level", "3.1", "-bf", "0", "-b:v", "2500k", "-bsf:v", "h264_mp4toannexb"]
    tmp = path.with_suffix(".tmp" + path.suffix)
    subprocess.run(common + args + [str(tmp)], check=True, timeout=900)
    tmp.rename(path)
    return path


# processes ---------------------------------------------------------------------------------
def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((LOOPBACK, 0))
        return int(sock.getsockname()[1])


def cpu_seconds(pid: int) -> float:
    from bench.procs import cpu_seconds as read

    return read(pid)


def http_json(method: str, url: str, token: str | None = None, body: Any = None) -> Any:
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, headers=headers, method=method)
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read() or b"{}")


class Node:
    """`commandpost serve` (private Redis in its data dir) and the processes that use it."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.port = free_port()
        self.base_url = f"http://{LOOPBACK}:{self.port}"
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("COMMANDPOST_")}
        self.env.update({
            "COMMANDPOST_SERVER_PORT": str(self.port), "COMMANDPOST_SERVER_WORKERS": "1",
            "COMMANDPOST_SERVER_DATA_DIR": str(workdir / "data"),
            "COMMANDPOST_SERVER_SECRET": secrets.token_urlsafe(32),
            "COMMANDPOST_SFU_ICE_HOST_ADDRESSES": LOOPBACK,
            "COMMANDPOST_RECORDER_EMBEDDED_WORKER": "false",
            "COMMANDPOST_RECORDER_COMPOSITE_AUTO": "false",
            "COMMANDPOST_RECORDER_DIR": str(workdir / "recordings"),
            "COMMANDPOST_RECORDER_ICE_ADDRESSES": LOOPBACK,
            "COMMANDPOST_RECORDER_MIN_FREE_BYTES": "0",
            # Both subscribers get the whole stream: the SFU's downlink adaptation would
            # otherwise pause the MediaRecorder's video on a busy machine (its estimate
            # drops when its decoder falls behind), and compare nothing.
            "COMMANDPOST_SFU_BWE_MIN_BPS": "20000000", "COMMANDPOST_SFU_BWE_START_BPS": "20000000",
            "COMMANDPOST_SFU_BWE_MAX_BPS": "20000000",
            "COMMANDPOST_LOG_LEVEL": "warning"})
        self.procs: list[subprocess.Popen[bytes]] = []

    def spawn(self, args: list[str], name: str) -> subprocess.Popen[bytes]:
        log = open(self.workdir / f"{name}.log", "wb")
        proc = subprocess.Popen([sys.executable, *args], cwd=ROOT, env=self.env, stdout=log,
                                stderr=subprocess.STDOUT)
        self.procs.append(proc)
        return proc

    def start(self) -> None:
        self.spawn(["-m", "signaling.cli", "serve"], "serve")
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if http_json("GET", self.base_url + "/healthz")["status"] == "ok":
                    return
            except OSError:
                time.sleep(0.2)
        raise RuntimeError("commandpost serve did not start (see serve.log)")

    def stop(self) -> None:
        for proc in reversed(self.procs):
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in self.procs:
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()


async def idle_share(worker: subprocess.Popen[bytes], windows: int, window_s: float) -> float:
    """The worker's own CPU with nothing to record (job polling, composite queue, sweeper):
    what a recorded track adds is the rest."""
    await asyncio.sleep(5.0)  # imports and start-up done
    shares = []
    for _ in range(windows):
        c0, t0 = cpu_seconds(worker.pid), time.monotonic()
        await asyncio.sleep(window_s)
        shares.append(100 * (cpu_seconds(worker.pid) - c0) / (time.monotonic() - t0))
    return round(statistics.median(shares), 3)


async def final_state(base_url: str, rid: str, token: str) -> dict[str, Any]:
    deadline = time.monotonic() + 30
    while True:
        info = http_json("GET", f"{base_url}/api/recordings/{rid}", token)
        if info["state"] not in ("starting", "recording", "stopping") \
                or time.monotonic() > deadline:
            return dict(info)
        await asyncio.sleep(0.3)


def decoded_frames(stats: Path) -> int:
    try:
        return int(json.loads(stats.read_text()).get("frames", 0))
    except (OSError, ValueError):
        return 0


# publisher (this process) ----------------------------------------------------------------
async def publish(base_url: str, room_id: str, token: str, clip: Path, codec: str) -> Any:
    """The VP8 camera joins over the WebSocket like a browser; the H.264 feed publishes by
    WHIP, as drones and encoders do. Returns (closer, peer connection, player)."""
    from aiortc import RTCPeerConnection, RTCRtpSender, RTCSessionDescription
    from aiortc.contrib.media import MediaPlayer

    from sfu.aiortc_bridge import restrict_ice_addresses

    player = MediaPlayer(str(clip), decode=False)
    pc = RTCPeerConnection()
    transceiver = pc.addTransceiver(CountedPackets(player.video), direction="sendonly")
    wanted = "video/H264" if codec == "h264" else "video/VP8"
    transceiver.setCodecPreferences([c for c in RTCRtpSender.getCapabilities("video").codecs
                                     if c.mimeType == wanted])
    restrict_ice_addresses(pc, [LOOPBACK])
    await pc.setLocalDescription(await pc.createOffer())
    if codec == "h264":
        answer = await asyncio.get_running_loop().run_in_executor(
            None, whip_post, f"{base_url}/whip/{room_id}", token, pc.localDescription.sdp)
        await pc.setRemoteDescription(RTCSessionDescription(answer, "answer"))
        return None, pc, player
    from recorder.signal_client import RoomSocket

    socket_ = await RoomSocket.join(base_url, token, "VP8 camera")
    await socket_.send({"type": "publish", "sdp": pc.localDescription.sdp,
                        "sources": {transceiver.mid: "camera"}})
    async for message in socket_.messages():
        if message.get("type") == "answer":
            await pc.setRemoteDescription(RTCSessionDescription(message["sdp"], "answer"))
            break
        if message.get("type") == "error":
            raise RuntimeError(f"publish refused: {message}")
    # Keep reading: aiohttp answers the server's pings only while someone reads the socket,
    # and a publisher that stops answering is taken for gone after presence_timeout_s.
    drain = asyncio.create_task(_drain(socket_))
    return (socket_, drain), pc, player


async def _drain(socket_: Any) -> None:
    async for _message in socket_.messages():
        pass


SENT = {"frames": 0}  # frames the publisher handed to aiortc (what the recorder receives)


def CountedPackets(source: Any) -> Any:  # noqa: N802 - a track class made on first use
    from aiortc import MediaStreamTrack

    class Counted(MediaStreamTrack):
        kind = "video"

        async def recv(self) -> Any:
            packet = await source.recv()
            SENT["frames"] += 1
            return packet

        def stop(self) -> None:
            super().stop()
            source.stop()

    return Counted()


def whip_post(url: str, token: str, offer: str) -> str:
    request = urllib.request.Request(url, data=offer.encode(), method="POST", headers={
        "Authorization": f"Bearer {token}", "Content-Type": "application/sdp"})
    with urllib.request.urlopen(request, timeout=15) as response:
        return response.read().decode()


# the MediaRecorder subscriber (its own process) ------------------------------------------
async def media_recorder_role(base_url: str, token: str, out_dir: Path) -> None:
    from aiortc import MediaStreamTrack, RTCPeerConnection, RTCSessionDescription
    from aiortc.contrib.media import MediaRecorder

    from recorder.signal_client import RoomSocket
    from sfu.aiortc_bridge import restrict_ice_addresses

    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    socket_ = await RoomSocket.join(base_url, token, "MediaRecorder")
    pc = RTCPeerConnection()
    recorders: list[MediaRecorder] = []
    stats: dict[str, Any] = {"frames": 0, "size": None, "bandwidth": []}

    class Counted(MediaStreamTrack):
        """The received track as MediaRecorder reads it, counting decoded frames."""

        def __init__(self, source: Any) -> None:
            super().__init__()
            self.kind = source.kind
            self.source = source

        async def recv(self) -> Any:
            frame = await self.source.recv()
            stats["frames"] += 1
            stats["size"] = [frame.width, frame.height]
            return frame

    def on_track(track: Any) -> None:
        recorder = MediaRecorder(str(out_dir / f"track-{len(recorders)}.mp4"))
        recorder.addTrack(Counted(track))
        recorders.append(recorder)
        asyncio.ensure_future(recorder.start())

    pc.on("track", on_track)

    async def answer_offers() -> None:
        async for message in socket_.messages():
            if message.get("type") == "bandwidth":
                stats["bandwidth"].append(message)
            if message.get("type") == "offer":
                await pc.setRemoteDescription(RTCSessionDescription(message["sdp"], "offer"))
                restrict_ice_addresses(pc, [LOOPBACK])
                await pc.setLocalDescription(await pc.createAnswer())
                await socket_.send({"type": "answer", "sdp": pc.localDescription.sdp})

    async def write_stats() -> None:
        while True:
            (out_dir / "stats.tmp").write_text(json.dumps(stats))
            (out_dir / "stats.tmp").rename(out_dir / "stats.json")
            await asyncio.sleep(0.25)

    reader = asyncio.create_task(answer_offers())
    writer = asyncio.create_task(write_stats())
    await stop.wait()
    reader.cancel()
    writer.cancel()
    (out_dir / "stats.json").write_text(json.dumps(stats))
    for recorder in recorders:
        await recorder.stop()
    await pc.close()
    await socket_.close()


# one phase ---------------------------------------------------------------------------------
async def phase(node: Node, worker: subprocess.Popen[bytes], clip: Path, codec: str,
                windows: int, window_s: float) -> dict[str, Any]:
    from signaling.tokens import mint_token

    SENT["frames"] = 0
    room = http_json("POST", node.base_url + "/api/rooms", body={"name": f"bench {codec}"})
    room_id, host = room["room_id"], room["host_token"]
    socket_, pc, player = await publish(node.base_url, room_id, host, clip, codec)
    out_dir = node.workdir / f"mediarecorder-{codec}"
    out_dir.mkdir()
    sub_token = mint_token(node.env["COMMANDPOST_SERVER_SECRET"], room_id, "mr",
                           ["join", "subscribe", "hidden"], 3600)
    baseline = node.spawn(["-m", "bench.recorder_cpu", "--role", "mediarecorder", "--server",
                           node.base_url, "--token", sub_token, "--out", str(out_dir)],
                          f"mediarecorder-{codec}")
    rec = http_json("POST", f"{node.base_url}/api/rooms/{room_id}/recordings", host)
    rid = rec["recording_id"]
    try:
        deadline = time.monotonic() + 30
        while http_json("GET", f"{node.base_url}/api/recordings/{rid}", host)["state"] \
                != "recording":
            if time.monotonic() > deadline:
                raise RuntimeError("the recorder did not start (see recorder.log)")
            await asyncio.sleep(0.3)
        await asyncio.sleep(4.0)  # both connected, first keyframe written, encoder warm
        ours, theirs, ours_rt, theirs_rt = [], [], [], []
        stats = out_dir / "stats.json"
        for _ in range(windows):
            a0, b0, t0 = cpu_seconds(worker.pid), cpu_seconds(baseline.pid), time.monotonic()
            fa0, fb0 = SENT["frames"], decoded_frames(stats)
            await asyncio.sleep(window_s)
            elapsed = time.monotonic() - t0
            a, b = cpu_seconds(worker.pid) - a0, cpu_seconds(baseline.pid) - b0
            fa, fb = SENT["frames"] - fa0, decoded_frames(stats) - fb0
            ours.append(100 * a / elapsed)
            theirs.append(100 * b / elapsed)
            # The same work at the clip's full frame rate, from the CPU per frame handled.
            if fa > 0:
                ours_rt.append(100 * a / fa * FPS)
            if fb > 0:
                theirs_rt.append(100 * b / fb * FPS)
        sent = SENT["frames"]
    finally:
        http_json("POST", f"{node.base_url}/api/recordings/{rid}/stop", host)
        baseline.send_signal(signal.SIGTERM)
        await pc.close()
        player.video.stop()
        if socket_ is not None:
            socket_[1].cancel()
            await socket_[0].close()
    try:
        baseline.wait(timeout=30)
    except subprocess.TimeoutExpired:
        baseline.kill()
    info = await final_state(node.base_url, rid, host)
    files = [f for f in info["files"] if f["kind"] == "video"]
    try:
        theirs_stats = json.loads((out_dir / "stats.json").read_text())
    except (OSError, ValueError):
        theirs_stats = {}
    ours_median = statistics.median(ours_rt) if ours_rt else float("nan")
    theirs_median = statistics.median(theirs_rt) if theirs_rt else float("nan")
    return {"codec": codec, "recorded_tracks": len(files),
            "recorder_core_pct_measured": [round(v, 3) for v in ours],
            "mediarecorder_core_pct_measured": [round(v, 3) for v in theirs],
            "recorder_core_pct_at_30fps": [round(v, 3) for v in ours_rt],
            "mediarecorder_core_pct_at_30fps": [round(v, 2) for v in theirs_rt],
            "recorder_median_core_pct": round(ours_median, 3),
            "mediarecorder_median_core_pct": round(theirs_median, 2),
            "ratio": round(theirs_median / ours_median, 1) if ours_median > 0 else None,
            "recorded_bytes": sum(f.get("bytes") or 0 for f in files),
            "recorded_frames": files[0].get("frames") if files else None,
            "frames_sent_before_stop": sent,
            "recorded_s": round(files[0]["duration_ms"] / 1000, 1)
            if files and files[0].get("duration_ms") else None,
            "mediarecorder_frames": theirs_stats.get("frames"),
            "mediarecorder_size": theirs_stats.get("size"),
            "mediarecorder_bandwidth_messages": theirs_stats.get("bandwidth", [])[-3:]}


async def run(args: argparse.Namespace) -> dict[str, Any]:
    windows, window_s = (3, 4.0) if args.quick else (5, 10.0)
    clip_s = int(windows * window_s + 30)
    cache = Path(tempfile.gettempdir()) / "commandpost-bench-clips"
    cache.mkdir(exist_ok=True)
    clips = {"vp8": make_clip(cache / f"rec-720p-{clip_s}s.webm", "vp8", clip_s),
             "h264": make_clip(cache / f"rec-720p-{clip_s}s.ts", "h264", clip_s)}
    tmp = Path(tempfile.mkdtemp(prefix="cp-bench-rec-"))
    node = Node(tmp)
    node.start()
    try:
        worker = node.spawn(["-m", "signaling.cli", "worker", "recorder", "--server",
                             node.base_url], "recorder")
        idle = await idle_share(worker, windows, window_s)
        results = [await phase(node, worker, clips[codec], codec, windows, window_s)
                   for codec in ("vp8", "h264")]
    except BaseException:
        print(f"logs kept in {tmp}", file=sys.stderr)
        raise
    finally:
        node.stop()
    if not os.environ.get("CP_BENCH_KEEP"):
        shutil.rmtree(tmp, ignore_errors=True)
    else:
        print(f"logs kept in {tmp}")
    return {"benchmark": "recorder_cpu", "date": datetime.datetime.now(
                datetime.timezone.utc).isoformat(timespec="seconds"),
            "quick": args.quick, "windows": windows, "window_s": window_s,
            "recorder_idle_core_pct": idle,
            "cores": os.cpu_count(), "load_avg": os.getloadavg(), "phases": results,
            "targets": {"ratio_at_least": TARGET_RATIO, "core_pct_below": TARGET_CORE_PCT}}


def report(result: dict[str, Any]) -> bool:
    ok = True
    print(f"CPU per recorded 720p30 track, % of one core at 30 frames/s (CPU per frame handled "
          f"x 30), median of {result['windows']} windows of {result['window_s']:.0f} s:")
    print(f"  (the idle worker itself: {result['recorder_idle_core_pct']:.2f} % of a core, "
          "included in the recorder figures)")
    for item in result["phases"]:
        label = "VP8 camera" if item["codec"] == "vp8" else "H.264 feed"
        ratio = item["ratio"]
        print(f"  {label:11s}  recorder {item['recorder_median_core_pct']:6.2f} %   "
              f"MediaRecorder {item['mediarecorder_median_core_pct']:6.1f} %   "
              f"ratio {ratio if ratio is not None else 'n/a'}x   "
              f"(tracks recorded: {item['recorded_tracks']})")
        ok = ok and item["recorded_tracks"] == 1 and \
            item["recorder_median_core_pct"] < TARGET_CORE_PCT and \
            ratio is not None and ratio >= TARGET_RATIO
    print(f"targets: >= {TARGET_RATIO:.0f}x less CPU than MediaRecorder and "
          f"< {TARGET_CORE_PCT:.0f} % of a core per track: {'met' if ok else 'NOT met'}")
    return ok


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.recorder_cpu", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="3 windows of 4 s per phase")
    parser.add_argument("--role", choices=["bench", "mediarecorder"], default="bench",
                        help=argparse.SUPPRESS)
    parser.add_argument("--server", help=argparse.SUPPRESS)
    parser.add_argument("--token", help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.role == "mediarecorder":
        asyncio.run(media_recorder_role(args.server, args.token, args.out))
        return 0
    result = asyncio.run(run(args))
    met = report(result)
    RESULTS.mkdir(parents=True, exist_ok=True)
    day = datetime.date.today().isoformat()
    path = RESULTS / f"{day}-recorder-cpu{'-quick' if args.quick else ''}.json"
    path.write_text(json.dumps(result | {"targets_met": met}, indent=1) + "\n")
    print(f"wrote {path.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
