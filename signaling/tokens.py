"""Join tokens: HS256 JWTs bound to one room, with required expiry and deny-by-default grants.

Claims: `sub` (identity), `room` (room id), `name` (display name), `grants` (list), `iat`,
`exp`. A grant that is not in the token is refused; a grant we do not know makes the whole
token invalid, so a token minted for a newer server never gains rights by accident.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass

import jwt

from signaling.errors import SignalingError

GRANTS = frozenset({"join", "publish", "subscribe", "publish_data", "admin", "record", "hidden"})
ALGORITHM = "HS256"
MAX_TOKEN_CHARS = 4096
_REQUIRED_CLAIMS = ["exp", "iat", "sub", "room", "grants"]


class TokenError(SignalingError):
    """A token (or share code) was refused: code auth_failed, token_expired or wrong_room."""


@dataclass(frozen=True)
class Claims:
    room_id: str
    identity: str
    name: str
    grants: frozenset[str]
    expires_at: int

    def allows(self, grant: str) -> bool:
        return grant in self.grants


def parse_grants(grants: Iterable[str]) -> frozenset[str]:
    """Validate grant names; raises ValueError naming an unknown one."""
    result = frozenset(grants)
    unknown = sorted(result - GRANTS)
    if unknown:
        raise ValueError(f"unknown grant {unknown[0]!r}; known: {', '.join(sorted(GRANTS))}")
    return result


def mint_token(secret: str, room_id: str, identity: str, grants: Iterable[str], ttl_s: int,
               name: str = "", now: float | None = None) -> str:
    """Sign a token for `identity` in `room_id` that expires `ttl_s` seconds from now."""
    if not secret:
        raise ValueError("empty signing secret")
    if ttl_s <= 0:
        raise ValueError(f"ttl_s must be positive, got {ttl_s}")
    if not room_id or not identity:
        raise ValueError("room_id and identity are required")
    issued = int(time.time() if now is None else now)
    claims = {"sub": identity, "room": room_id, "name": name or identity,
              "grants": sorted(parse_grants(grants)), "iat": issued, "exp": issued + int(ttl_s)}
    return jwt.encode(claims, secret, algorithm=ALGORITHM)


def rest_token(secret: str, room_id: str, participant_id: str, name: str, may_publish: bool,
               expires_at: float, max_ttl_s: int, now: float | None = None) -> str | None:
    """The `token` of `joined`: REST access (reports, locations) naming the participant, so a
    page that joined with a share code can authenticate too. Least privilege: at most
    publish_data, so it cannot join, publish media (WHIP) or play (WHEP), and a revoked share
    code stays revoked for its holder. It ends with the credentials it was joined with, and
    at most `max_ttl_s` from now; None when those have already expired."""
    issued = time.time() if now is None else now
    ttl = min(int(expires_at - issued), max_ttl_s)
    if ttl <= 0:
        return None
    grants = ["publish_data"] if may_publish else []
    return mint_token(secret, room_id, participant_id, grants, ttl, name=name, now=issued)


def verify_token(secret: str, token: object, room_id: str | None = None) -> Claims:
    """Check signature, expiry and shape; with `room_id`, also that the token is for that room."""
    if not isinstance(token, str) or not token or len(token) > MAX_TOKEN_CHARS:
        raise TokenError("auth_failed", "token is missing or not a plausible JWT")
    try:
        data = jwt.decode(token, secret, algorithms=[ALGORITHM],
                          options={"require": _REQUIRED_CLAIMS})
    except jwt.ExpiredSignatureError:
        raise TokenError("token_expired", "token has expired") from None
    except jwt.MissingRequiredClaimError as exc:
        raise TokenError("auth_failed", f"token lacks the {exc.claim!r} claim") from None
    except jwt.InvalidTokenError as exc:
        raise TokenError("auth_failed", f"token rejected: {exc}") from None
    claims = _claims_from(data)
    if room_id is not None and claims.room_id != room_id:
        raise TokenError("wrong_room", "token is for another room")
    return claims


def _claims_from(data: dict[str, object]) -> Claims:
    room, identity, name = data.get("room"), data.get("sub"), data.get("name", "")
    grants, exp = data.get("grants"), data.get("exp")
    if not isinstance(room, str) or not room or not isinstance(identity, str) or not identity:
        raise TokenError("auth_failed", "token has an empty or non-string room or subject")
    if not isinstance(name, str):
        raise TokenError("auth_failed", "token name must be a string")
    if not isinstance(grants, list) or not all(isinstance(g, str) for g in grants):
        raise TokenError("auth_failed", "token grants must be a list of strings")
    try:
        granted = parse_grants(grants)
    except ValueError as exc:
        raise TokenError("auth_failed", f"token rejected: {exc}") from None
    if not isinstance(exp, (int, float)) or isinstance(exp, bool):
        raise TokenError("auth_failed", "token exp must be a number")
    return Claims(room_id=room, identity=identity, name=name or identity, grants=granted,
                  expires_at=int(exp))
