"""Redis key names of the transcriber (layout: docs/ARCHITECTURE.md "Transcriber").

Room ids reaching these functions were checked by `signaling.rooms.check_room_id`; search
tokens are hashed, so no unchecked user text ever becomes part of a key."""

from __future__ import annotations

import hashlib

from signaling.store import PREFIX

JOBS = PREFIX + "tr:jobs"
GROUP = "transcribers"
MEETINGS = PREFIX + "tr:meetings"
CAPTIONS_PATTERN = PREFIX + "tr:captions:*"


def job(room_id: str) -> str:
    return f"{PREFIX}tr:{room_id}:job"


def settings(room_id: str) -> str:
    return f"{PREFIX}tr:{room_id}:settings"


def meta(room_id: str) -> str:
    return f"{PREFIX}tr:{room_id}:meta"


def segments(room_id: str) -> str:
    return f"{PREFIX}tr:{room_id}:segments"


def order(room_id: str) -> str:
    return f"{PREFIX}tr:{room_id}:order"


def attendance(room_id: str) -> str:
    return f"{PREFIX}tr:{room_id}:attendance"


def attending(room_id: str) -> str:
    """Hash participant id -> join ms of those present (so a resume is not a second join)."""
    return f"{PREFIX}tr:{room_id}:attending"


def captions(room_id: str) -> str:
    return f"{PREFIX}tr:captions:{room_id}"


def room_of_captions(channel: str) -> str:
    return channel[len(PREFIX + "tr:captions:"):]


def index(token: str) -> str:
    digest = hashlib.sha1(token.lower().encode("utf-8")).hexdigest()[:24]
    return f"{PREFIX}tr:idx:{digest}"
