"""REST for composites (docs/API.md "Recordings" / "Composite"): queue a build of a stopped
recording, and read its state. Same rule as the other recording routes: a token of the
recording's room with the `record` grant; each request is audited. Nothing here decodes
or encodes: the build runs in a recorder worker (job.py)."""

from __future__ import annotations

from aiohttp import web

from recorder.composite.job import enqueue_composite
from recorder.store import Recording, RecordingStore, check_recording_id
from signaling.appkeys import IDENTITY, NODE
from signaling.errors import SignalingError
from signaling.http_util import bearer, json_response
from signaling.tokens import Claims, verify_token

GRANT = "record"


async def _authorized(request: web.Request) -> tuple[Claims, Recording, RecordingStore]:
    claims = verify_token(request.app[IDENTITY].secret, bearer(request))
    if not claims.allows(GRANT):
        raise SignalingError("forbidden", f"token lacks the {GRANT!r} grant")
    rid = check_recording_id(request.match_info["recording_id"])
    store = RecordingStore(request.app[NODE].services.store.redis)
    recording = await store.get(rid)
    if recording is None or recording.room_id != claims.room_id \
            or recording.state == "deleted":
        raise SignalingError("not_found", "no such recording")
    return claims, recording, store


def _actor(claims: Claims) -> str:
    return claims.identity if claims.name == claims.identity \
        else f"{claims.identity} ({claims.name})"


async def _status(store: RecordingStore, rid: str) -> dict[str, str | None]:
    fields = await store.redis.hmget(f"cp:rec:{rid}", "composite_state", "composite_file",
                                     "composite_error", "composite_at")
    state, name, error, at = (value or None for value in fields)
    return {"recording_id": rid, "state": state or "none", "file": name, "error": error,
            "updated_at": float(at) if at else None}


async def request_composite(request: web.Request) -> web.Response:
    """202: queued. 409: the recording is still running, or a build is already queued or
    under way."""
    claims, recording, store = await _authorized(request)
    if recording.running:
        raise SignalingError("conflict", "stop the recording before composing it")
    current = await _status(store, recording.recording_id)
    if current["state"] in ("queued", "building"):
        raise SignalingError("conflict", f"a composite is already {current['state']}")
    await enqueue_composite(store, recording.recording_id, _actor(claims))
    return json_response(await _status(store, recording.recording_id), status=202)


async def composite_status(request: web.Request) -> web.Response:
    _claims, recording, store = await _authorized(request)
    return json_response(await _status(store, recording.recording_id))


def add_composite_routes(app: web.Application) -> None:
    app.router.add_post("/api/recordings/{recording_id}/composite", request_composite)
    app.router.add_get("/api/recordings/{recording_id}/composite", composite_status)
