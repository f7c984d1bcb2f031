"""TURN REST credentials: format and HMAC against an independent computation, config, and
where clients get them (`joined` and GET /api/rooms/{id}/ice-servers)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import time

import pytest
from local_node import LocalServer, StartLocal

from signaling.config import ConfigError, TurnConfig, load_config
from signaling.turn import TurnCredentialError, ice_servers, turn_credential

TURN_ENV = {"COMMANDPOST_TURN_URLS": "turn:127.0.0.1:3478?transport=udp,turn:127.0.0.1:3478?transport=tcp",
            "COMMANDPOST_TURN_SECRET": "north-sea-relay-secret",
            "COMMANDPOST_TURN_CREDENTIAL_TTL_S": "600"}


def expected_password(secret: str, username: str) -> str:
    """What coturn computes for use-auth-secret, written out independently of signaling.turn."""
    return base64.b64encode(hmac.new(secret.encode(), username.encode(), hashlib.sha1).digest()).decode()


def test_credential_matches_known_vector() -> None:
    username, password = turn_credential("s3cret-key", "p_0a1b2c", 3600, now=1_700_000_000)
    assert username == "1700003600:p_0a1b2c"
    # Fixed vector, from `printf %s 1700003600:p_0a1b2c | openssl dgst -sha1 -hmac s3cret-key
    # -binary | base64`; the helper below recomputes it with hmac/hashlib.
    assert password == "jrQCHnCil254X91mZg3oqrkrWZQ="
    assert password == expected_password("s3cret-key", "1700003600:p_0a1b2c")
    assert len(base64.b64decode(password)) == 20  # a SHA-1 digest
    assert password != expected_password("other-key", username)


def test_expiry_is_now_plus_ttl() -> None:
    before = int(time.time())
    username, _ = turn_credential("s3cret-key", "p_x", 90)
    expiry, identity = username.split(":", 1)
    assert identity == "p_x"
    assert before + 90 <= int(expiry) <= int(time.time()) + 90


def test_bad_inputs_are_refused() -> None:
    with pytest.raises(TurnCredentialError, match="empty TURN secret"):
        turn_credential("", "p_x", 60)
    with pytest.raises(TurnCredentialError, match="without ':'"):
        turn_credential("s3cret-key", "a:b", 60)
    with pytest.raises(TurnCredentialError, match="positive"):
        turn_credential("s3cret-key", "p_x", 0)


def test_ice_servers_disabled_without_secret_or_urls() -> None:
    assert ice_servers(TurnConfig(), "p_x") == []
    assert ice_servers(TurnConfig(urls=("turn:h:3478",)), "p_x") == []
    assert ice_servers(TurnConfig(secret="s3cret-key"), "p_x") == []
    servers = ice_servers(TurnConfig(urls=("turn:h:3478",), secret="s3cret-key",
                                     credential_ttl_s=120), "p_x", now=1000)
    assert servers == [{"urls": ["turn:h:3478"], "username": "1120:p_x",
                        "credential": expected_password("s3cret-key", "1120:p_x")}]


def test_turn_config_is_strict() -> None:
    config = load_config(None, TURN_ENV)
    assert config.turn.urls == ("turn:127.0.0.1:3478?transport=udp",
                                "turn:127.0.0.1:3478?transport=tcp")
    assert config.turn.credential_ttl_s == 600 and config.turn.enabled
    with pytest.raises(ConfigError, match="COMMANDPOST_TURN_URLS: 'http://x' is invalid"):
        load_config(None, {"COMMANDPOST_TURN_URLS": "http://x"})
    with pytest.raises(ConfigError, match="COMMANDPOST_TURN_SECRET: the value is invalid"):
        load_config(None, {"COMMANDPOST_TURN_SECRET": "short"})
    with pytest.raises(ConfigError, match="below the minimum 60"):
        load_config(None, {"COMMANDPOST_TURN_CREDENTIAL_TTL_S": "5"})
    with pytest.raises(ConfigError, match="unknown key 'realm'"):
        load_config(None, {"COMMANDPOST_TURN_REALM": "x"})


async def test_joined_carries_turn_credentials(start_local: StartLocal) -> None:
    server = await start_local(TURN_ENV)
    room = await server.create_room()
    _, joined = await server.joined_client(room, "Alice")
    [entry] = joined["ice_servers"]
    assert entry["urls"] == ["turn:127.0.0.1:3478?transport=udp",
                             "turn:127.0.0.1:3478?transport=tcp"]
    expiry, identity = entry["username"].split(":", 1)
    assert identity == joined["participant_id"]
    assert abs(int(expiry) - (time.time() + 600)) < 5
    assert entry["credential"] == expected_password("north-sea-relay-secret", entry["username"])


async def test_joined_without_turn_has_no_ice_servers(local: LocalServer) -> None:
    room = await local.create_room()
    _, joined = await local.joined_client(room, "Alice")
    assert joined["ice_servers"] == []


async def test_ice_servers_endpoint(start_local: StartLocal) -> None:
    server = await start_local(TURN_ENV)
    room = await server.create_room()
    path = f"/api/rooms/{room['room_id']}/ice-servers"
    token = server.token(room["room_id"], "drone:7", ["join", "subscribe"])
    status, body, _ = await server.request("GET", path, headers={"Authorization": f"Bearer {token}"})
    assert status == 200 and body["ttl_s"] == 600
    [entry] = body["ice_servers"]
    assert entry["username"].endswith(":drone_7")  # ":" is the expiry separator
    assert entry["credential"] == expected_password("north-sea-relay-secret", entry["username"])
    status, body, _ = await server.request("GET", path)
    assert (status, body["error"]) == (401, "auth_failed")
    other = server.token("r_00000000000000aa", "x", ["join"])
    status, body, _ = await server.request(
        "GET", "/api/rooms/r_00000000000000aa/ice-servers",
        headers={"Authorization": f"Bearer {other}"})
    assert (status, body["error"]) == (404, "room_not_found")


async def test_ice_servers_endpoint_without_turn(local: LocalServer) -> None:
    room = await local.create_room()
    status, body, _ = await local.request(
        "GET", f"/api/rooms/{room['room_id']}/ice-servers",
        headers={"Authorization": f"Bearer {room['host_token']}"})
    assert (status, body) == (200, {"ice_servers": [], "ttl_s": None})
