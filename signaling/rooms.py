"""Creating rooms: one code path for `POST /api/rooms` and `commandpost room create`."""

from __future__ import annotations

import re
import secrets
from dataclasses import asdict, dataclass

from signaling.config import Config
from signaling.errors import SignalingError
from signaling.shares import ShareStore
from signaling.store import Store
from signaling.tokens import mint_token

ROOM_ID_RE = re.compile(r"[A-Za-z0-9_-]{1,64}")
MAX_NAME_CHARS = 200
DEFAULT_ROOM_NAME = "Meeting"
HOST_GRANTS = ("join", "publish", "subscribe", "publish_data", "admin", "record")


@dataclass(frozen=True)
class CreatedRoom:
    room_id: str
    name: str
    join_url: str
    field_url: str  # the same share code on the field page for phones (/f/<code>)
    share_code: str
    share_expires_at: float
    host_token: str
    host_identity: str

    def to_json(self) -> dict[str, object]:
        return asdict(self)


def new_room_id() -> str:
    return "r_" + secrets.token_hex(8)


def clean_name(name: object, default: str, what: str = "name") -> str:
    """A display name: a string, stripped, not too long; `default` when empty."""
    if name is None:
        return default
    if not isinstance(name, str):
        raise SignalingError("bad_request", f"{what} must be a string")
    name = " ".join(name.split())
    if len(name) > MAX_NAME_CHARS:
        raise SignalingError("bad_request", f"{what} is longer than {MAX_NAME_CHARS} characters")
    return name or default


def check_room_id(room_id: str) -> str:
    if not ROOM_ID_RE.fullmatch(room_id):
        raise SignalingError("room_not_found", "malformed room id")
    return room_id


async def create_room(store: Store, shares: ShareStore, config: Config, secret: str,
                      name: object = None) -> CreatedRoom:
    """Store a new room, a guest share code for it and a host token."""
    room_name = clean_name(name, DEFAULT_ROOM_NAME)
    room = await store.create_room(new_room_id(), room_name)
    share = await shares.create(room.room_id, config.tokens.guest_grants,
                                config.tokens.share_ttl_s)
    identity = "host_" + secrets.token_hex(4)
    token = mint_token(secret, room.room_id, identity, HOST_GRANTS, config.tokens.host_ttl_s,
                       name="Host")
    return CreatedRoom(room_id=room.room_id, name=room_name,
                       join_url=f"{config.server.base_url}/j/{share.code}",
                       field_url=f"{config.server.base_url}/f/{share.code}",
                       share_code=share.code, share_expires_at=share.expires_at,
                       host_token=token, host_identity=identity)
