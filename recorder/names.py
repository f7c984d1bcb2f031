"""File names of a recording, as they come from requests or manifests: checked before
any of them reaches the file system."""

from __future__ import annotations

import re
from pathlib import Path

from signaling.errors import SignalingError

# What the recorder writes (recorder/recording.py file_name) and manifest.json.
NAME_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,126}\.(webm|mkv|json|mp4)")


def check_file_name(name: str) -> str:
    """`name` if it is a plain file name of ours, else a `bad_request` (400) saying why:
    no path separators, no dot segments (also once percent-decoded), no NUL, nothing
    absolute."""
    if not isinstance(name, str) or not name:
        raise SignalingError("bad_request", "file name is empty")
    if "\x00" in name:
        raise SignalingError("bad_request", "file name contains a NUL byte")
    if "/" in name or "\\" in name or name.startswith("~"):
        raise SignalingError("bad_request", "file name must not contain a path")
    if "%" in name or ".." in name:
        raise SignalingError("bad_request", "file name must not contain '..' or '%'")
    if not NAME_RE.fullmatch(name):
        raise SignalingError("bad_request", "file name is not one of a recording's files")
    return name


def inside(directory: Path, name: str) -> Path:
    """directory/name, after checking the name and that the result stays inside."""
    path = (directory / check_file_name(name)).resolve()
    if path.parent != directory.resolve():
        raise SignalingError("bad_request", "file name leaves the recording's directory")
    return path
