"""REST for device feeds: `/api/rooms/{room_id}/feeds[/{feed_id}]` (docs/API.md "Feeds")."""

from __future__ import annotations

import secrets
import socket

from aiohttp import web

from signaling.appkeys import CONFIG, IDENTITY, NODE
from signaling.config import Config
from signaling.errors import SignalingError
from signaling.feed_spec import FeedRequest, parse_feed_request
from signaling.feed_store import FeedRecord, FeedStore
from signaling.feeds import public_json
from signaling.http_util import json_response, read_json, room_claims
from signaling.rooms import check_room_id
from signaling.tokens import mint_token

# A feed body is a few fields; anything near this is not a feed registration.
MAX_FEED_BODY_BYTES = 8192
FEED_ID_HEX_CHARS = 12  # hex characters of a feed id


async def post_feed(request: web.Request) -> web.Response:
    room_id = check_room_id(request.match_info["room_id"])
    config = request.app[CONFIG]
    room_claims(request, request.app[IDENTITY].secret, room_id, "admin")
    wanted = parse_feed_request(await read_json(request, MAX_FEED_BODY_BYTES))
    node = request.app[NODE]
    store = FeedStore(node.services.store.redis)
    async with node.using(room_id) as room, room.feeds.adding:
        limit = config.feeds.max_feeds_per_room
        if await store.count(room_id) >= limit:
            raise SignalingError("too_many_feeds", f"the room already has {limit} feeds "
                                 "(feeds.max_feeds_per_room)")
        record = await _new_record(store, config, room_id, wanted)
        try:
            await room.feeds.start(record)
        except BaseException:
            await store.delete(record)
            raise
    body = public_json(record, config, secrets_too=True)
    if record.kind == "whip":
        body["token"] = mint_token(request.app[IDENTITY].secret, room_id,
                                   record.participant_id, ["publish"],
                                   config.feeds.whip_token_ttl_s, name=record.name)
    return json_response(body, status=201)


async def _new_record(store: FeedStore, config: Config, room_id: str,
                      wanted: FeedRequest) -> FeedRecord:
    record = FeedRecord(feed_id=secrets.token_hex(FEED_ID_HEX_CHARS // 2), room_id=room_id,
                        kind=wanted.kind, name=wanted.name, url=wanted.url,
                        location=wanted.location.to_json() if wanted.location else None)
    if wanted.kind == "rtmp":
        record.rtmp_port = await _claim_port(store, config, f"{room_id}/{record.feed_id}")
        record.rtmp_key = secrets.token_hex(12)
    return record


async def _claim_port(store: FeedStore, config: Config, owner: str) -> int:
    """The first port of the range no feed holds and nothing on this machine listens on."""
    feeds = config.feeds
    for port in range(feeds.rtmp_port_min, feeds.rtmp_port_max + 1):
        if not await store.claim_rtmp_port(port, owner):
            continue
        if _bindable(feeds.rtmp_listen_host, port):
            return port
        await store.release_rtmp_port(port)
    raise SignalingError("no_rtmp_port", f"all RTMP ports {feeds.rtmp_port_min}-"
                         f"{feeds.rtmp_port_max} are taken (feeds.rtmp_port_min/max)")


def _bindable(host: str, port: int) -> bool:
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        with socket.socket(infos[0][0], socket.SOCK_STREAM) as sock:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind(infos[0][4])
        return True
    except OSError:
        return False


async def list_feeds(request: web.Request) -> web.Response:
    room_id = check_room_id(request.match_info["room_id"])
    claims = room_claims(request, request.app[IDENTITY].secret, room_id)
    records = await _records(request, room_id)
    config = request.app[CONFIG]
    return json_response({"feeds": [public_json(r, config, claims.allows("admin"))
                                     for r in records]})


async def get_feed(request: web.Request) -> web.Response:
    room_id = check_room_id(request.match_info["room_id"])
    claims = room_claims(request, request.app[IDENTITY].secret, room_id)
    feed_id = request.match_info["feed_id"]
    for record in await _records(request, room_id):
        if record.feed_id == feed_id:
            return json_response(public_json(record, request.app[CONFIG],
                                             claims.allows("admin")))
    raise SignalingError("feed_not_found", f"room has no feed {feed_id[:64]!r}")


async def _records(request: web.Request, room_id: str) -> list[FeedRecord]:
    """The room's node knows the freshest state; any other node reads Redis."""
    node = request.app[NODE]
    room = node.rooms.get(room_id)
    if room is not None and not room.closed:
        return sorted(room.feeds.records.values(), key=lambda r: r.created_at)
    if await node.services.store.get_room(room_id) is None:
        raise SignalingError("room_not_found", f"no room {room_id!r}")
    return await FeedStore(node.services.store.redis).list(room_id)


async def delete_feed(request: web.Request) -> web.Response:
    room_id = check_room_id(request.match_info["room_id"])
    room_claims(request, request.app[IDENTITY].secret, room_id, "admin")
    feed_id = request.match_info["feed_id"]
    node = request.app[NODE]
    async with node.using(room_id) as room:
        if await room.feeds.remove(feed_id) is None:
            raise SignalingError("feed_not_found", f"room has no feed {feed_id[:64]!r}")
    return web.Response(status=204)


def add_routes(app: web.Application) -> None:
    app.router.add_post("/api/rooms/{room_id}/feeds", post_feed)
    app.router.add_get("/api/rooms/{room_id}/feeds", list_feeds)
    app.router.add_get("/api/rooms/{room_id}/feeds/{feed_id}", get_feed)
    app.router.add_delete("/api/rooms/{room_id}/feeds/{feed_id}", delete_feed)
