"""REST: start, stop, list, inspect, download and delete recordings (docs/API.md
"Recordings"). Every route needs a token of the recording's room with the `record` grant
(`admin` alone is not enough: the host token carries both); each access is audited."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from aiohttp import web

from recorder.composite.api import add_composite_routes
from recorder.manifest import MANIFEST, read_manifest, verify_chain
from recorder.names import inside
from recorder.store import Recording, RecordingStore, check_recording_id
from recorder.worker import delete_recording, recordings_dir
from signaling.appkeys import CONFIG, IDENTITY, NODE
from signaling.errors import SignalingError
from signaling.http_util import bearer, json_response, read_json, room_claims
from signaling.rooms import check_room_id
from signaling.tokens import Claims, verify_token

GRANT = "record"


def _store(request: web.Request) -> RecordingStore:
    return RecordingStore(request.app[NODE].services.store.redis)


def _root(request: web.Request) -> Path:
    return recordings_dir(request.app[CONFIG].recorder.dir, request.app[IDENTITY].data_dir)


async def _authorized(request: web.Request) -> tuple[Claims, Recording]:
    """The caller's claims and the recording, if the token may record in its room. A
    recording of another room is "not found", like one that does not exist."""
    claims = verify_token(request.app[IDENTITY].secret, bearer(request))
    if not claims.allows(GRANT):
        raise SignalingError("forbidden", f"token lacks the {GRANT!r} grant")
    rid = check_recording_id(request.match_info["recording_id"])
    recording = await _store(request).get(rid)
    if recording is None or recording.room_id != claims.room_id \
            or recording.state == "deleted":
        raise SignalingError("not_found", "no such recording")
    return claims, recording


def _actor(claims: Claims) -> str:
    return f"{claims.identity} ({claims.name})" if claims.name != claims.identity \
        else claims.identity


async def start_recording(request: web.Request) -> web.Response:
    room_id = check_room_id(request.match_info["room_id"])
    claims = room_claims(request, request.app[IDENTITY].secret, room_id, GRANT)
    await read_json(request)
    if await request.app[NODE].services.store.get_room(room_id) is None:
        raise SignalingError("room_not_found", f"no room {room_id!r}")
    store = _store(request)
    recording, created = await store.create(room_id, _actor(claims))
    if not created:
        raise SignalingError("conflict", "the room is already being recorded",
                             recording_id=recording.recording_id)
    await store.audit(recording.recording_id, "started", _actor(claims))
    await store.publish(recording)
    return json_response(recording.public(), status=201)


async def list_recordings(request: web.Request) -> web.Response:
    room_id = check_room_id(request.match_info["room_id"])
    room_claims(request, request.app[IDENTITY].secret, room_id, GRANT)
    store = _store(request)
    return json_response({"room_id": room_id, "auto_record": await store.auto(room_id),
                          "recordings": [r.public() for r in await store.list_room(room_id)]})


async def put_settings(request: web.Request) -> web.Response:
    """{"auto_record": bool}: record the room whenever it opens."""
    room_id = check_room_id(request.match_info["room_id"])
    claims = room_claims(request, request.app[IDENTITY].secret, room_id, GRANT)
    body = await read_json(request)
    auto = body.get("auto_record")
    if not isinstance(auto, bool):
        raise SignalingError("bad_request", "auto_record must be true or false")
    if await request.app[NODE].services.store.get_room(room_id) is None:
        raise SignalingError("room_not_found", f"no room {room_id!r}")
    await _store(request).set_auto(room_id, auto)
    return json_response({"room_id": room_id, "auto_record": auto,
                          "set_by": _actor(claims)})


async def stop_recording(request: web.Request) -> web.Response:
    claims, recording = await _authorized(request)
    store = _store(request)
    if not await store.request_stop(recording.recording_id, _actor(claims)):
        raise SignalingError("conflict", f"the recording is not running ({recording.state})")
    await store.audit(recording.recording_id, "stopped", _actor(claims))
    stopping = await store.get(recording.recording_id)
    assert stopping is not None
    await store.publish(stopping)
    return json_response(stopping.public(), status=202)


async def get_recording(request: web.Request) -> web.Response:
    claims, recording = await _authorized(request)
    store = _store(request)
    directory = _root(request) / recording.recording_id
    manifest = await asyncio.get_running_loop().run_in_executor(None, read_manifest, directory)
    await store.audit(recording.recording_id, "viewed", _actor(claims))
    return json_response(describe(recording, manifest) | {
        "audit": await store.audit_log(recording.recording_id)})


def describe(recording: Recording, manifest: dict[str, Any] | None) -> dict[str, Any]:
    """The recording's public state with its files, durations and custody check."""
    files = list((manifest or {}).get("files", []))
    for entry in files:
        start, end = entry.get("start_ms"), entry.get("end_ms")
        entry["duration_ms"] = end - start if isinstance(start, int) and \
            isinstance(end, int) else None
    chain = list((manifest or {}).get("chain", []))
    problem = verify_chain(chain)
    if manifest is None and recording.chain_head:
        problem = "manifest.json is missing or unreadable"
    head = chain[-1]["entry_hash"] if chain else None
    if problem is None and recording.chain_head and not recording.running \
            and head != recording.chain_head:
        problem = "the manifest's chain head differs from the one recorded in Redis"
    starts = [f["start_ms"] for f in files if isinstance(f.get("start_ms"), int)]
    ends = [f["end_ms"] for f in files if isinstance(f.get("end_ms"), int)]
    return recording.public() | {
        "duration_ms": max(ends) - min(starts) if starts and ends else 0,
        "files": files, "segments": (manifest or {}).get("segments", []),
        "custody": {"chain_ok": problem is None, "problem": problem, "chain_head": head,
                    "entries": len(chain)}}


