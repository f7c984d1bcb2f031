"""The in-process node fixtures every package's tests share (signaling, whiteboard,
transcribe): import `start_local` and `local` into a conftest to use them."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from pathlib import Path

import pytest
from local_node import LocalServer, StartLocal, start_node, stop_node


@pytest.fixture
async def start_local(redis_url: str, tmp_path: Path) -> AsyncIterator[StartLocal]:
    """Factory of nodes on the session's Redis:
    `await start_local({"COMMANDPOST_LIMITS_...": "2"})` -> LocalServer. A test that stops a
    node itself marks it `stopped = True`."""
    servers: list[LocalServer] = []

    async def start(env: Mapping[str, str] | None = None) -> LocalServer:
        server = await start_node(redis_url, tmp_path / f"data-{len(servers)}", env)
        servers.append(server)
        return server

    yield start
    for server in servers:
        if not getattr(server, "stopped", False):
            await stop_node(server)


@pytest.fixture
async def local(start_local: StartLocal) -> LocalServer:
    return await start_local()
