"""`commandpost worker transcriber`: the sidecar process entry point."""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import time
from pathlib import Path
from typing import Any

import redis.asyncio as aioredis

log = logging.getLogger(__name__)

REDIS_WAIT_S = 30.0


def add_cli(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "transcriber", help="transcribe meetings (live captions, transcripts)",
        description="Take transcription jobs from Redis Streams (consumer group "
        "'transcribers'), join each room as a hidden participant and transcribe every "
        "speaker with vosk. Run as many as needed; a dead worker's jobs are taken over.")
    parser.add_argument("--config", type=Path, default=None, help=(
        "config file (default: ./config.toml if present, else built-in defaults); "
        "COMMANDPOST_<SECTION>_<KEY> environment variables override it"))
    parser.add_argument("--consumer", default=None,
                        help="consumer name in the group (default: host-pid)")
    parser.set_defaults(func=run_cli)


def run_cli(args: argparse.Namespace) -> int:
    from signaling.cli import load
    from signaling.datadir import prepare_data_dir

    config = load(args.config)
    logging.basicConfig(level=config.log.level.upper(),
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    identity = prepare_data_dir(config)
    url = config.redis.url or _wait_for_embedded(identity.data_dir)
    if not url:
        print("commandpost: no Redis: set redis.url, or start `commandpost serve` with the "
              "same data_dir first", flush=True)
        return 1
    asyncio.run(_main(config, url, identity.secret, args.consumer))
    return 0


def _wait_for_embedded(data_dir: Path) -> str | None:
    """The private Redis of a `commandpost serve` on this data_dir (it may be starting)."""
    from signaling.embedded_redis import running_url

    deadline = time.monotonic() + REDIS_WAIT_S
    while True:
        url = running_url(data_dir)
        if url or time.monotonic() > deadline:
            return url
        time.sleep(0.5)


async def _main(config: Any, url: str, secret: str, consumer: str | None) -> None:
    from transcribe.worker import TranscriberWorker, default_consumer

    redis = aioredis.Redis.from_url(url, decode_responses=True)
    worker = TranscriberWorker(config, redis, secret, consumer or default_consumer())
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, worker.stopping.set)
    try:
        await worker.run()
    finally:
        await redis.aclose()
