"""One measured run: connect P publishers and S subscribers to a server, warm up, then count
for a fixed window while reading the server's CPU from /proc."""

from __future__ import annotations

import asyncio
import logging
import os
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Protocol

from aiortc import RTCPeerConnection

from bench import procs, rtc
from bench.clip import SIMULCAST_RIDS, load_clip
from bench.loadgen.peers import Publisher, Subscriber
from bench.loadgen.recorder import Recorder
from bench.loadgen.simulcast_publisher import SimulcastPublisher

SUBSCRIBE_CONCURRENCY = 4


class DropCounter(logging.Handler):
    """Counts packets aiortc drops on the load generator's side ("x SRTP unprotect failed",
    "x RTP parsing failed"), so such losses are not blamed on the server."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.count = 0

    def emit(self, record: logging.LogRecord) -> None:
        if "unprotect failed" in record.getMessage() or "parsing failed" in record.getMessage():
            self.count += 1

    @classmethod
    def install(cls) -> DropCounter:
        handler = cls()
        log = logging.getLogger("aiortc.rtcdtlstransport")
        log.setLevel(logging.DEBUG)
        log.propagate = False
        log.addHandler(handler)
        return handler
DRAIN_S = 0.5  # packets sent just before the window closed are still counted on arrival
CLOSE_TIMEOUT_S = 15.0


@dataclass(frozen=True)
class LoadConfig:
    server: str  # commandpost | janus | relay
    base_url: str
    server_pid: int
    clip_path: str
    publishers: int
    subscribers: int
    warmup_s: float
    duration_s: float
    setup_timeout_s: float = 60.0
    secret: str = ""
    # --simulcast (CommandPost only): each publisher sends these clips as its layers,
    # lowest first, and subscribers change their tile sizes during the run.
    simulcast: bool = False
    layer_clips: tuple[str, ...] = ()


class Signaller(Protocol):
    async def setup(self) -> None: ...
    async def publish(self, index: int, pc: RTCPeerConnection) -> None: ...
    async def subscribe(self, index: int, pc: RTCPeerConnection, tracks_wanted: int,
                        on_negotiated: Any) -> None: ...
    async def close(self) -> None: ...


def make_signaller(config: LoadConfig) -> Signaller:
    if config.server == "commandpost":
        from bench.loadgen.signal_commandpost import CommandPostSignaller
        return CommandPostSignaller(config.base_url, config.secret,
                                    rotate_tiles=config.simulcast)
    if config.server == "janus":
        from bench.loadgen.signal_janus import JanusSignaller
        return JanusSignaller(config.base_url, rtc.janus_address())
    if config.server == "relay":
        from bench.loadgen.signal_relay import RelaySignaller
        return RelaySignaller(config.base_url)
    raise ValueError(f"unknown server {config.server!r}")


class LoadRun:
    def __init__(self, config: LoadConfig) -> None:
        self.config = config
        self.recorder = Recorder()
        self.signaller = make_signaller(config)
        self.publishers: list[Publisher | SimulcastPublisher] = []
        self.subscribers: list[Subscriber] = []
        self._tasks: list[asyncio.Task[None]] = []
        self.drops = DropCounter.install()
        self.recorder.simulcast = config.simulcast

    async def connect(self) -> None:
        cfg = self.config
        clip = load_clip(Path(cfg.clip_path))
        layers = [(rid, load_clip(Path(path)))
                  for rid, path in zip(SIMULCAST_RIDS, cfg.layer_clips)]
        await self.signaller.setup()
        for index in range(cfg.publishers):
            if cfg.simulcast:
                publisher = SimulcastPublisher(index, layers, cfg.publishers, self.recorder)
                self.publishers.append(publisher)
                await self.signaller.publish(index, publisher.pc, publisher.rewrite_offer)
            else:
                publisher = Publisher(index, clip, cfg.publishers, self.recorder)
                self.publishers.append(publisher)
                await self.signaller.publish(index, publisher.pc)
        await asyncio.gather(*(rtc.wait_connected(p.pc, cfg.setup_timeout_s)
                               for p in self.publishers))
        for publisher in self.publishers:
            publisher.start()
        await asyncio.sleep(1.0)  # let the server see media before anyone subscribes
        gate = asyncio.Semaphore(SUBSCRIBE_CONCURRENCY)
        await asyncio.gather(*(self._subscribe(index, gate) for index in range(cfg.subscribers)))
        await self._wait_all_streams()

    async def _subscribe(self, index: int, gate: asyncio.Semaphore) -> None:
        subscriber = Subscriber(index, self.recorder)
        self.subscribers.append(subscriber)
        async with gate:
            await self.signaller.subscribe(index, subscriber.pc, 2 * self.config.publishers,
                                           subscriber.tap_all)
            await rtc.wait_connected(subscriber.pc, self.config.setup_timeout_s)
        self._tasks.append(asyncio.create_task(
            subscriber.feedback.run(subscriber.transport())))

    async def _wait_all_streams(self) -> None:
        wanted = 2 * self.config.publishers
        deadline = time.monotonic() + self.config.setup_timeout_s
        while any(len(s.receiving) < wanted for s in self.subscribers):
            if time.monotonic() > deadline:
                short = [(s.index, len(s.receiving)) for s in self.subscribers
                         if len(s.receiving) < wanted]
                raise TimeoutError(f"subscribers not receiving all {wanted} streams: {short}")
            await asyncio.sleep(0.1)

    async def measure(self) -> dict[str, Any]:
        cfg = self.config
        await asyncio.sleep(cfg.warmup_s)
        window = self.recorder.window
        server0, self0 = procs.tree_cpu_seconds(cfg.server_pid), procs.cpu_seconds(os.getpid())
        busy0, udp0 = procs.machine_busy_seconds(), procs.udp_counters()
        drops0 = self.drops.count
        window.start = time.time()
        print("WINDOW_OPEN", flush=True)  # a profiler waiting for steady state starts now
        await asyncio.sleep(cfg.duration_s)
        window.end = time.time()
        server1, self1 = procs.tree_cpu_seconds(cfg.server_pid), procs.cpu_seconds(os.getpid())
        busy1, udp1 = procs.machine_busy_seconds(), procs.udp_counters()
        await asyncio.sleep(DRAIN_S)
        window_s = window.end - window.start
        layers = {} if not cfg.simulcast else {"publisher_layers": self._publisher_layers()}
        return {
            **layers,
            **self.recorder.summary(cfg.subscribers),
            "window_s": window_s,
            "server_cpu_s": server1 - server0,
            "loadgen_cpu_s": self1 - self0,
            "loadgen_dropped_packets": self.drops.count - drops0,
            # Everything else this machine did meanwhile (other jobs, the kernel's share).
            "background_cpu_s": max(0.0, (busy1 - busy0) - (server1 - server0) - (self1 - self0)),
            "server_processes": len(procs.tree_pids(cfg.server_pid)),
            # Machine-wide (other jobs' sockets count too): drops at full receive buffers.
            "udp_rcvbuf_errors": udp1.get("RcvbufErrors", 0) - udp0.get("RcvbufErrors", 0),
            "udp_sndbuf_errors": udp1.get("SndbufErrors", 0) - udp0.get("SndbufErrors", 0),
        }

    def _publisher_layers(self) -> dict[str, dict[str, int]]:
        """Per rid, summed over publishers: packets sent in the window, PLIs received."""
        total: dict[str, dict[str, int]] = {}
        for publisher in self.publishers:
            if isinstance(publisher, SimulcastPublisher):
                for rid, stats in publisher.stats().items():
                    into = total.setdefault(rid, {})
                    for key, value in stats.items():
                        into[key] = into.get(key, 0) + value
        return total

    async def close(self) -> None:
        for task in self._tasks:
            task.cancel()
        for publisher in self.publishers:
            publisher.stop()
        pcs = [p.pc for p in self.publishers] + [s.pc for s in self.subscribers]
        try:
            await asyncio.wait_for(asyncio.gather(*(pc.close() for pc in pcs),
                                                  return_exceptions=True), CLOSE_TIMEOUT_S)
        finally:
            await asyncio.wait_for(self.signaller.close(), CLOSE_TIMEOUT_S)


async def run(config: LoadConfig) -> dict[str, Any]:
    load = LoadRun(config)
    try:
        started = time.monotonic()
        await asyncio.wait_for(load.connect(), config.setup_timeout_s + 5)
        setup_s = time.monotonic() - started
        result = await load.measure()
        return {"config": asdict(config), "setup_s": setup_s, **result}
    finally:
        await load.close()
