"""Fixtures for recorder tests: an in-process node on the session's real redis-server and
recorder workers as separate `commandpost worker recorder` processes."""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent / "signaling"))  # local_node, signal_client, rtc_peer

from local_node import LocalServer, start_node, stop_node  # noqa: E402
from rec_helpers import RecorderProcess, node_env  # noqa: E402


@pytest.fixture
def rec_dir(tmp_path: Path) -> Path:
    directory = tmp_path / "recordings"
    directory.mkdir()
    return directory


@pytest.fixture
async def rec_node(redis_url: str, tmp_path: Path, rec_dir: Path) -> AsyncIterator[LocalServer]:
    """A serving node whose recordings live in rec_dir."""
    server = await start_node(redis_url, tmp_path / "node", node_env(rec_dir))
    yield server
    await stop_node(server)


@pytest.fixture
def recorders(redis_url: str, tmp_path: Path) -> Iterator[list[RecorderProcess]]:
    """Started recorder processes (start them with RecorderProcess.start); all stopped at
    the end of the test."""
    started: list[RecorderProcess] = []
    yield started
    for proc in started:
        proc.kill()
