"""WHIP ingest (RFC 9725) and WHEP playback, with bearer tokens (docs/API.md).

A WHIP publisher is a room member without a signalling client; a WHEP player is an SFU play
session. Session URLs carry a random id of their own, so knowing a participant id is not
enough to end someone's stream. No trickle ICE: PATCH is 405.
"""

from __future__ import annotations

import secrets

from aiohttp import web
from sfu import SdpError, UnknownTrackError

from signaling.appkeys import IDENTITY, NODE
from signaling.errors import SignalingError
from signaling.feeds import FEED_PREFIX
from signaling.http_util import read_body, room_claims
from signaling.media import check_sdp
from signaling.room import Room
from signaling.rooms import check_room_id

SDP_TYPE = "application/sdp"


async def _read_offer(request: web.Request, limit: int) -> str:
    if request.content_type != SDP_TYPE:
        raise SignalingError("unsupported_media_type", f"Content-Type must be {SDP_TYPE}")
    body = await read_body(request, limit)
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError:
        raise SignalingError("bad_sdp", "offer is not UTF-8 text") from None


def _created(answer: str, location: str) -> web.Response:
    return web.Response(status=201, body=answer.encode(), content_type=SDP_TYPE,
                        headers={"Location": location, "ETag": f'"{secrets.token_hex(8)}"'})


async def whip_post(request: web.Request) -> web.Response:
    room_id = check_room_id(request.match_info["room_id"])
    claims = room_claims(request, request.app[IDENTITY].secret, room_id, "publish")
    node = request.app[NODE]
    offer = await _read_offer(request, node.services.config.limits.max_sdp_bytes)
    async with node.using(room_id) as room:
        name, participant_id = claims.name, None
        if claims.identity.startswith(FEED_PREFIX):  # a WHIP feed's token (docs/API.md)
            feed = room.feeds.whip_record(claims.identity)
            name, participant_id = feed.name, feed.participant_id
        try:
            member, answer = await room.add_whip(claims, name, offer, participant_id)
        except SdpError as exc:
            raise SignalingError("bad_sdp", str(exc)) from None
        session = secrets.token_urlsafe(16)
        for stale in [s for s, pid in room.whip_sessions.items() if pid == member.id]:
            del room.whip_sessions[stale]  # replaced by this session
        room.whip_sessions[session] = member.id
    return _created(answer, f"/whip/{room_id}/{session}")


async def whip_delete(request: web.Request) -> web.Response:
    room_id = check_room_id(request.match_info["room_id"])
    room_claims(request, request.app[IDENTITY].secret, room_id, "publish")
    room = await _local_room(request, room_id)
    participant_id = room.whip_sessions.pop(request.match_info["session"], None)
    if participant_id is None:
        raise SignalingError("session_not_found", "no such WHIP session")
    await room.remove(participant_id, "left")
    return web.Response(status=200)


async def whep_post(request: web.Request) -> web.Response:
    room_id = check_room_id(request.match_info["room_id"])
    track_id = request.match_info["track_id"]
    room_claims(request, request.app[IDENTITY].secret, room_id, "subscribe")
    node = request.app[NODE]
    limits = node.services.config.limits
    offer = await _read_offer(request, limits.max_sdp_bytes)
    check_sdp(offer, limits.max_sdp_bytes, limits.max_m_sections)
    async with node.using(room_id) as room:
        if track_id not in {t.track_id for t in room.media.tracks()}:
            raise SignalingError("track_not_found", f"room has no track {track_id!r}")
        try:
            answer, sfu_session = await room.media.play(offer, [track_id])
        except SdpError as exc:
            raise SignalingError("bad_sdp", str(exc)) from None
        except UnknownTrackError as exc:
            raise SignalingError("track_not_found", str(exc)) from None
        session = secrets.token_urlsafe(16)
        room.whep_sessions[session] = sfu_session
    return _created(answer, f"/whep/{room_id}/{track_id}/{session}")


async def whep_delete(request: web.Request) -> web.Response:
    room_id = check_room_id(request.match_info["room_id"])
    room_claims(request, request.app[IDENTITY].secret, room_id, "subscribe")
    node = request.app[NODE]
    room = await _local_room(request, room_id)
    sfu_session = room.whep_sessions.pop(request.match_info["session"], None)
    if sfu_session is None:
        raise SignalingError("session_not_found", "no such WHEP session")
    await room.media.stop_session(sfu_session)
    node.release_if_idle(room)
    return web.Response(status=200)


async def no_trickle(request: web.Request) -> web.Response:
    raise web.HTTPMethodNotAllowed(request.method, ["DELETE", "OPTIONS"])


async def _local_room(request: web.Request, room_id: str) -> Room:
    node = request.app[NODE]
    room = node.rooms.get(room_id)
    if room is not None:
        return room
    record = await node.services.store.get_room(room_id)
    if record is not None and record.node and record.node != node.node_id \
            and await node.services.store.node_url(record.node) is not None:
        raise await node.wrong_node(record.node)
    raise SignalingError("session_not_found", "no such session on this server")


def add_routes(app: web.Application) -> None:
    app.router.add_post("/whip/{room_id}", whip_post)
    app.router.add_delete("/whip/{room_id}/{session}", whip_delete)
    app.router.add_patch("/whip/{room_id}/{session}", no_trickle)
    app.router.add_post("/whep/{room_id}/{track_id}", whep_post)
    app.router.add_delete("/whep/{room_id}/{track_id}/{session}", whep_delete)
    app.router.add_patch("/whep/{room_id}/{track_id}/{session}", no_trickle)
