"""TURN REST credentials (the scheme coturn implements with `use-auth-secret`).

The TURN server and we share one secret and nothing else: the username is
"<expiry unix time>:<identity>" and the password is base64(HMAC-SHA1(secret, username)), so
coturn checks a credential by recomputing it and refuses it after the expiry, without ever
asking us. A leaked credential is therefore only good until its expiry.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from typing import Any

from signaling.config import TurnConfig


class TurnCredentialError(ValueError):
    """A credential cannot be made from these inputs; the message says why."""


def turn_credential(secret: str, identity: str, ttl_s: int,
                    now: float | None = None) -> tuple[str, str]:
    """(username, password) for `identity`, valid for `ttl_s` seconds from `now`."""
    if not secret:
        raise TurnCredentialError("empty TURN secret")
    if not identity or ":" in identity:
        # The first ":" separates the expiry; coturn would read a later one as part of it.
        raise TurnCredentialError(f"TURN identity must be non-empty without ':', got {identity!r}")
    if ttl_s <= 0:
        raise TurnCredentialError(f"ttl_s must be positive, got {ttl_s}")
    expiry = int(time.time() if now is None else now) + int(ttl_s)
    username = f"{expiry}:{identity}"
    digest = hmac.new(secret.encode(), username.encode(), hashlib.sha1).digest()
    return username, base64.b64encode(digest).decode("ascii")


def ice_servers(config: TurnConfig, identity: str,
                now: float | None = None) -> list[dict[str, Any]]:
    """RTCIceServer dicts for a client: one entry with every TURN URL, or [] when TURN is off."""
    if not config.enabled:
        return []
    username, password = turn_credential(config.secret, identity, config.credential_ttl_s, now)
    return [{"urls": list(config.urls), "username": username, "credential": password}]
