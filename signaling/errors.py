"""Every error the signalling server reports, with its stable code and HTTP status.

One exception type travels from the token checks, the Redis store and the room logic to the
edges (REST, WHIP/WHEP and the WebSocket), which turn it into `{error, message}` or an
`error` message. Codes are part of the protocol (docs/protocol.md, docs/API.md).
"""

from __future__ import annotations

from typing import Any

# code -> HTTP status used when the error reaches a REST/WHIP/WHEP client.
HTTP_STATUS: dict[str, int] = {
    "bad_json": 400,
    "bad_message": 400,
    "bad_request": 400,
    "bad_sdp": 400,
    "too_large": 413,
    "unsupported_media_type": 415,
    "rate_limited": 429,
    "not_joined": 409,
    "already_joined": 409,
    "join_timeout": 408,
    "auth_failed": 401,
    "token_expired": 401,
    "wrong_room": 403,
    "forbidden": 403,
    "room_not_found": 404,
    "track_not_found": 404,
    "session_not_found": 404,
    "unknown_share": 404,
    "unknown_participant": 404,
    "unknown_track": 404,
    "room_locked": 423,
    "room_full": 409,
    "limit_reached": 409,
    "conflict": 409,  # dispatch: expected version/status differs, idempotency id reused
    "invalid_transition": 409,  # dispatch: a status change the flow does not allow
    "too_many_feeds": 409,
    "feed_not_found": 404,
    "no_rtmp_port": 503,
    "wrong_node": 307,
    "not_found": 404,
    "method_not_allowed": 405,
    "internal": 500,
    "unavailable": 503,
}


class SignalingError(Exception):
    """A failure with a stable machine-readable `code` and a message for people."""

    def __init__(self, code: str, message: str, **extra: Any) -> None:
        if code not in HTTP_STATUS:
            raise ValueError(f"unknown error code {code!r}")
        super().__init__(message)
        self.code = code
        self.message = message
        self.extra = extra

    @property
    def http_status(self) -> int:
        return HTTP_STATUS[self.code]

    def to_json(self) -> dict[str, Any]:
        return {"error": self.code, "message": self.message, **self.extra}

    def __repr__(self) -> str:
        return f"SignalingError({self.code!r}, {self.message!r})"
