"""The [whiteboard] section of config.toml (loaded by signaling/config.py)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class WhiteboardConfig:
    pass
