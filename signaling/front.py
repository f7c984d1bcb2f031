"""The front process of `commandpost serve` with several workers: it owns the public port,
runs the workers (signaling/workers.py) and routes each request to the worker serving its
room: REST, WHIP and WHEP by the room id in the path, WebSockets by the room of their `join`
(signaling/room_router.py, signaling/ws_bridge.py). Media never passes through here: ICE
candidates name the worker's own UDP sockets. Static files are served by the front itself.
"""

from __future__ import annotations

import asyncio
import logging
import os
import resource
import signal
from pathlib import Path
from typing import Any

import aiohttp
import redis.asyncio as aioredis
from aiohttp import web
from yarl import URL

from signaling import pages
from signaling.config import Config
from signaling.datadir import NodeIdentity
from signaling.errors import SignalingError
from signaling.http_util import CORS_HEADERS, CORS_PREFIXES, Handler, error_response, \
    json_response
from signaling.room_router import RoomRouter, room_of_path
from signaling.shares import ShareStore
from signaling.store import Store
from signaling.workers import WorkerPool, worker_argv
from signaling.ws_bridge import WsBridge

log = logging.getLogger(__name__)
HEALTH_TIMEOUT_S = 2.0
HARD_CAP_FACTOR = 4  # as signaling/app.py: frames above it are refused (1009) right here
_HOP_BY_HOP = frozenset({"connection", "keep-alive", "proxy-authenticate",
                         "proxy-authorization", "te", "trailer", "transfer-encoding",
                         "upgrade"})
_READS = ("GET", "HEAD", "OPTIONS")
POOL = web.AppKey("pool", WorkerPool)
ROUTER = web.AppKey("router", RoomRouter)
HTTP = web.AppKey("http", aiohttp.ClientSession)
FRONT_CONFIG = web.AppKey("front_config", Config)
FRONT_IDENTITY = web.AppKey("front_identity", NodeIdentity)
BRIDGES = web.AppKey("bridges", set)


@web.middleware
async def front_errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Errors of the front itself (no worker...) in the workers' format."""
    try:
        return await handler(request)
    except SignalingError as exc:
        response = error_response(request, exc)
    except web.HTTPException as exc:  # a missing static file: the workers' JSON 404
        if exc.status < 400:
            raise
        code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status, "bad_request")
        response = error_response(request, SignalingError(code, exc.reason))
        response.set_status(exc.status)
    except Exception:
        log.exception("%s %s failed on the front", request.method, request.path)
        response = error_response(request, SignalingError("internal", "internal server error"))
    if request.path.startswith(CORS_PREFIXES):
        response.headers.update({k: v for k, v in CORS_HEADERS.items()
                                 if k.startswith(("Access-Control-Allow-Origin",
                                                  "Access-Control-Expose"))})
    return response


def create_front_app(config: Config, identity: NodeIdentity, pool: WorkerPool,
                     router: RoomRouter) -> web.Application:
    app = web.Application(middlewares=[front_errors])
    app[FRONT_CONFIG] = config
    app[FRONT_IDENTITY] = identity
    app[POOL] = pool
    app[ROUTER] = router
    app[BRIDGES] = set()
    app.cleanup_ctx.append(_http_ctx)
    app.on_shutdown.append(_close_bridges)
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/ws", websocket)
    app.router.add_static("/static/", Path(pages.STATIC_DIR), append_version=False)
    app.router.add_route("*", "/{tail:.*}", proxy)
    return app


async def _http_ctx(app: web.Application) -> Any:
    connector = aiohttp.TCPConnector(limit=0, force_close=False)
    app[HTTP] = aiohttp.ClientSession(
        connector=connector, auto_decompress=False,
        timeout=aiohttp.ClientTimeout(total=None, sock_connect=5, sock_read=120))
    yield
    await app[HTTP].close()


async def _close_bridges(app: web.Application) -> None:
    for ws in list(app[BRIDGES]):
        await ws.close(code=1001, message=b"server shutting down")


async def healthz(request: web.Request) -> web.Response:
    pool = request.app[POOL]
    try:
        await asyncio.wait_for(request.app[ROUTER].store.redis.ping(), HEALTH_TIMEOUT_S)
        redis_state = "ok"
    except Exception as exc:
        redis_state = f"error: {exc or type(exc).__name__}"
    ok = redis_state == "ok" and bool(pool.ready())
    workers = [w.report() for w in pool.workers]
    return json_response({
        "status": "ok" if ok else "degraded", "role": "front",
        "node_id": request.app[FRONT_IDENTITY].node_id, "pid": os.getpid(),
        "redis": redis_state, "event_loop": type(asyncio.get_running_loop()).__module__
        .split(".")[0], "rooms": sum(w["rooms"] for w in workers),
        "workers": workers}, status=200 if ok else 503)


