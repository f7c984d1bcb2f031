"""Fixtures for dispatch tests: in-process nodes (tests/signaling/local_node.py) on the
session's real redis-server, with the test clock on."""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
sys.path.insert(0, str(Path(__file__).parents[1] / "signaling"))

from dispatch_helpers import API_KEY, TEST_ENV, Desk  # noqa: E402
from local_node import LocalServer, start_node, stop_node  # noqa: E402


@pytest.fixture
async def node(redis_url: str, tmp_path: Path) -> AsyncIterator[LocalServer]:
    server = await start_node(redis_url, tmp_path / "data", TEST_ENV)
    yield server
    await stop_node(server)


@pytest.fixture
async def desk(node: LocalServer) -> Desk:
    return Desk(node, API_KEY)
