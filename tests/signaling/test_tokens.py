"""Tokens: signature, expiry (required), room binding, grants deny by default."""

from __future__ import annotations

import time

import jwt
import pytest

from signaling.tokens import GRANTS, TokenError, mint_token, parse_grants, verify_token

SECRET = "s" * 32


def test_round_trip_keeps_identity_room_name_and_grants() -> None:
    token = mint_token(SECRET, "r_1", "alice", ["join", "publish"], 60, name="Alice")
    claims = verify_token(SECRET, token, "r_1")
    assert (claims.room_id, claims.identity, claims.name) == ("r_1", "alice", "Alice")
    assert claims.grants == {"join", "publish"}
    assert claims.expires_at - time.time() == pytest.approx(60, abs=2)


def test_grants_are_denied_by_default() -> None:
    claims = verify_token(SECRET, mint_token(SECRET, "r_1", "bob", ["join"], 60))
    for grant in GRANTS - {"join"}:
        assert not claims.allows(grant)
    nothing = verify_token(SECRET, mint_token(SECRET, "r_1", "eve", [], 60))
    assert not any(nothing.allows(g) for g in GRANTS)


def test_forged_signature_is_refused() -> None:
    forged = mint_token("x" * 32, "r_1", "mallory", ["admin", "join"], 60)
    with pytest.raises(TokenError) as info:
        verify_token(SECRET, forged, "r_1")
    assert info.value.code == "auth_failed"


def test_tampered_payload_is_refused() -> None:
    header, payload, signature = mint_token(SECRET, "r_1", "bob", ["join"], 60).split(".")
    other = mint_token(SECRET, "r_1", "bob", ["join", "admin"], 60).split(".")[1]
    with pytest.raises(TokenError) as info:
        verify_token(SECRET, f"{header}.{other}.{signature}")
    assert info.value.code == "auth_failed"


def test_none_algorithm_is_refused() -> None:
    unsigned = jwt.encode({"sub": "x", "room": "r_1", "grants": ["admin"], "iat": 1,
                           "exp": int(time.time()) + 60}, None, algorithm="none")
    with pytest.raises(TokenError) as info:
        verify_token(SECRET, unsigned)
    assert info.value.code == "auth_failed"


def test_expired_token() -> None:
    token = mint_token(SECRET, "r_1", "bob", ["join"], 60, now=time.time() - 120)
    with pytest.raises(TokenError) as info:
        verify_token(SECRET, token, "r_1")
    assert info.value.code == "token_expired"


def test_token_without_exp_is_refused() -> None:
    token = jwt.encode({"sub": "bob", "room": "r_1", "grants": ["join"],
                        "iat": int(time.time())}, SECRET, algorithm="HS256")
    with pytest.raises(TokenError) as info:
        verify_token(SECRET, token, "r_1")
    assert info.value.code == "auth_failed"
    assert "'exp'" in info.value.message


def test_wrong_room() -> None:
    token = mint_token(SECRET, "r_1", "bob", ["join"], 60)
    with pytest.raises(TokenError) as info:
        verify_token(SECRET, token, "r_2")
    assert info.value.code == "wrong_room"


def test_unknown_grant_is_refused_when_minting_and_verifying() -> None:
    with pytest.raises(ValueError, match="unknown grant 'root'"):
        mint_token(SECRET, "r_1", "bob", ["join", "root"], 60)
    with pytest.raises(ValueError, match="unknown grant"):
        parse_grants(["superuser"])
    token = jwt.encode({"sub": "bob", "room": "r_1", "grants": ["join", "root"], "iat": 1,
                        "exp": int(time.time()) + 60}, SECRET, algorithm="HS256")
    with pytest.raises(TokenError) as info:
        verify_token(SECRET, token, "r_1")
    assert info.value.code == "auth_failed"


@pytest.mark.parametrize("bad", ["", "not-a-jwt", None, 42, "a" * 5000, "a.b.c"])
def test_garbage_is_auth_failed(bad: object) -> None:
    with pytest.raises(TokenError) as info:
        verify_token(SECRET, bad)
    assert info.value.code == "auth_failed"


def test_claims_of_wrong_shape_are_refused() -> None:
    for claims in ({"sub": "bob", "room": 5, "grants": ["join"]},
                   {"sub": "bob", "room": "r_1", "grants": "join"}):
        token = jwt.encode(claims | {"iat": 1, "exp": int(time.time()) + 60}, SECRET,
                           algorithm="HS256")
        with pytest.raises(TokenError) as info:
            verify_token(SECRET, token)
        assert info.value.code == "auth_failed"
