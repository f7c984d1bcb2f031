"""Processes that play devices: an RTSP camera (Debian GStreamer, system python) and an
RTMP pusher (ffmpeg). Each is ended by its own PID."""

from __future__ import annotations

import os
import select
import signal
import socket
import subprocess
import time
from pathlib import Path

CAMERA_SCRIPT = Path(__file__).with_name("rtsp_camera.py")
SYSTEM_PYTHON = "/usr/bin/python3"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class RtspCamera:
    """`RtspCamera(file=clip)` or `RtspCamera(live=True)`; start() -> rtsp:// URL.
    stop() and start() again serve the same URL (a camera that reboots)."""

    def __init__(self, file: Path | None = None, live: bool = False, codec: str = "h264",
                 audio: bool = True, port: int | None = None, path: str = "/cam",
                 size: str = "640x360", fps: int = 25) -> None:
        self.args = ["--port", str(port or free_port()), "--path", path, "--codec", codec,
                     "--size", size, "--fps", str(fps)]
        self.args += ["--file", str(file)] if file is not None else ["--live"]
        if not audio:
            self.args.append("--no-audio")
        self.url = ""
        self.proc: subprocess.Popen[str] | None = None

    def start(self, timeout: float = 15.0) -> str:
        self.proc = subprocess.Popen([SYSTEM_PYTHON, str(CAMERA_SCRIPT), *self.args],
                                     stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                     text=True)
        deadline = time.monotonic() + timeout
        assert self.proc.stdout is not None
        while time.monotonic() < deadline:
            ready, _, _ = select.select([self.proc.stdout], [], [], 0.2)
            if ready:
                line = self.proc.stdout.readline()
                if line.startswith("READY "):
                    self.url = line.split()[1]
                    return self.url
                if not line and self.proc.poll() is not None:
                    break
        self.stop()
        raise RuntimeError(f"RTSP camera did not start: {' '.join(self.args)}")

    def stop(self) -> None:
        proc, self.proc = self.proc, None
        if proc is None or proc.poll() is not None:
            return
        os.kill(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait(timeout=5)


def rtmp_push(clip: Path, url: str, loop: bool = False) -> subprocess.Popen[bytes]:
    """ffmpeg pushing `clip` in real time, streams copied (no re-encode), as FLV."""
    cmd = ["ffmpeg", "-hide_banner", "-loglevel", "error", "-re"]
    if loop:
        cmd += ["-stream_loop", "-1"]
    cmd += ["-i", str(clip), "-c", "copy", "-f", "flv", url]
    return subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE)


def end_process(proc: subprocess.Popen) -> None:  # type: ignore[type-arg]
    if proc.poll() is None:
        os.kill(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait(timeout=5)
