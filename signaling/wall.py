"""Command wall REST: the page's settings and each operator's saved layout (docs/API.md).

A layout belongs to a room and an operator. With a token the operator is the token's subject;
a wall opened with a share code has only a random guest identity, so it names its operator
(`?operator=`, what the person typed) and proves it may see the room with the code itself
(`Authorization: Share <code>`). Layouts are small JSON documents kept in Redis with a TTL.
"""

from __future__ import annotations

import json
import time
from typing import Any

from aiohttp import web

from signaling.appkeys import CONFIG, IDENTITY, NODE
from signaling.errors import SignalingError
from signaling.http_util import json_response, read_json
from signaling.rooms import check_room_id
from signaling.store import PREFIX
from signaling.tokens import verify_token
from signaling.wall_layout import WallLayout

MAX_OPERATOR_CHARS = 64


def layout_key(room_id: str, operator: str) -> str:
    return f"{PREFIX}room:{room_id}:wall-layout:{operator}"


async def get_config(request: web.Request) -> web.Response:
    """What the wall page needs before it joins: map tiles and the lost-frame threshold.
    Nothing here is secret (the tile URL is fetched by every wall's browser anyway)."""
    wall = request.app[CONFIG].wall
    return json_response({"map_tile_url": wall.map_tile_url, "map_max_zoom": wall.map_max_zoom,
                          "map_attribution": wall.map_attribution,
                          "frame_stale_s": wall.frame_stale_s})


async def _operator(request: web.Request, room_id: str) -> str:
    """The layout owner for this request, after checking its credentials for `room_id`."""
    scheme, _, value = request.headers.get("Authorization", "").partition(" ")
    value = value.strip()
    node = request.app[NODE]
    if scheme.lower() == "bearer" and value:
        claims = verify_token(request.app[IDENTITY].secret, value, room_id)
        operator = "sub:" + claims.identity
    elif scheme.lower() == "share" and value:
        share = await node.services.shares.resolve(value)
        if share.room_id != room_id:
            raise SignalingError("wrong_room", "the share code is for another room")
        name = request.query.get("operator", "").strip()
        if not 0 < len(name) <= MAX_OPERATOR_CHARS or not name.isprintable():
            raise SignalingError("bad_request", "with a share code, give ?operator=<name> "
                                 f"(1..{MAX_OPERATOR_CHARS} printable characters)")
        operator = "name:" + name
    else:
        raise SignalingError("auth_failed", "send 'Authorization: Bearer <token>' or "
                             "'Authorization: Share <code>'")
    if await node.services.store.get_room(room_id) is None:
        raise SignalingError("room_not_found", f"no room {room_id!r}")
    return operator


async def get_layout(request: web.Request) -> web.Response:
    room_id = check_room_id(request.match_info["room_id"])
    operator = await _operator(request, room_id)
    raw = await request.app[NODE].services.store.redis.get(layout_key(room_id, operator))
    stored: dict[str, Any] = json.loads(raw) if raw else {"layout": None, "updated_at": None}
    return json_response({"operator": operator, **stored})


async def put_layout(request: web.Request) -> web.Response:
    room_id = check_room_id(request.match_info["room_id"])
    wall = request.app[CONFIG].wall
    operator = await _operator(request, room_id)
    layout = WallLayout.parse(await read_json(request, wall.layout_max_bytes))
    stored = {"layout": layout.to_json(), "updated_at": round(time.time(), 3)}
    await request.app[NODE].services.store.redis.set(
        layout_key(room_id, operator), json.dumps(stored, separators=(",", ":")),
        ex=wall.layout_ttl_s)
    return json_response({"operator": operator, **stored})


def add_routes(app: web.Application) -> None:
    app.router.add_get("/api/wall/config", get_config)
    app.router.add_get("/api/rooms/{room_id}/wall-layout", get_layout)
    app.router.add_put("/api/rooms/{room_id}/wall-layout", put_layout)