async def download_file(request: web.Request) -> web.StreamResponse:
    claims, recording = await _authorized(request)
    directory = _root(request) / recording.recording_id
    name = request.match_info["name"]
    path = inside(directory, name)
    manifest = await asyncio.get_running_loop().run_in_executor(None, read_manifest, directory)
    listed = {f.get("name") for f in (manifest or {}).get("files", [])} | {MANIFEST}
    if name not in listed or not path.is_file():
        raise SignalingError("not_found", f"no file {name!r} in this recording")
    await _store(request).audit(recording.recording_id, "downloaded", _actor(claims),
                                name=name, range=request.headers.get("Range"))
    content_type = "application/json" if name.endswith(".json") else \
        "video/webm" if name.endswith(".webm") else \
        "video/mp4" if name.endswith(".mp4") else "video/x-matroska"
    return web.FileResponse(path, headers={"Content-Type": content_type,
                                           "Cache-Control": "no-store"})


async def delete(request: web.Request) -> web.Response:
    claims, recording = await _authorized(request)
    if recording.running:
        raise SignalingError("conflict", "stop the recording before deleting it")
    await delete_recording(_store(request), _root(request), recording, _actor(claims))
    return web.Response(status=204)


def add_routes(app: web.Application) -> None:
    app.router.add_post("/api/rooms/{room_id}/recordings", start_recording)
    app.router.add_get("/api/rooms/{room_id}/recordings", list_recordings)
    app.router.add_put("/api/rooms/{room_id}/recording-settings", put_settings)
    app.router.add_post("/api/recordings/{recording_id}/stop", stop_recording)
    app.router.add_get("/api/recordings/{recording_id}", get_recording)
    app.router.add_get("/api/recordings/{recording_id}/files/{name}", download_file)
    app.router.add_delete("/api/recordings/{recording_id}", delete)
    add_composite_routes(app)  # POST/GET /api/recordings/{id}/composite (recorder/composite/)


__all__ = ["add_routes", "describe"]
