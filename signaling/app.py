"""The aiohttp application: routes, typed state, Redis and the node's background work."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator

import redis.asyncio as aioredis
from aiohttp import web

from signaling import api, feeds_api, field_api, pages, wall, whip
from signaling.appkeys import CONFIG, EXTENSIONS, IDENTITY, NODE, REDIS_URL
from signaling.config import Config
from signaling.datadir import NodeIdentity
from signaling.extensions import Extensions
from signaling.http_util import edge_middleware
from signaling.media import sfu_settings
from signaling.node import Node
from signaling.services import Services
from signaling.session import Session
from signaling.shares import ShareStore
from signaling.store import Store

log = logging.getLogger(__name__)
# aiohttp refuses frames above this outright (closing with 1009); between the configured
# limit and this cap we answer `too_large` and keep the session.
HARD_CAP_FACTOR = 4
MAX_HEARTBEAT_S = 5.0


def create_app(config: Config, identity: NodeIdentity, redis_url: str) -> web.Application:
    app = web.Application(middlewares=[edge_middleware], client_max_size=1024 * 1024)
    extensions = Extensions.load()
    app[EXTENSIONS] = extensions
    app[CONFIG] = config
    app[IDENTITY] = identity
    app[REDIS_URL] = redis_url
    app.cleanup_ctx.append(_node_ctx)
    app.on_shutdown.append(_close_clients)
    api.add_routes(app)
    field_api.add_routes(app)
    feeds_api.add_routes(app)
    whip.add_routes(app)
    wall.add_routes(app)
    app.router.add_get("/ws", websocket)
    extensions.add_routes(app)
    pages.add_routes(app)
    return app


async def _node_ctx(app: web.Application) -> AsyncIterator[None]:
    config = app[CONFIG]
    client = aioredis.Redis.from_url(app[REDIS_URL], decode_responses=True,
                                     health_check_interval=10, socket_connect_timeout=5)
    services = Services(config=config, identity=app[IDENTITY],
                        store=Store(client, app[IDENTITY].node_id),
                        shares=ShareStore(client), sfu_settings=sfu_settings(config),
                        extensions=app[EXTENSIONS])
    node = Node(services)
    app[NODE] = node
    await node.start()
    log.info("node %s serving %s", node.node_id, config.server.base_url)
    try:
        yield
    finally:
        await node.stop()
        await client.aclose()


async def _close_clients(app: web.Application) -> None:
    for client in list(app[NODE].clients):
        client.close(1001, "server shutting down")


async def websocket(request: web.Request) -> web.WebSocketResponse:
    limits = request.app[CONFIG].limits
    ws = web.WebSocketResponse(
        heartbeat=min(MAX_HEARTBEAT_S, limits.presence_timeout_s / 3), autoping=False,
        max_msg_size=limits.ws_max_message_bytes * HARD_CAP_FACTOR)
    await ws.prepare(request)
    node = request.app[NODE]
    session = Session(ws, node)
    node.clients.add(session)
    try:
        await session.run()
    finally:
        node.clients.discard(session)
    return ws
