"""REST for integrations (docs/API.md "Whiteboards"): scenes, operations, PNG/PDF exports
and video snapshots. Auth: a bearer token for the room (signaling.http_util.room_claims)."""

from __future__ import annotations

import asyncio
from typing import Any

import numpy as np
from aiohttp import web

from signaling.appkeys import CONFIG, IDENTITY, NODE
from signaling.errors import SignalingError
from signaling.http_util import json_response, read_json, room_claims
from signaling.rooms import check_room_id
from signaling.tokens import Claims

from whiteboard.board import Actor, Board
from whiteboard.ids import BoardRef, parse_board_id
from whiteboard.node_state import WhiteboardNode
from whiteboard.pdf import build_pdf
from whiteboard.render import png_bytes, render_board, render_video_layer
from whiteboard.snapshot import SnapshotStore, grab_frame

OP_WAIT_S = 10.0
# Bodies up to 4 x max_op_bytes are read (pretty-printed JSON); the operation's own
# max_op_bytes is checked on its compact form after parsing.
BODY_FACTOR = 4


def _wb(request: web.Request) -> WhiteboardNode:
    return WhiteboardNode.of(request.app[NODE])


async def _room(request: web.Request) -> tuple[str, Claims]:
    room_id = check_room_id(request.match_info["room_id"])
    claims = room_claims(request, request.app[IDENTITY].secret, room_id)
    if await request.app[NODE].services.store.get_room(room_id) is None:
        raise SignalingError("room_not_found", f"no room {room_id!r}")
    return room_id, claims


def _ref(request: web.Request, suffix: str = "") -> BoardRef:
    raw = request.match_info["board_id"]
    try:
        return parse_board_id(raw[:-len(suffix)] if suffix else raw)
    except SignalingError as exc:
        raise SignalingError("bad_request", exc.message) from None


async def _board(request: web.Request, room_id: str, ref: BoardRef) -> Board:
    board = await _wb(request).read_board(room_id, ref.board_id)
    if board is None:
        raise SignalingError("not_found", f"no board {ref.board_id!r} in this room")
    return board


def _snapshots(request: web.Request) -> SnapshotStore:
    config = request.app[CONFIG].whiteboard
    return SnapshotStore(request.app[NODE].services.store.redis, request.app[IDENTITY].data_dir,
                         config.max_snapshots_per_room, config.snapshot_jpeg_quality)


# reading
async def list_boards(request: web.Request) -> web.Response:
    room_id, _ = await _room(request)
    wb = _wb(request)
    boards = await wb.read_boards(room_id)
    held = wb.rooms.get(room_id)
    perms = held.permissions.json() if held is not None else \
        (await wb.store.permissions(room_id) or {"mode": wb.config.default_permission,
                                                 "presenters": []})
    return json_response({"boards": [b.summary() for b in boards], "permissions": perms})


async def get_board(request: web.Request) -> web.StreamResponse:
    if request.match_info["board_id"].endswith(".png"):
        return await get_png(request)
    room_id, _ = await _room(request)
    board = await _board(request, room_id, _ref(request))
    scene = board.scene_message()
    del scene["type"]
    return json_response(scene)


async def get_png(request: web.Request) -> web.Response:
    room_id, _ = await _room(request)
    ref = _ref(request, ".png")
    over_video = ref.track_id is not None and request.query.get("snapshot") in ("1", "true")
    try:
        board = await _board(request, room_id, ref)
    except SignalingError:
        if not over_video:
            raise
        board = Board(ref, request.app[CONFIG].whiteboard)  # nothing drawn: the frame alone
    frame = None
    if over_video:
        frame = await _fresh_frame(request, room_id, ref.track_id)  # type: ignore[arg-type]
    png = await _render(request, board, frame)
    return web.Response(body=png, content_type="image/png")


async def get_pdf(request: web.Request) -> web.Response:
    room_id, _ = await _room(request)
    boards = await _wb(request).read_boards(room_id)
    config = request.app[CONFIG].whiteboard
    elements = [(b.ref, b.scene.ordered()) for b in boards]

    def build() -> bytes:
        return build_pdf([_image(ref, items, None, config) for ref, items in elements],
                         title=f"Whiteboards {room_id}")

    pdf = await asyncio.get_running_loop().run_in_executor(None, build)
    return web.Response(body=pdf, content_type="application/pdf", headers={
        "Content-Disposition": f'attachment; filename="boards-{room_id}.pdf"'})


async def _render(request: web.Request, board: Board, frame: np.ndarray | None) -> bytes:
    config = request.app[CONFIG].whiteboard
    ref, items = board.ref, board.scene.ordered()
    return await asyncio.get_running_loop().run_in_executor(
        None, lambda: png_bytes(_image(ref, items, frame, config)))


def _image(ref: BoardRef, items: list[dict[str, Any]], frame: np.ndarray | None,
           config: Any) -> np.ndarray:
    if ref.normalised:
        return render_video_layer(items, frame, config.export_width)
    return render_board(items, config.export_max_px, (config.board_width, config.board_height))


