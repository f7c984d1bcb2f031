"""Reading a recording directory's manifest.json into the tracks a composite is made of.

Only the fields the composite needs are read, and each is checked: a manifest is written by
another process (maybe another machine), so a bad one must give a clear error, not a crash
deep inside a decoder. File names must be plain names inside the recording directory.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

MANIFEST_NAME = "manifest.json"
# A file name as the recorder writes it: no directory part, no leading dot.
_SAFE_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,199}")
KINDS = ("audio", "video")
SOURCES = ("camera", "microphone", "screen", "feed")


class CompositeError(Exception):
    """The recording cannot be composed; the message says why (shown to the host)."""


@dataclass(frozen=True)
class TrackFile:
    """One per-track file of the recording, placed on the shared recording clock (ms)."""

    path: Path
    name: str
    participant_id: str
    participant_name: str
    kind: str  # "audio" | "video"
    source: str  # "camera" | "microphone" | "screen" | "feed"
    start_ms: int
    end_ms: int

    @property
    def tile_key(self) -> tuple[str, str]:
        """Which tile the file feeds: a participant's camera/feed tile or their screen tile."""
        return (self.participant_id, "screen" if self.source == "screen" else "person")


@dataclass(frozen=True)
class RecordingTracks:
    recording_id: str
    files: tuple[TrackFile, ...]

    @property
    def start_ms(self) -> int:
        return min(f.start_ms for f in self.files)

    @property
    def end_ms(self) -> int:
        return max(f.end_ms for f in self.files)


def load_tracks(recording_dir: Path, skip: frozenset[str] = frozenset()) -> RecordingTracks:
    """The audio and video tracks listed in `recording_dir`/manifest.json (names in `skip`,
    such as an earlier composite, left out). Raises CompositeError when the manifest is
    missing or malformed, names a file outside the directory, or lists no usable track."""
    path = recording_dir / MANIFEST_NAME
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise CompositeError(f"no {MANIFEST_NAME} in {recording_dir}") from None
    except (OSError, ValueError) as exc:
        raise CompositeError(f"cannot read {path}: {exc}") from None
    if not isinstance(data, dict) or not isinstance(data.get("files"), list):
        raise CompositeError(f"{path}: expected an object with a 'files' list")
    files = []
    for index, entry in enumerate(data["files"]):
        track = _track(recording_dir, entry, f"{path}: files[{index}]")
        if track is not None and track.name not in skip:
            files.append(track)
    if not files:
        raise CompositeError(f"{path}: no audio or video track to compose")
    return RecordingTracks(str(data.get("recording_id", recording_dir.name)), tuple(files))


def _track(recording_dir: Path, entry: Any, where: str) -> TrackFile | None:
    if not isinstance(entry, dict):
        raise CompositeError(f"{where}: expected an object")
    if entry.get("kind") not in KINDS:
        return None  # a composite or another derived file: not an input
    if entry.get("start_ms") is None or entry.get("end_ms") is None or entry.get("error"):
        return None  # a file with no packet yet, or one the recorder could not read back
    name = _text(entry, "name", where)
    if not _SAFE_NAME.fullmatch(name):
        raise CompositeError(f"{where}: file name {name!r} is not a plain file name")
    start, end = _ms(entry, "start_ms", where), _ms(entry, "end_ms", where)
    if end < start:
        raise CompositeError(f"{where}: end_ms {end} is before start_ms {start}")
    source = entry.get("source")
    if source not in SOURCES:
        raise CompositeError(f"{where}: source must be one of {', '.join(SOURCES)}")
    file_path = recording_dir / name
    if not file_path.is_file():
        raise CompositeError(f"{where}: file {name} is missing")
    participant = _text(entry, "participant_id", where)
    return TrackFile(path=file_path, name=name, participant_id=participant,
                     participant_name=str(entry.get("participant_name") or participant),
                     kind=entry["kind"], source=source, start_ms=start, end_ms=end)


def _text(entry: dict[str, Any], key: str, where: str) -> str:
    value = entry.get(key)
    if not isinstance(value, str) or not value:
        raise CompositeError(f"{where}: {key} must be a non-empty string")
    return value


def _ms(entry: dict[str, Any], key: str, where: str) -> int:
    value = entry.get(key)
    if not isinstance(value, (int, float)) or isinstance(value, bool) or value < 0:
        raise CompositeError(f"{where}: {key} must be a number of milliseconds >= 0")
    return int(value)
