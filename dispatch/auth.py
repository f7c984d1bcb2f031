"""Who is calling: the api key or an operator token (operator), or a member token (member).

Dispatch tokens are ordinary signalling JWTs bound to the pseudo room `~dispatch`: no room id
can hold `~`, so room tokens and dispatch tokens never stand in for each other."""

from __future__ import annotations

import hmac
from dataclasses import dataclass

from dispatch.ids import ENTITY_ID_RE
from signaling.errors import SignalingError
from signaling.tokens import mint_token, verify_token

DISPATCH_ROOM = "~dispatch"


@dataclass(frozen=True)
class Actor:
    role: str  # "operator" or "member"
    actor: str  # audit name: "api", "op:<name>" or the member id
    member_id: str | None = None

    @property
    def operator(self) -> bool:
        return self.role == "operator"

    def require_operator(self, what: str) -> None:
        if not self.operator:
            raise SignalingError("forbidden", f"{what} is for operators only")


def operator_token(secret: str, name: str, ttl_s: int, now: float) -> str:
    return mint_token(secret, DISPATCH_ROOM, "op:" + name, ["admin"], ttl_s, name=name, now=now)


def member_token(secret: str, member_id: str, name: str, ttl_s: int, now: float) -> str:
    return mint_token(secret, DISPATCH_ROOM, member_id, [], ttl_s, name=name, now=now)


def credential_actor(secret: str, api_key: str, credential: str) -> Actor:
    """The actor of a credential, before checking that a member still exists."""
    if api_key and hmac.compare_digest(credential.encode(), api_key.encode()):
        return Actor("operator", "api")
    claims = verify_token(secret, credential, DISPATCH_ROOM)
    if claims.allows("admin"):
        return Actor("operator", claims.identity)
    if not ENTITY_ID_RE.fullmatch(claims.identity) or not claims.identity.startswith("m_"):
        raise SignalingError("auth_failed", "not a dispatch member token")
    return Actor("member", claims.identity, claims.identity)