# writing
async def post_ops(request: web.Request) -> web.Response:
    room_id, claims = await _room(request)
    ref = _ref(request)
    payload = await read_json(request, BODY_FACTOR * request.app[CONFIG].whiteboard.max_op_bytes)
    node = request.app[NODE]
    loop = asyncio.get_running_loop()
    done: asyncio.Future[dict[str, Any]] = loop.create_future()

    def reply(ack: dict[str, Any]) -> None:
        if not done.done():
            done.set_result(ack)

    async with node.using(room_id) as room:
        boards = await _wb(request).boards(room)
        actor = Actor(claims.identity, claims.name or claims.identity, claims.allows("admin"))
        try:
            boards.run_op(actor, claims.grants, ref.board_id, payload, reply)
        except SignalingError as exc:
            if exc.code == "bad_message":  # REST names it bad_request
                raise SignalingError("bad_request", exc.message) from None
            raise
        ack = await asyncio.wait_for(done, OP_WAIT_S)  # once it is stored
    ack.pop("type", None)
    return json_response(ack)


# snapshots
async def post_snapshot(request: web.Request) -> web.Response:
    room_id, claims = await _room(request)
    if not _may_watch(request, room_id, claims):
        raise SignalingError("forbidden", "snapshots need the subscribe grant")
    body = await read_json(request)
    track_id = body.get("track_id")
    if not isinstance(track_id, str):
        raise SignalingError("bad_request", "track_id must be a string")
    try:
        parse_board_id("track:" + track_id)
    except SignalingError:
        raise SignalingError("bad_request", "malformed track_id") from None
    frame = await _fresh_frame(request, room_id, track_id)
    info = await _snapshots(request).save(room_id, track_id, frame, claims.identity)
    return json_response(info.json(_snapshot_url(room_id, info.snapshot_id)), status=201)


async def get_snapshot(request: web.Request) -> web.StreamResponse:
    room_id, _ = await _room(request)
    snapshot_id = request.match_info["snapshot_id"]
    want_json = snapshot_id.endswith(".json")
    snapshot_id = snapshot_id.removesuffix(".json")
    store = _snapshots(request)
    info = await store.get(room_id, snapshot_id)
    path = store.path(room_id, snapshot_id)
    if info is None or not path.exists():
        raise SignalingError("not_found", f"no snapshot {snapshot_id[:40]!r}")
    if want_json:
        return json_response(info.json(_snapshot_url(room_id, snapshot_id)))
    return web.FileResponse(path, headers={"Content-Type": "image/jpeg"})


def _may_watch(request: web.Request, room_id: str, claims: Claims) -> bool:
    """A token with subscribe (or admin), or the REST token of `joined` (publish_data at
    most, e.g. a wall that joined by share code) held by a participant who is in the room
    now with the subscribe grant: they see the video anyway."""
    if claims.allows("subscribe") or claims.allows("admin"):
        return True
    room = request.app[NODE].rooms.get(room_id)
    member = room.members.get(claims.identity) if room is not None else None
    return member is not None and member.allows("subscribe")


def _snapshot_url(room_id: str, snapshot_id: str) -> str:
    return f"/api/rooms/{room_id}/snapshots/{snapshot_id}"


async def _fresh_frame(request: web.Request, room_id: str, track_id: str) -> np.ndarray:
    config = request.app[CONFIG]
    node = request.app[NODE]
    async with node.using(room_id) as room:  # the track lives on the room's node
        kinds = {t.get("track_id"): t.get("kind") for t in room.tracks_json()}
        if track_id not in kinds:
            raise SignalingError("track_not_found", f"room has no track {track_id!r}")
        if kinds[track_id] != "video":
            raise SignalingError("bad_request", f"track {track_id!r} is not a video track")
    return await grab_frame(own_url(config.server), request.app[IDENTITY].secret, room_id,
                            track_id, config.whiteboard.snapshot_timeout_s,
                            tuple(config.sfu.ice_host_addresses))


def own_url(server: Any) -> str:
    """This process's own listening address (never public_url, which may be a proxy this
    machine cannot reach): the snapshot client talks to us over loopback."""
    host = {"0.0.0.0": "127.0.0.1", "": "127.0.0.1", "::": "::1"}.get(server.host, server.host)
    host = f"[{host}]" if ":" in host else host
    return f"http://{host}:{server.port}"


def add_routes(app: web.Application) -> None:
    app.router.add_get("/api/rooms/{room_id}/boards", list_boards)
    app.router.add_get("/api/rooms/{room_id}/boards.pdf", get_pdf)
    app.router.add_get("/api/rooms/{room_id}/boards/{board_id}", get_board)
    app.router.add_post("/api/rooms/{room_id}/boards/{board_id}/ops", post_ops)
    app.router.add_post("/api/rooms/{room_id}/snapshots", post_snapshot)
    app.router.add_get("/api/rooms/{room_id}/snapshots/{snapshot_id}", get_snapshot)
