"""Helpers of the recorder tests: worker processes, media inspection, encoder capture."""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import av

REPO = Path(__file__).resolve().parents[2]


def node_env(rec_dir: Path, **extra: str) -> dict[str, str]:
    return {"COMMANDPOST_RECORDER_DIR": str(rec_dir),
            "COMMANDPOST_RECORDER_EMBEDDED_WORKER": "false", **extra}


@dataclass
class RecorderProcess:
    proc: subprocess.Popen[bytes]
    log_path: Path

    @classmethod
    def start(cls, started: list[RecorderProcess], server: Any, rec_dir: Path, workdir: Path,
              extra_env: Mapping[str, str] | None = None) -> RecorderProcess:
        """`commandpost worker recorder` for `server` (a LocalServer or a RunningServer:
        same Redis, same secret)."""
        env = {k: v for k, v in os.environ.items() if not k.startswith("COMMANDPOST_")}
        redis_url = getattr(server, "redis_url", None) or server.config.redis.url
        env.update({
            "COMMANDPOST_REDIS_URL": redis_url,
            "COMMANDPOST_SERVER_SECRET": server.secret,
            "COMMANDPOST_SERVER_DATA_DIR": str(workdir / f"worker-{len(started)}"),
            "COMMANDPOST_RECORDER_DIR": str(rec_dir),
            "COMMANDPOST_RECORDER_ICE_ADDRESSES": "127.0.0.1",
            "COMMANDPOST_RECORDER_CLAIM_IDLE_S": "3",
            "COMMANDPOST_RECORDER_HEARTBEAT_S": "0.5",
            "COMMANDPOST_RECORDER_MANIFEST_INTERVAL_S": "0.5",
            "COMMANDPOST_RECORDER_MIN_FREE_BYTES": "0",
            "COMMANDPOST_RECORDER_COMPOSITE_AUTO": "false",
            **(extra_env or {})})
        log_path = workdir / f"recorder-{len(started)}.log"
        with open(log_path, "wb") as log:
            proc = subprocess.Popen(
                [sys.executable, "-m", "signaling.cli", "worker", "recorder", "--server",
                 server.base_url], cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT)
        recorder = cls(proc, log_path)
        started.append(recorder)
        return recorder

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(timeout=10)

    def terminate(self) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.kill()
        return int(self.proc.returncode)


async def wait_until(check: Callable[[], Awaitable[Any]], timeout: float, what: str,
                     interval: float = 0.2) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = await check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        await asyncio.sleep(interval)


def ffprobe(path: Path) -> dict[str, Any]:
    out = subprocess.run(["ffprobe", "-v", "error", "-print_format", "json", "-show_format",
                          "-show_streams", str(path)], capture_output=True, text=True,
                         timeout=60)
    assert out.returncode == 0, f"ffprobe failed on {path}: {out.stderr}"
    return json.loads(out.stdout)


def decode_all(path: Path) -> int:
    """Decode every packet of the file's first stream (a decoder error fails); returns
    the number of frames decoded."""
    frames = 0
    with av.open(str(path)) as container:
        stream = container.streams[0]
        for packet in container.demux(stream):
            frames += len(packet.decode())
    assert frames > 0, f"{path.name}: nothing decoded"
    return frames


def demuxed(path: Path) -> list[tuple[int, bytes, bool]]:
    """(pts in ms, payload, keyframe) of every packet of the file's first stream."""
    found = []
    with av.open(str(path)) as container:
        stream = container.streams[0]
        for packet in container.demux(stream):
            if packet.size:
                found.append((int(packet.pts * packet.time_base * 1000), bytes(packet),
                              packet.is_keyframe))
    return found


def demuxed_count(path: Path) -> int:
    return len(demuxed(path))


@contextmanager
def captured_frames() -> Iterator[dict[str, set[str]]]:
    """SHA-256 of every encoded frame aiortc's VP8 and H.264 encoders send in this process
    (the publishers' side: what the recorder must store unchanged)."""
    from aiortc.codecs import h264, vpx

    sent: dict[str, set[str]] = {"vp8": set(), "h264": set()}
    vp8_original = vpx.Vp8Encoder.__dict__["_packetize"]
    h264_original = h264.H264Encoder.__dict__["_packetize"]

    def vp8_packetize(cls: Any, buffer: bytes, picture_id: int) -> list[bytes]:
        sent["vp8"].add(hashlib.sha256(bytes(buffer)).hexdigest())
        return vp8_original.__func__(cls, buffer, picture_id)

    def h264_packetize(cls: Any, packages: Any) -> list[bytes]:
        packages = list(packages)
        data = b"".join(b"\x00\x00\x00\x01" + bytes(p) for p in packages)
        sent["h264"].add(hashlib.sha256(data).hexdigest())
        return h264_original.__func__(cls, packages)

    vpx.Vp8Encoder._packetize = classmethod(vp8_packetize)
    h264.H264Encoder._packetize = classmethod(h264_packetize)
    try:
        yield sent
    finally:
        vpx.Vp8Encoder._packetize = vp8_original
        h264.H264Encoder._packetize = h264_original


def annexb(avcc: bytes) -> bytes:
    """An H.264 sample as Matroska stores it (4-byte NAL lengths) in Annex B form (start
    codes), the form the encoder produced and RTP carried."""
    out, offset = [], 0
    while offset + 4 <= len(avcc):
        size = int.from_bytes(avcc[offset:offset + 4], "big")
        out.append(b"\x00\x00\x00\x01" + avcc[offset + 4:offset + 4 + size])
        offset += 4 + size
    assert offset == len(avcc), "not a length-prefixed H.264 sample"
    return b"".join(out)


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
