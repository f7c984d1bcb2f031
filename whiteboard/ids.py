"""Board ids: named boards (`main`, `map`) and video layers (`track:<track_id>`).

A board id goes into Redis keys, so it is checked against these patterns first."""

from __future__ import annotations

import re
from dataclasses import dataclass

from signaling.errors import SignalingError

NAMED_RE = re.compile(r"[a-z0-9_-]{1,32}")
TRACK_RE = re.compile(r"[A-Za-z0-9_-]{1,64}")
ELEMENT_ID_RE = re.compile(r"[A-Za-z0-9_-]{8,64}")
SNAPSHOT_ID_RE = re.compile(r"s_[0-9a-f]{16}")
TRACK_PREFIX = "track:"


@dataclass(frozen=True)
class BoardRef:
    board_id: str
    kind: str  # "board" (scene coordinates) or "video" (normalised to the video frame)
    track_id: str | None = None

    @property
    def normalised(self) -> bool:
        return self.kind == "video"

    def json(self) -> dict[str, str | None]:
        return {"board_id": self.board_id, "kind": self.kind, "track_id": self.track_id}


def parse_board_id(value: object) -> BoardRef:
    """The board a client names; `bad_message` for anything else."""
    if not isinstance(value, str):
        raise SignalingError("bad_message", "board_id must be a string")
    if value.startswith(TRACK_PREFIX):
        track_id = value[len(TRACK_PREFIX):]
        if TRACK_RE.fullmatch(track_id):
            return BoardRef(value, "video", track_id)
    elif NAMED_RE.fullmatch(value):
        return BoardRef(value, "board")
    raise SignalingError("bad_message", f"bad board_id {value[:80]!r}: use a name of "
                         "[a-z0-9_-]{1,32} or track:<track_id>")
