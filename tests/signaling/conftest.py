"""Fixtures for signalling tests: in-process nodes on the session's real redis-server."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))  # local_node, signal_client, rtc_peer

from local_fixtures import local, start_local  # noqa: E402,F401  (shared fixtures)
