"""Test-side helpers of the transcriber tests: a speaking participant, an in-process or
subprocess transcriber worker, and waiting for stored segments."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from aiortc import RTCPeerConnection, RTCConfiguration, RTCSessionDescription
from sfu.aiortc_bridge import restrict_ice_addresses

from local_node import LocalServer
from signal_client import WsClient
from tr_speech import SpeechTrack

from signaling.config import load_config
from transcribe.models import ModelSet
from transcribe.store import TranscriptStore
from transcribe.worker import TranscriberWorker

REPO = Path(__file__).resolve().parents[2]
LOOPBACK = ["127.0.0.1"]
# Short timings so a test does not wait for production-length claims.
FAST = {"COMMANDPOST_TRANSCRIBE_CLAIM_IDLE_S": "3", "COMMANDPOST_TRANSCRIBE_HEARTBEAT_S": "0.5",
        "COMMANDPOST_TRANSCRIBE_IDLE_STOP_S": "5", "COMMANDPOST_TRANSCRIBE_THREADS": "2"}


class Speaker:
    """A participant publishing one SpeechTrack microphone through the SFU."""

    def __init__(self, ws: WsClient, joined: dict[str, Any]) -> None:
        self.ws = ws
        self.id = joined["participant_id"]
        self.name = joined["name"]
        self.mic = SpeechTrack()
        self.pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))

    @classmethod
    async def join(cls, server: LocalServer, room: dict[str, Any], name: str) -> Speaker:
        ws, joined = await server.joined_client(room, name=name)
        speaker = cls(ws, joined)
        await speaker.publish()
        return speaker

    async def publish(self) -> None:
        self.pc.addTransceiver(self.mic, direction="sendonly")
        restrict_ice_addresses(self.pc, LOOPBACK)
        await self.pc.setLocalDescription(await self.pc.createOffer())
        mid = self.pc.getTransceivers()[0].mid
        await self.ws.send({"type": "publish", "sdp": self.pc.localDescription.sdp,
                            "sources": {mid: "microphone"}})
        answer = await self.ws.recv("answer", timeout=10)
        await self.pc.setRemoteDescription(RTCSessionDescription(answer["sdp"], "answer"))

    async def close(self) -> None:
        await self.pc.close()


def worker_env(server: LocalServer, extra: dict[str, str] | None = None) -> dict[str, str]:
    """The environment a worker needs to reach `server` (same Redis, secret, URL)."""
    config = server.config
    return {"COMMANDPOST_REDIS_URL": config.redis.url,
            "COMMANDPOST_SERVER_PORT": str(config.server.port),
            "COMMANDPOST_SERVER_SECRET": server.secret,
            "COMMANDPOST_SERVER_DATA_DIR": config.server.data_dir,
            "COMMANDPOST_SFU_ICE_HOST_ADDRESSES": "127.0.0.1", **FAST, **(extra or {})}


class InProcessWorker:
    """A TranscriberWorker on the test's loop (vosk still runs in its thread pool), sharing
    one loaded model across the tests of a session."""

    def __init__(self, server: LocalServer, models: ModelSet,
                 extra: dict[str, str] | None = None, consumer: str = "w-test") -> None:
        config = load_config(None, env=worker_env(server, extra))
        self.worker = TranscriberWorker(config, server.redis, server.secret, consumer,
                                        models=models)
        self.task: asyncio.Task[None] | None = None

    async def __aenter__(self) -> TranscriberWorker:
        self.task = asyncio.create_task(self.worker.run())
        return self.worker

    async def __aexit__(self, *exc: Any) -> None:
        self.worker.stopping.set()
        assert self.task is not None
        await asyncio.wait_for(self.task, 20)


def spawn_worker(server: LocalServer, consumer: str, log_path: Path,
                 extra: dict[str, str] | None = None) -> subprocess.Popen[bytes]:
    """`commandpost worker transcriber` as a real process (it can be SIGKILLed)."""
    env = {**os.environ, **worker_env(server, extra), "PYTHONUNBUFFERED": "1"}
    # Built-in defaults plus the env, as the in-process node has (not the repo's config.toml).
    config = log_path.with_name("worker-config.toml")
    config.write_text("", encoding="utf-8")
    with open(log_path, "ab") as log:
        return subprocess.Popen([sys.executable, "-m", "signaling.cli", "worker", "transcriber",
                                 "--config", str(config), "--consumer", consumer],
                                cwd=REPO, env=env,
                                stdout=log, stderr=subprocess.STDOUT)


async def wait_segments(store: TranscriptStore, room_id: str, count: int,
                        timeout: float = 30.0) -> list[dict[str, Any]]:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        segments = await store.segments(room_id)
        if len(segments) >= count:
            return segments
        if loop.time() > deadline:
            raise AssertionError(f"{len(segments)} of {count} segments in {timeout} s: "
                                 f"{[s['text'] for s in segments]}")
        await asyncio.sleep(0.2)


async def wait_listening(worker: TranscriberWorker, participant_ids: list[str],
                         timeout: float = 30.0) -> None:
    """Until the worker receives audio frames of every one of `participant_ids`."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        heard = {stream.speaker_id for running in list(worker.running.values())
                 if running.meeting is not None
                 for stream in list(running.meeting.streams.values())}
        if set(participant_ids) <= heard:
            return
        if loop.time() > deadline:
            raise AssertionError(f"worker hears {heard}, not all of {participant_ids}")
        await asyncio.sleep(0.1)
