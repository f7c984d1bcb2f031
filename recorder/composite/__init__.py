"""The composite "meeting view" of a recording: one MP4 (H.264 + AAC) built from the
per-track files the recorder wrote, with the video tiles in a grid, names drawn, the active
speaker (or a screen share) enlarged and all audio mixed.

CPU work runs in a recorder worker's child process (job.py), never in the server process.
"""

from recorder.composite.build import CompositeResult, build_composite
from recorder.composite.manifest import CompositeError

__all__ = ["CompositeError", "CompositeResult", "build_composite"]