def _forward_headers(request: web.Request) -> dict[str, str]:
    headers = {k: v for k, v in request.headers.items() if k.lower() not in _HOP_BY_HOP}
    forwarded = request.headers.get("X-Forwarded-For")
    remote = request.remote or ""
    headers["X-Forwarded-For"] = f"{forwarded}, {remote}" if forwarded else remote
    return headers


async def proxy(request: web.Request) -> web.StreamResponse:
    """Stream the request to its worker and the answer back, untouched (307s included)."""
    worker = await request.app[ROUTER].for_room(room_of_path(request.path),
                                                assign=request.method not in _READS)
    data = request.content if request.body_exists else None
    url = URL(worker.url + request.raw_path, encoded=True)
    try:
        async with request.app[HTTP].request(
                request.method, url, headers=_forward_headers(request), data=data,
                allow_redirects=False) as upstream:
            response = web.StreamResponse(status=upstream.status, reason=upstream.reason)
            for key, value in upstream.headers.items():
                if key.lower() not in _HOP_BY_HOP:
                    response.headers.add(key, value)
            await response.prepare(request)
            async for chunk in upstream.content.iter_any():
                await response.write(chunk)
            await response.write_eof()
            return response
    except (aiohttp.ClientError, asyncio.TimeoutError) as exc:
        log.warning("worker %d did not answer %s %s: %s", worker.index, request.method,
                    request.path, exc)
        raise SignalingError("unavailable", "the room's SFU worker did not answer; try "
                             "again shortly") from None


async def websocket(request: web.Request) -> web.StreamResponse:
    if request.headers.get("Upgrade", "").lower() != "websocket":
        return await proxy(request)  # the worker says what is wrong with it
    config = request.app[FRONT_CONFIG]
    ws = web.WebSocketResponse(autoping=False, max_msg_size=config.limits.ws_max_message_bytes
                               * HARD_CAP_FACTOR)
    await ws.prepare(request)
    headers = {"X-Forwarded-For": request.remote or ""}
    bridge = WsBridge(ws, request.app[ROUTER], request.app[HTTP],
                      config.limits.join_timeout_s, headers)
    request.app[BRIDGES].add(ws)
    try:
        await bridge.run()
    finally:
        request.app[BRIDGES].discard(ws)
    return ws


async def serve_front(config: Config, identity: NodeIdentity, redis_url: str,
                      config_path: str | None, demo_room: bool) -> None:
    """Run the workers and the front until SIGINT/SIGTERM; then stop taking requests, close
    the client sockets and stop the workers (each shuts its rooms down cleanly)."""
    from signaling.cli import print_room
    from signaling.rooms import create_room

    _raise_fd_limit()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    client = aioredis.Redis.from_url(redis_url, decode_responses=True,
                                     health_check_interval=10, socket_connect_timeout=5)
    store, shares = Store(client, identity.node_id), ShareStore(client)
    env = {k: v for k, v in os.environ.items()}
    env.update({"COMMANDPOST_REDIS_URL": redis_url,
                "COMMANDPOST_SERVER_SECRET": identity.secret,
                "COMMANDPOST_SERVER_PUBLIC_URL": config.server.base_url,
                "COMMANDPOST_SERVER_DATA_DIR": str(identity.data_dir)})
    pool = WorkerPool(config.server.worker_count, identity.node_id,
                      worker_argv(config_path, os.getpid()), env, store)
    router = RoomRouter(pool, store, shares, identity.secret,
                        config.limits.ws_max_message_bytes)
    runner = web.AppRunner(create_front_app(config, identity, pool, router),
                           shutdown_timeout=10,
                           access_log=log if config.log.level == "debug" else None)
    started = False
    try:
        await pool.start()
        await runner.setup()
        started = True
        await web.TCPSite(runner, config.server.host, config.server.port).start()
        print(f"CommandPost node {identity.node_id} serving {config.server.base_url} "
              f"with {len(pool.workers)} SFU workers", flush=True)
        if demo_room and not stop.is_set():
            print_room(await create_room(store, shares, config, identity.secret,
                                         "Demo room"), as_json=False)
        await stop.wait()
        log.info("shutting down")
    finally:
        if started:
            await runner.cleanup()
        await pool.stop()
        await client.aclose()


def _raise_fd_limit() -> None:
    """Each client costs the front two sockets (client and worker side): lift the soft
    descriptor limit (often 1024) to the hard one."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != hard:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
        except (ValueError, OSError) as exc:
            log.warning("could not raise the open file limit from %d: %s", soft, exc)

