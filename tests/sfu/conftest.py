"""Fixtures for SFU tests: a RoomMedia bound to 127.0.0.1, and the helper modules."""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))  # sfu_media, sfu_peers

from sfu import RoomMedia, SfuSettings  # noqa: E402

LOOPBACK_SETTINGS = SfuSettings(ice_host_addresses=("127.0.0.1",))


@pytest.fixture
async def room(request: pytest.FixtureRequest) -> AsyncIterator[RoomMedia]:
    """A room on loopback; a test module may set `ROOM_SETTINGS` (e.g. a pinned downlink
    estimate) instead of writing its own fixture."""
    media = RoomMedia("r_test", getattr(request.module, "ROOM_SETTINGS", LOOPBACK_SETTINGS))
    yield media
    await media.close()
