"""Fixtures of the transcriber tests: in-process nodes (tests/signaling), one vosk model
loaded once per session, espeak-ng speech cached per session."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
sys.path.insert(0, str(Path(__file__).parents[1] / "signaling"))

from local_fixtures import local, start_local  # noqa: E402,F401  (shared fixtures)

from transcribe.config import TranscribeConfig  # noqa: E402
from transcribe.models import ModelSet, model_paths  # noqa: E402


@pytest.fixture(scope="session")
def models() -> Iterator[ModelSet]:
    """The packaged Korean model, loaded on first use and shared by every test."""
    yield ModelSet(model_paths(TranscribeConfig()))


@pytest.fixture(scope="session")
def speech_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("speech")
