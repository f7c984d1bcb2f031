"""Fixtures of the transcriber tests: in-process nodes (tests/signaling), one vosk model
loaded once per session, espeak-ng speech cached per session."""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator, Iterator, Mapping
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
sys.path.insert(0, str(Path(__file__).parents[1] / "signaling"))

from local_node import LocalServer, StartLocal, start_node, stop_node  # noqa: E402

from transcribe.config import TranscribeConfig  # noqa: E402
from transcribe.models import ModelSet, model_paths  # noqa: E402


@pytest.fixture(scope="session")
def models() -> Iterator[ModelSet]:
    """The packaged Korean model, loaded on first use and shared by every test."""
    yield ModelSet(model_paths(TranscribeConfig()))


@pytest.fixture(scope="session")
def speech_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("speech")


@pytest.fixture
async def start_local(redis_url: str, tmp_path: Path) -> AsyncIterator[StartLocal]:
    servers: list[LocalServer] = []

    async def start(env: Mapping[str, str] | None = None) -> LocalServer:
        # minutes_wait_s stays at its default: a node stopping with transcription jobs still
        # queued must not wait for them (Node.stop cancels the end-of-meeting waits).
        server = await start_node(redis_url, tmp_path / f"data-{len(servers)}", env)
        servers.append(server)
        return server

    yield start
    for server in servers:
        await stop_node(server)


@pytest.fixture
async def local(start_local: StartLocal) -> LocalServer:
    return await start_local()
