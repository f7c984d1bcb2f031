"""The `commandpost` command line: serve, token, room create."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import os
import signal
import sys
from collections.abc import Callable, Coroutine, Iterator, Sequence
from pathlib import Path
from typing import Any

import redis.asyncio as aioredis

from signaling.config import Config, ConfigError, load_config
from signaling.datadir import NodeIdentity, prepare_data_dir
from signaling.embedded_redis import EmbeddedRedis, EmbeddedRedisError, running_url
from signaling.extensions import Extensions
from signaling.rooms import CreatedRoom, create_room
from signaling.shares import ShareStore
from signaling.store import Store
from signaling.tokens import mint_token, parse_grants

DEFAULT_CONFIG = Path("config.toml")
log = logging.getLogger("commandpost")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="commandpost", description="CommandPost: on-premises video meetings.")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    serve = sub.add_parser("serve", help="run the server", description=(
        "Serve HTTP, WebSocket signalling, WHIP/WHEP and the SFU. Starts a private "
        "redis-server when redis.url is empty."))
    _config_arg(serve)
    serve.add_argument("--demo-room", action="store_true",
                       help="create a fresh room at start-up and print its join link")
    # Internal: the front starts its SFU workers with this (signaling/workers.py).
    serve.add_argument("--worker-of", type=int, default=None, help=argparse.SUPPRESS)
    serve.set_defaults(func=cmd_serve)

    token = sub.add_parser("token", help="mint a join token", description=(
        "Print a signed join token for one room (uses the configured or stored secret)."))
    _config_arg(token)
    token.add_argument("--room", required=True, help="room id the token is bound to")
    token.add_argument("--identity", required=True, help="who the token is for")
    token.add_argument("--name", default="", help="display name (default: the identity)")
    token.add_argument("--grants", default="join,publish,subscribe,publish_data",
                       help="comma-separated grants (join, publish, subscribe, publish_data, "
                       "admin, record, hidden); default %(default)s")
    token.add_argument("--ttl", type=int, default=3600, help="lifetime in seconds "
                       "(default %(default)s)")
    token.set_defaults(func=cmd_token)

    room = sub.add_parser("room", help="manage rooms", description="Manage rooms.")
    room_sub = room.add_subparsers(dest="room_command", required=True, metavar="ACTION")
    create = room_sub.add_parser("create", help="create a room and print its join link",
                                 description="Create a room in Redis and print its join "
                                 "link and a host token.")
    _config_arg(create)
    create.add_argument("--name", default=None, help="room name")
    create.add_argument("--json", action="store_true", help="print JSON instead of text")
    create.set_defaults(func=cmd_room_create)
    worker = sub.add_parser("worker", help="run a sidecar worker (recorder, transcriber)",
                            description="Run a sidecar worker that takes jobs from Redis "
                            "Streams and joins rooms as a hidden participant.")
    worker_sub = worker.add_subparsers(dest="worker_command", required=True, metavar="KIND")
    Extensions.load().add_worker_cli(worker_sub)
    return parser


def _config_arg(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", type=Path, default=None, help=(
        "config file (default: ./config.toml if present, else built-in defaults); "
        "COMMANDPOST_<SECTION>_<KEY> environment variables override it"))


def load(path: Path | None) -> Config:
    if path is None and DEFAULT_CONFIG.is_file():
        path = DEFAULT_CONFIG
    return load_config(path)


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except ConfigError as exc:
        print(f"commandpost: configuration error: {exc}", file=sys.stderr)
        return 2
    except (EmbeddedRedisError, OSError, ValueError) as exc:
        print(f"commandpost: {exc}", file=sys.stderr)
        return 1


def cmd_serve(args: argparse.Namespace) -> int:
    config = load(args.config)
    logging.basicConfig(level=config.log.level.upper(),
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    identity = prepare_data_dir(config)
    run = _loop_runner(config.server.event_loop)
    front = args.worker_of is None and config.server.worker_count > 1
    with _redis_for_serve(config, identity) as redis_url, \
            _sidecars(config, args, redis_url):
        if front:
            from signaling.front import serve_front

            config_path = str(args.config) if args.config is not None else None
            from signaling.workers import WorkerStartError

            try:
                run(serve_front(config, identity, redis_url, config_path, args.demo_room))
            except WorkerStartError as exc:
                print(f"commandpost: {exc}", file=sys.stderr)
                return 1
        else:
            run(_serve(config, identity, redis_url, args.demo_room, args.worker_of))
    return 0


def _loop_runner(event_loop: str) -> Callable[[Coroutine[Any, Any, None]], None]:
    """`asyncio.run`, or uvloop's equivalent when `server.event_loop` asks for it. A missing
    uvloop package is a configuration error, not a silent fall-back: the operator chose it."""
    if event_loop == "asyncio":
        return asyncio.run
    try:
        import uvloop
    except ImportError:
        raise ConfigError("[server] event_loop: 'uvloop' is chosen but the uvloop package is "
                          "not installed (pip install uvloop)") from None
    return uvloop.run


async def _serve(config: Config, identity: NodeIdentity, redis_url: str,
                 demo_room: bool, worker_of: int | None = None) -> None:
    """Run until SIGINT/SIGTERM, then shut down in order: clients, rooms (peer
    connections), Redis. Our own signal handling only sets an event, so a signal that
    lands during start-up cannot be lost in a swallowed cancellation (Python 3.11's
    asyncio.wait_for, used inside redis-py, may swallow one)."""
    from aiohttp import web

    from signaling.app import NODE, create_app

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    if worker_of is not None:
        # A worker's terminal Ctrl-C goes to the front, which stops it in order.
        loop.remove_signal_handler(signal.SIGINT)
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        watch = asyncio.create_task(_watch_front(worker_of, stop))
    app = create_app(config, identity, redis_url)
    runner = web.AppRunner(app, shutdown_timeout=10,
                           access_log=log if config.log.level == "debug" else None)
    await runner.setup()
    try:
        await web.TCPSite(runner, config.server.host, config.server.port).start()
        if worker_of is None:
            print(f"CommandPost node {identity.node_id} serving {config.server.base_url}",
                  flush=True)
        if demo_room and not stop.is_set():
            services = app[NODE].services
            print_room(await create_room(services.store, services.shares, config,
                                         identity.secret, "Demo room"), as_json=False)
        await stop.wait()
        log.info("shutting down")
    finally:
        if worker_of is not None:
            watch.cancel()
        await runner.cleanup()


async def _watch_front(front_pid: int, stop: asyncio.Event) -> None:
    """A worker whose front is gone (killed without tidying up) stops on its own."""
    while os.getppid() == front_pid:
        await asyncio.sleep(1.0)
    log.warning("front process %d is gone; stopping this worker", front_pid)
    stop.set()


@contextlib.contextmanager
def _sidecars(config: Config, args: argparse.Namespace, redis_url: str) -> Iterator[None]:
    """The embedded sidecar workers (signaling/sidecars.py) of a top-level `serve`."""
    from signaling.sidecars import Sidecars, embedded_kinds

    kinds = embedded_kinds(config) if args.worker_of is None else []
    sidecars = Sidecars(kinds, str(args.config) if args.config is not None else None,
                        {"COMMANDPOST_REDIS_URL": redis_url}).start()
    try:
        yield
    finally:
        sidecars.stop()


@contextlib.contextmanager
def _redis_for_serve(config: Config, identity: NodeIdentity) -> Iterator[str]:
    if config.redis.url:
        yield config.redis.url
        return
    embedded = EmbeddedRedis(identity.data_dir, config.redis.server_binary)
    url = embedded.start()
    log.info("started private redis-server (data in %s)", identity.data_dir)
    try:
        yield url
    finally:
        embedded.stop()


def cmd_token(args: argparse.Namespace) -> int:
    config = load(args.config)
    identity = prepare_data_dir(config)
    grants = parse_grants(g.strip() for g in args.grants.split(",") if g.strip())
    print(mint_token(identity.secret, args.room, args.identity, grants, args.ttl,
                     name=args.name))
    return 0


def cmd_room_create(args: argparse.Namespace) -> int:
    config = load(args.config)
    identity = prepare_data_dir(config)
    url = config.redis.url or running_url(identity.data_dir)
    if url:
        room = asyncio.run(_create(url, config, identity, args.name))
    else:  # nothing serving: open the embedded Redis just long enough to write the room
        with EmbeddedRedis(identity.data_dir, config.redis.server_binary) as embedded:
            room = asyncio.run(_create(embedded.url, config, identity, args.name))
    print_room(room, args.json)
    return 0


async def _create(url: str, config: Config, identity: NodeIdentity,
                  name: str | None) -> CreatedRoom:
    client = aioredis.Redis.from_url(url, decode_responses=True)
    try:
        return await create_room(Store(client, identity.node_id), ShareStore(client), config,
                                 identity.secret, name)
    finally:
        await client.aclose()


def print_room(room: CreatedRoom, as_json: bool) -> None:
    if as_json:
        print(json.dumps(room.to_json(), indent=1), flush=True)
        return
    # The web client takes a token from the link fragment (never sent to the server in
    # the URL) and makes that browser the host.
    print(f"Room:       {room.name} ({room.room_id})\n"
          f"Join link:  {room.join_url}\n"
          f"Host token: {room.host_token}\n"
          f"Host link:  {room.join_url}#token={room.host_token}\n"
          f"Field link: {room.field_url}", flush=True)


if __name__ == "__main__":
    sys.exit(main())
