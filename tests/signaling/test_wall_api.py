"""Command wall REST: page routes, settings, and per-operator layouts in Redis (real node)."""

from __future__ import annotations

import json

from local_node import LocalServer, StartLocal

from signaling.wall import layout_key

LAYOUT = {"tiles": 9, "order": ["feed-cam1:feed", "p_0a1b2c:camera"],
          "pins": {"feed-cam1:feed": 4}, "spotlight": None, "map": False}


def share(room: dict, operator: str = "Li Lei") -> dict:
    return {"headers": {"Authorization": f"Share {room['share_code']}"},
            "params": {"operator": operator}}


def bearer(token: str) -> dict:
    return {"headers": {"Authorization": f"Bearer {token}"}}


async def test_wall_pages_are_served_and_malformed_codes_are_404(local: LocalServer) -> None:
    room = await local.create_room()
    for path in (f"/wall/{room['share_code']}", "/wall"):
        status, body, _ = await local.request("GET", path)
        assert status == 200 and 'src="/static/js/wall-page.js"' in body
    status, body, _ = await local.request("GET", "/wall/no!such*code")
    assert status == 404 and body["error"] == "not_found"


async def test_config_serves_the_map_settings(start_local: StartLocal) -> None:
    server = await start_local({"COMMANDPOST_WALL_MAP_TILE_URL": "http://127.0.0.1:9/{z}/{x}/{y}.png",
                                "COMMANDPOST_WALL_FRAME_STALE_S": "2.5"})
    status, body, _ = await server.request("GET", "/api/wall/config")
    assert status == 200
    assert body == {"map_tile_url": "http://127.0.0.1:9/{z}/{x}/{y}.png", "map_max_zoom": 18,
                    "map_attribution": "", "frame_stale_s": 2.5}


async def test_layout_round_trip_per_operator_with_a_share_code(local: LocalServer) -> None:
    room = await local.create_room()
    path = f"/api/rooms/{room['room_id']}/wall-layout"
    status, body, _ = await local.request("GET", path, **share(room))
    assert status == 200 and body == {"operator": "name:Li Lei", "layout": None, "updated_at": None}

    status, body, _ = await local.request("PUT", path, json=LAYOUT, **share(room))
    assert status == 200 and body["layout"] == LAYOUT and body["updated_at"] > 0
    status, body, _ = await local.request("GET", path, **share(room))
    assert body["layout"] == LAYOUT
    # Another operator has their own layout; the stored one expires with the configured TTL.
    status, body, _ = await local.request("GET", path, **share(room, "Han Meimei"))
    assert status == 200 and body["layout"] is None
    ttl = await local.redis.ttl(layout_key(room["room_id"], "name:Li Lei"))
    assert 0 < ttl <= local.config.wall.layout_ttl_s


async def test_layout_with_a_token_belongs_to_its_subject(local: LocalServer) -> None:
    room = await local.create_room()
    path = f"/api/rooms/{room['room_id']}/wall-layout"
    token = local.token(room["room_id"], "operator-7", ["join", "subscribe", "hidden"])
    status, body, _ = await local.request("PUT", path, json={**LAYOUT, "tiles": 16},
                                          **bearer(token))
    assert status == 200 and body["operator"] == "sub:operator-7"
    raw = await local.redis.get(layout_key(room["room_id"], "sub:operator-7"))
    assert json.loads(raw)["layout"]["tiles"] == 16
    # The ?operator= name is not an identity for token holders.
    status, body, _ = await local.request("GET", path, params={"operator": "x"}, **bearer(token))
    assert body["layout"]["tiles"] == 16


async def test_bad_layouts_and_credentials_are_refused_and_nothing_is_lost(
        start_local: StartLocal) -> None:
    local = await start_local({"COMMANDPOST_WALL_LAYOUT_MAX_BYTES": "1024"})
    room = await local.create_room()
    other = await local.create_room()
    path = f"/api/rooms/{room['room_id']}/wall-layout"
    assert (await local.request("PUT", path, json=LAYOUT, **share(room)))[0] == 200
    bad = [
        ({**LAYOUT, "tiles": 5}, "'tiles' must be 1, 4, 9 or 16"),
        ({**LAYOUT, "order": ["no-colon"]}, "'order' entry must be a tile key"),
        ({**LAYOUT, "order": ["a:camera", "a:camera"]}, "'order' lists a tile twice"),
        ({**LAYOUT, "pins": {"a:camera": 16}}, "slot of 'a:camera' must be an integer 0..15"),
        ({**LAYOUT, "pins": {"a:camera": 1, "b:camera": 1}}, "pinned to the same slot"),
        ({**LAYOUT, "map": "yes"}, "'map' must be true or false"),
        ({**LAYOUT, "colour": "red"}, "unknown field 'colour'"),
        ({**LAYOUT, "order": [f"p_{i:012d}:camera" for i in range(60)]}, "larger than 1024 bytes"),
    ]
    for layout, message in bad:
        status, body, _ = await local.request("PUT", path, json=layout, **share(room))
        assert status in (400, 413) and message in body["message"], (layout, body)
    status, body, _ = await local.request("PUT", path, data=b"[1,2]", **share(room))
    assert status == 400 and body["error"] == "bad_json"
    refusals = [
        ({}, 401, "auth_failed"),
        ({"headers": {"Authorization": "Share nosuchcode"}, "params": {"operator": "x"}},
         401, "auth_failed"),
        (share(other), 403, "wrong_room"),
        ({"headers": {"Authorization": f"Share {room['share_code']}"}}, 400, "bad_request"),
        (bearer(local.token(other["room_id"], "op", ["join"])), 403, "wrong_room"),
    ]
    for kwargs, status_expected, code in refusals:
        status, body, _ = await local.request("PUT", path, json=LAYOUT, **kwargs)
        assert (status, body["error"]) == (status_expected, code), (kwargs, body)
    status, body, _ = await local.request("GET", "/api/rooms/r_0123456789abcdef/wall-layout",
                                          **bearer(local.token("r_0123456789abcdef", "op",
                                                               ["join"])))
    assert (status, body["error"]) == (404, "room_not_found")
    status, body, _ = await local.request("GET", path, **share(room))
    assert body["layout"] == LAYOUT, "a refused PUT must not touch the stored layout"
