"""Dispatch ids: made by the server, checked by regex before they go into a Redis key."""

from __future__ import annotations

import re
import secrets

from signaling.errors import SignalingError

PREFIXES = {"unit": "u", "member": "m", "incident": "i", "task": "t", "supervision": "s",
            "alert": "a"}
ENTITY_ID_RE = re.compile(r"(u|m|i|t|s|a)_[0-9a-f]{12}")
PHOTO_ID_RE = re.compile(r"ph_[0-9a-f]{32}")
CLIENT_ID_RE = re.compile(r"[A-Za-z0-9_-]{8,64}")
# Ids of things other packages own (rooms, feeds, snapshots, reports, minutes items).
FOREIGN_ID_RE = re.compile(r"[A-Za-z0-9_-]{1,64}")
KIND_OF = {prefix: kind for kind, prefix in PREFIXES.items()}


def new_id(kind: str) -> str:
    return f"{PREFIXES[kind]}_{secrets.token_hex(6)}"


def new_photo_id() -> str:
    return "ph_" + secrets.token_hex(16)


def check_id(kind: str, value: object) -> str:
    """`value` if it is a well-formed id of `kind`, else 404 not_found (what: kind)."""
    if isinstance(value, str) and ENTITY_ID_RE.fullmatch(value) \
            and value.startswith(PREFIXES[kind] + "_"):
        return value
    raise SignalingError("not_found", f"no {kind} {str(value)[:80]!r}", what=kind)


def kind_of(entity_id: str) -> str:
    """The entity kind of a well-formed id, else 404."""
    if not ENTITY_ID_RE.fullmatch(entity_id):
        raise SignalingError("not_found", f"no entity {entity_id[:80]!r}")
    return KIND_OF[entity_id.split("_", 1)[0]]


def check_foreign(value: object, what: str) -> str:
    if isinstance(value, str) and FOREIGN_ID_RE.fullmatch(value):
        return value
    raise SignalingError("bad_request", f"{what} must match [A-Za-z0-9_-]{{1,64}}")
