"""Helpers of the recorder tests: worker processes, media inspection, encoder capture."""

from __future__ import annotations

import asyncio
import hashlib
import itertools
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
def captured_frames() -> Iterator[dict[str, list[tuple[str, float]]]]:
    """SHA-256 of every encoded frame aiortc's VP8 and H.264 encoders send in this process
    (the publishers' side: what the recorder must store unchanged), in sending order with
    the wall-clock time each was encoded."""
    from aiortc.codecs import h264, vpx

    sent: dict[str, list[tuple[str, float]]] = {"vp8": [], "h264": []}
    vp8_original = vpx.Vp8Encoder.__dict__["_packetize"]
    h264_original = h264.H264Encoder.__dict__["_packetize"]

    def vp8_packetize(cls: Any, buffer: bytes, picture_id: int) -> list[bytes]:
        sent["vp8"].append((hashlib.sha256(bytes(buffer)).hexdigest(), time.time()))
        return vp8_original.__func__(cls, buffer, picture_id)

    def h264_packetize(cls: Any, packages: Any) -> list[bytes]:
        packages = list(packages)
        data = b"".join(b"\x00\x00\x00\x01" + bytes(p) for p in packages)
        sent["h264"].append((hashlib.sha256(data).hexdigest(), time.time()))
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


def sent_span(sent: list[tuple[str, float]], hashes: list[str], k: int = 5) -> float:
    """Seconds between the sending of the recorded frames' first and last, found where the
    recorded sequence starts and ends in the (possibly interleaved) sent one: identical
    frames may recur, a run of k in order does not."""
    def find(seq: list[tuple[str, float]], wanted: list[str]) -> float:
        for i, (h, t) in enumerate(seq):
            if h != wanted[0]:
                continue
            rest, j = wanted[1:], i + 1
            while rest and j < min(len(seq), i + 60):
                if seq[j][0] == rest[0]:
                    rest = rest[1:]
                j += 1
            if not rest:
                return t
        raise AssertionError("the recorded frames are not a run of the sent ones")
    first = find(sent, hashes[:k])
    last = find(sent[::-1], hashes[::-1][:k])
    return last - first


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


_CAMERAS = itertools.count()


def unique_camera() -> Any:
    """A synthetic camera whose frames never repeat, nor match another camera's (the colour
    encodes the frame number and the camera), so each encoded frame's hash names one
    moment."""
    import numpy as np
    from rtc_peer import SyntheticCamera

    blue = 40 * next(_CAMERAS) % 256

    class UniqueCamera(SyntheticCamera):
        async def recv(self) -> av.VideoFrame:
            pts, time_base = await self.next_timestamp()
            self._count += 1
            n = self._count
            data = np.full((120, 160, 3), (n % 256, (n // 256) * 8 % 256, blue), dtype=np.uint8)
            data[:, : 8 + n % 64] = 255 - n % 256  # a moving edge: inter frames differ too
            frame = av.VideoFrame.from_ndarray(data, format="rgb24")
            frame.pts, frame.time_base = pts, time_base
            return frame

    return UniqueCamera()

