"""An in-process CommandPost node for tests: the real aiohttp app on a real loopback port,
configured through the same env overrides as production (`COMMANDPOST_<SECTION>_<KEY>`)."""

from __future__ import annotations

import secrets
import socket
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web

from signal_client import WsClient

from signaling.app import create_app
from signaling.appkeys import NODE
from signaling.config import Config, load_config
from signaling.datadir import prepare_data_dir
from signaling.node import Node
from signaling.tokens import mint_token


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class LocalServer:
    base_url: str
    config: Config
    secret: str
    app: web.Application
    runner: web.AppRunner
    http: aiohttp.ClientSession
    clients: list[WsClient] = field(default_factory=list)

    @property
    def node(self) -> Node:
        return self.app[NODE]

    @property
    def redis(self) -> Any:
        return self.node.services.store.redis

    def token(self, room_id: str, identity: str, grants: list[str], ttl_s: int = 600,
              name: str = "") -> str:
        return mint_token(self.secret, room_id, identity, grants, ttl_s, name=name)

    async def request(self, method: str, path: str, **kwargs: Any) -> tuple[int, Any, Any]:
        """(status, JSON or text body, headers)."""
        async with self.http.request(method, self.base_url + path, **kwargs) as response:
            text = await response.text()
            body: Any = text
            if response.content_type == "application/json":
                body = await response.json()
            return response.status, body, response.headers

    async def create_room(self, name: str = "Test room") -> dict[str, Any]:
        status, body, _ = await self.request("POST", "/api/rooms", json={"name": name})
        assert status == 201, body
        return body

    async def client(self, autoping: bool = True) -> WsClient:
        client = await WsClient.connect(self.base_url, autoping=autoping)
        self.clients.append(client)
        return client

    async def joined_client(self, room: dict[str, Any], name: str = "Guest",
                            host: bool = False) -> tuple[WsClient, dict[str, Any]]:
        client = await self.client()
        if host:
            joined = await client.join(token=room["host_token"], name=name)
        else:
            joined = await client.join(code=room["share_code"], name=name)
        return client, joined


StartLocal = Callable[..., Awaitable[LocalServer]]




async def start_node(redis_url: str, data_dir: Path, env: Mapping[str, str] | None = None
                     ) -> LocalServer:
    port = free_port()
    config = load_config(None, env={
        "COMMANDPOST_SERVER_PORT": str(port),
        "COMMANDPOST_SERVER_DATA_DIR": str(data_dir),
        "COMMANDPOST_SERVER_SECRET": secrets.token_urlsafe(32),
        "COMMANDPOST_SFU_ICE_HOST_ADDRESSES": "127.0.0.1",
        "COMMANDPOST_REDIS_URL": redis_url,
        **(env or {})})
    identity = prepare_data_dir(config)
    app = create_app(config, identity, config.redis.url)
    runner = web.AppRunner(app, shutdown_timeout=5)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    return LocalServer(config.server.base_url, config, identity.secret, app, runner,
                       aiohttp.ClientSession())


async def stop_node(server: LocalServer) -> None:
    for client in server.clients:
        await client.close()
    await server.http.close()
    await server.runner.cleanup()
