"""The composite "meeting view" of a recording: one MP4 (H.264 + AAC) built from the
per-track files the recorder wrote, with the video tiles in a grid, names drawn, the active
speaker (or a screen share) enlarged and all audio mixed.

CPU work runs in a recorder worker's child process (job.py), never in the server process.
The server imports only api.py and job.py, which pull in no decoder, OpenCV or Pillow:
build_composite and CompositeResult are loaded on first use.
"""

from __future__ import annotations

from typing import Any

from recorder.composite.manifest import CompositeError

__all__ = ["CompositeError", "CompositeResult", "build_composite"]


def __getattr__(name: str) -> Any:
    if name in ("CompositeResult", "build_composite"):
        from recorder.composite import build

        return getattr(build, name)
    raise AttributeError(name)
