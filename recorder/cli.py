"""`commandpost worker recorder [--config FILE] [--server URL]`.

The worker reads the same config as `serve`: Redis from `redis.url` (or the private Redis
a local `serve` runs for the same data directory), the token secret from `server.secret`
(or the data directory), and reaches rooms at `--server` (default `server.public_url` or
host:port). On another machine give it the same secret and Redis and a `--server` URL.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
from pathlib import Path
from typing import Any

log = logging.getLogger("commandpost.recorder")


def add_worker_cli(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "recorder", help="record rooms (jobs from Redis Streams)",
        description="Take recording jobs from Redis and record rooms as a hidden "
        "participant: per-track WebM/Matroska files without transcoding.")
    parser.add_argument("--config", type=Path, default=None, help=(
        "config file (default: ./config.toml if present, else built-in defaults); "
        "COMMANDPOST_<SECTION>_<KEY> environment variables override it"))
    parser.add_argument("--server", default=None, help="base URL of a CommandPost node "
                        "(default: server.public_url, else http://server.host:server.port)")
    parser.set_defaults(func=run_worker)


def run_worker(args: argparse.Namespace) -> int:
    from signaling.cli import _loop_runner, load
    from signaling.config import ConfigError
    from signaling.datadir import prepare_data_dir
    from signaling.embedded_redis import running_url

    config = load(args.config)
    logging.basicConfig(level=config.log.level.upper(),
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    identity = prepare_data_dir(config)
    redis_url = config.redis.url or running_url(identity.data_dir)
    if not redis_url:
        raise ConfigError("[redis] url is empty and no local `commandpost serve` runs a "
                          "private Redis for this data directory")
    # The same event loop as `serve` (uvloop by default: less CPU per packet).
    run = _loop_runner(config.server.event_loop)
    run(_main(config, identity, redis_url, args.server or config.server.base_url))
    return 0


async def _main(config: Any, identity: Any, redis_url: str, server_url: str) -> None:
    import redis.asyncio as aioredis

    from recorder.job import JobContext
    from recorder.store import RecordingStore
    from recorder.worker import RecorderWorker, new_worker_id, recordings_dir

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    client = aioredis.Redis.from_url(redis_url, decode_responses=True)
    rec = config.recorder
    ctx = JobContext(rec, RecordingStore(client), identity.secret, server_url,
                     recordings_dir(rec.dir, identity.data_dir), new_worker_id(),
                     rec.ice_addresses or config.sfu.ice_host_addresses)
    worker = RecorderWorker(ctx, rec.max_jobs)
    print(f"recorder worker {ctx.worker_id} for {server_url}, files in {ctx.recordings_dir}",
          flush=True)
    try:
        await worker.run(stop)
    finally:
        await client.aclose()
