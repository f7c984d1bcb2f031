"""Fixtures for whiteboard tests: in-process nodes (tests/signaling/local_node.py) on the
session's real redis-server."""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator, Mapping
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))  # wb_helpers
sys.path.insert(0, str(Path(__file__).parent.parent / "signaling"))  # local_node, rtc_peer

from local_node import LocalServer, StartLocal, start_node, stop_node  # noqa: E402


@pytest.fixture
async def start_local(redis_url: str, tmp_path: Path) -> AsyncIterator[StartLocal]:
    """Factory of nodes on one Redis; `await start_local(env)` -> LocalServer."""
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
