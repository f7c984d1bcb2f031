"""Fixtures for whiteboard tests: in-process nodes (tests/signaling/local_node.py) on the
session's real redis-server."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))  # wb_helpers
sys.path.insert(0, str(Path(__file__).parent.parent / "signaling"))  # local_node, rtc_peer

from local_fixtures import local, start_local  # noqa: E402,F401  (shared fixtures)
