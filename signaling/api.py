"""REST API: health, rooms and share codes (docs/API.md)."""

from __future__ import annotations

import asyncio
import hmac
import os
from typing import Any

from aiohttp import web

from signaling.appkeys import CONFIG, IDENTITY, NODE
from signaling.errors import SignalingError
from signaling.feed_store import FeedStore
from signaling.feeds import public_json
from signaling.http_util import json_response, read_json, room_claims
from signaling.rooms import check_room_id, create_room
from signaling.turn import ice_servers

HEALTH_TIMEOUT_S = 2.0


async def healthz(request: web.Request) -> web.Response:
    node = request.app[NODE]
    try:
        await asyncio.wait_for(node.services.store.redis.ping(), HEALTH_TIMEOUT_S)
        redis_state = "ok"
    except Exception as exc:  # any failure means "not healthy", with the reason shown
        redis_state = f"error: {exc or type(exc).__name__}"
    ok = redis_state == "ok"
    participants = sum(len(room.members) for room in list(node.rooms.values()))
    return json_response({"status": "ok" if ok else "degraded", "node_id": node.node_id,
                          "pid": os.getpid(), "redis": redis_state, "rooms": len(node.rooms),
                          "participants": participants, "event_loop": _loop_name()},
                         status=200 if ok else 503)


def _loop_name() -> str:
    """The running loop's implementation ("asyncio", "uvloop"), so an operator (and the
    tests) can see that `server.event_loop` took effect."""
    return type(asyncio.get_running_loop()).__module__.split(".")[0]


async def post_room(request: web.Request) -> web.Response:
    config = request.app[CONFIG]
    if config.server.api_key:
        expected = f"Bearer {config.server.api_key}"
        if not hmac.compare_digest(request.headers.get("Authorization", ""), expected):
            raise SignalingError("auth_failed", "creating rooms needs 'Authorization: Bearer "
                                 "<api_key>'")
    body = await read_json(request)
    node = request.app[NODE]
    created = await create_room(node.services.store, node.services.shares, config,
                                request.app[IDENTITY].secret, body.get("name"))
    return json_response(created.to_json(), status=201)


async def get_room(request: web.Request) -> web.Response:
    room_id = check_room_id(request.match_info["room_id"])
    claims = room_claims(request, request.app[IDENTITY].secret, room_id)
    node = request.app[NODE]
    config = request.app[CONFIG]
    store = node.services.store
    record = await store.get_room(room_id)
    if record is None:
        raise SignalingError("room_not_found", f"no room {room_id!r}")
    local = node.rooms.get(room_id)
    if local is None and record.node and record.node != node.node_id \
            and await store.node_url(record.node) is not None:
        raise await node.wrong_node(record.node)
    info: dict[str, Any] = {"room_id": room_id, "name": record.name,
                            "created_at": record.created_at, "node": record.node}
    if local is not None:
        info |= local.info()
    else:
        participants = [p.public() for p in await store.participants(room_id) if not p.hidden]
        feeds = [public_json(f, config, secrets_too=False)
                 for f in await FeedStore(store.redis).list(room_id)]
        info |= {"participants": participants, "tracks": [], "locked": record.locked,
                 "feeds": feeds}
    if claims.allows("admin"):
        info["shares"] = [s.to_json() for s in await node.services.shares.list(room_id)]
    return json_response(info)


async def post_share(request: web.Request) -> web.Response:
    room_id = check_room_id(request.match_info["room_id"])
    config = request.app[CONFIG]
    room_claims(request, request.app[IDENTITY].secret, room_id, "admin")
    body = await read_json(request)
    ttl = body.get("ttl_s", config.tokens.share_ttl_s)
    if not isinstance(ttl, int) or isinstance(ttl, bool) or not 1 <= ttl <= 366 * 86400:
        raise SignalingError("bad_request", "ttl_s must be an integer between 1 and 31622400")
    grants = body.get("grants", list(config.tokens.guest_grants))
    if not isinstance(grants, list) or not set(grants) <= set(config.tokens.guest_grants):
        raise SignalingError("bad_request", "grants must be a subset of the guest grants: "
                             + ", ".join(config.tokens.guest_grants))
    node = request.app[NODE]
    if await node.services.store.get_room(room_id) is None:
        raise SignalingError("room_not_found", f"no room {room_id!r}")
    share = await node.services.shares.create(room_id, grants, ttl)
    return json_response(share.to_json() | {
        "join_url": f"{config.server.base_url}/j/{share.code}"}, status=201)


async def delete_share(request: web.Request) -> web.Response:
    room_id = check_room_id(request.match_info["room_id"])
    room_claims(request, request.app[IDENTITY].secret, room_id, "admin")
    await request.app[NODE].services.shares.revoke(room_id, request.match_info["code"])
    return web.Response(status=204)


async def get_ice_servers(request: web.Request) -> web.Response:
    """Fresh TURN credentials for a client that needs them outside the WebSocket (WHIP/WHEP
    players, or a page whose credentials from `joined` expired)."""
    room_id = check_room_id(request.match_info["room_id"])
    claims = room_claims(request, request.app[IDENTITY].secret, room_id)
    if await request.app[NODE].services.store.get_room(room_id) is None:
        raise SignalingError("room_not_found", f"no room {room_id!r}")
    turn = request.app[CONFIG].turn
    # A token identity may hold ":", which the TURN username reserves for the expiry.
    servers = ice_servers(turn, claims.identity.replace(":", "_"))
    return json_response({"ice_servers": servers,
                          "ttl_s": turn.credential_ttl_s if servers else None})


def add_routes(app: web.Application) -> None:
    app.router.add_get("/healthz", healthz)
    app.router.add_post("/api/rooms", post_room)
    app.router.add_get("/api/rooms/{room_id}", get_room)
    app.router.add_get("/api/rooms/{room_id}/ice-servers", get_ice_servers)
    app.router.add_post("/api/rooms/{room_id}/shares", post_share)
    app.router.add_delete("/api/rooms/{room_id}/shares/{code}", delete_share)
