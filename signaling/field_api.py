"""REST for the field: latest locations and photo reports of a room (docs/API.md)."""

from __future__ import annotations

import time
from typing import Any

from aiohttp import BodyPartReader, web

from signaling.appkeys import CONFIG, IDENTITY, NODE
from signaling.errors import SignalingError
from signaling.http_util import bearer, json_response, room_claims
from signaling.locations import LocationStore, check_number
from signaling.reports import (MAX_LIST, PHOTO_TYPES, PhotoSigner, Report, ReportStore,
                               new_report_id, photo_type)
from signaling.rooms import check_room_id
from signaling.store import ParticipantRecord, participants_key
from signaling.tokens import Claims, verify_token

FORM_OVERHEAD = 64 * 1024  # multipart headers and the small text fields
TEXT_FIELD_BYTES = 16 * 1024
CHUNK = 64 * 1024
FIELDS = ("photo", "note", "lat", "lon", "accuracy_m")


def _signer(request: web.Request) -> PhotoSigner:
    return PhotoSigner(request.app[IDENTITY].secret, request.app[CONFIG].reports.photo_url_ttl_s)


def _reports(request: web.Request) -> ReportStore:
    redis = request.app[NODE].services.store.redis
    return ReportStore(redis, request.app[IDENTITY].data_dir)


async def _existing_room(request: web.Request) -> str:
    room_id = check_room_id(request.match_info["room_id"])
    if await request.app[NODE].services.store.get_room(room_id) is None:
        raise SignalingError("room_not_found", f"no room {room_id!r}")
    return room_id


async def get_locations(request: web.Request) -> web.Response:
    room_id = check_room_id(request.match_info["room_id"])
    room_claims(request, request.app[IDENTITY].secret, room_id)
    room_id = await _existing_room(request)
    locations = await LocationStore(request.app[NODE].services.store.redis).list(room_id)
    return json_response({"locations": [loc.to_json() for loc in locations]})


async def get_reports(request: web.Request) -> web.Response:
    room_id = check_room_id(request.match_info["room_id"])
    room_claims(request, request.app[IDENTITY].secret, room_id)
    room_id = await _existing_room(request)
    limit_text = request.query.get("limit", str(MAX_LIST))
    if not limit_text.isdigit() or not 1 <= int(limit_text) <= MAX_LIST:
        raise SignalingError("bad_request", f"limit must be an integer 1..{MAX_LIST}")
    signer, now = _signer(request), time.time()
    reports = await _reports(request).list(room_id, int(limit_text))
    return json_response({"reports": [
        r.to_json(signer.url(room_id, r.report_id, now)) for r in reports]})


async def get_photo(request: web.Request) -> web.FileResponse:
    """The photo, for a signed URL (an <img>) or a bearer token of the room."""
    room_id = check_room_id(request.match_info["room_id"])
    report_id = request.match_info["report_id"]
    query = request.query
    if "sig" in query and "Authorization" not in request.headers:
        if not _signer(request).valid(room_id, report_id, query.get("exp", ""), query["sig"],
                                      time.time()):
            raise SignalingError("auth_failed", "photo link is invalid or has expired")
    else:
        room_claims(request, request.app[IDENTITY].secret, room_id)
    path = _reports(request).find_photo(room_id, report_id)
    if path is None:
        raise SignalingError("not_found", f"no photo for report {report_id[:32]!r}")
    return web.FileResponse(path, headers={
        "Content-Type": PHOTO_TYPES[path.suffix[1:]], "X-Content-Type-Options": "nosniff",
        "Cache-Control": "private, max-age=3600"})


async def post_report(request: web.Request) -> web.Response:
    room_id = check_room_id(request.match_info["room_id"])
    claims = verify_token(request.app[IDENTITY].secret, bearer(request), room_id)
    if not (claims.allows("publish") or claims.allows("publish_data")):
        raise SignalingError("forbidden", "reports need the publish or publish_data grant")
    node = request.app[NODE]
    record = await node.services.store.get_room(room_id)
    if record is None:
        raise SignalingError("room_not_found", f"no room {room_id!r}")
    local = node.rooms.get(room_id)
    if local is None and record.node and record.node != node.node_id \
            and await node.services.store.node_url(record.node) is not None:
        raise await node.wrong_node(record.node)  # its members hear the broadcast there
    limits = request.app[CONFIG].reports
    if request.content_length is not None and \
            request.content_length > limits.max_photo_bytes + FORM_OVERHEAD:
        raise SignalingError("too_large", f"photo is larger than {limits.max_photo_bytes} bytes")
    store = _reports(request)
    await _check_room_space(store, room_id, limits.max_per_room)
    form = await _read_form(request, limits.max_photo_bytes)
    report = await _make_report(request, claims, room_id, form, limits.max_note_chars)
    await _check_room_space(store, room_id, limits.max_per_room)  # others uploaded meanwhile
    await store.add(report, form["photo"])
    body = report.to_json(_signer(request).url(room_id, report.report_id, time.time()))
    message = {"type": "report", "report": body}
    if local is not None:
        local.broadcast(message)
    await node.services.store.publish_event(room_id, message)
    return json_response(body, status=201)


async def _check_room_space(store: ReportStore, room_id: str, limit: int) -> None:
    if await store.count(room_id) >= limit:
        raise SignalingError("limit_reached", f"the room has {limit} reports, the most it keeps")


async def _read_form(request: web.Request, max_photo: int) -> dict[str, Any]:
    """The multipart fields, each bounded while it is read (never the whole body at once)."""
    if not request.content_type.startswith("multipart/form-data"):
        raise SignalingError("bad_request", "send the report as multipart/form-data")
    try:
        reader = await request.multipart()
        form: dict[str, Any] = {}
        while (part := await reader.next()) is not None:
            if not isinstance(part, BodyPartReader) or part.name not in FIELDS:
                raise SignalingError("bad_request", f"unexpected form field {part.name!r}; "
                                     f"known: {', '.join(FIELDS)}")
            if part.name in form:
                raise SignalingError("bad_request", f"form field {part.name!r} appears twice")
            if part.name == "photo":
                form["photo"] = await _read_part(part, max_photo, "photo")
            else:
                raw = await _read_part(part, TEXT_FIELD_BYTES, part.name)
                try:
                    form[part.name] = raw.decode("utf-8")
                except UnicodeDecodeError:
                    raise SignalingError("bad_request",
                                         f"{part.name!r} is not UTF-8 text") from None
    except (ValueError, AssertionError) as exc:  # aiohttp's multipart parser on a bad body
        raise SignalingError("bad_request", f"malformed multipart body: {exc}") from None
    if not form.get("photo"):
        raise SignalingError("bad_request", "the report has no photo (form field 'photo')")
    return form


async def _read_part(part: BodyPartReader, limit: int, name: str) -> bytes:
    data = bytearray()
    while chunk := await part.read_chunk(CHUNK):
        data += chunk
        if len(data) > limit:
            what = "photo" if name == "photo" else f"form field {name!r}"
            raise SignalingError("too_large", f"{what} is larger than {limit} bytes")
    return bytes(data)


def _form_number(form: dict[str, Any], name: str, lo: float, hi: float) -> float | None:
    text = form.get(name, "").strip()
    if not text:
        return None
    try:
        value = float(text)
    except ValueError:
        raise SignalingError("bad_request", f"report: {name!r} must be a number") from None
    try:
        return check_number(value, name, lo, hi, "report")
    except SignalingError as exc:
        raise SignalingError("bad_request", exc.message) from None


async def _make_report(request: web.Request, claims: Claims, room_id: str,
                       form: dict[str, Any], max_note: int) -> Report:
    kind = photo_type(form["photo"][:16])
    note = form.get("note", "").strip()
    if len(note) > max_note:
        raise SignalingError("bad_request", f"note is longer than {max_note} characters")
    lat = _form_number(form, "lat", -90, 90)
    lon = _form_number(form, "lon", -180, 180)
    if (lat is None) != (lon is None):
        raise SignalingError("bad_request", "give both 'lat' and 'lon', or neither")
    participant_id, name = await _author(request, claims, room_id)
    return Report(report_id=new_report_id(), room_id=room_id, participant_id=participant_id,
                  name=name, note=note, lat=lat, lon=lon,
                  accuracy_m=_form_number(form, "accuracy_m", 0, 1_000_000),
                  ts=round(time.time(), 3), photo_type=kind)


async def _author(request: web.Request, claims: Claims, room_id: str) -> tuple[str | None, str]:
    """The participant the token names (the `token` of `joined` names its participant id)."""
    redis = request.app[NODE].services.store.redis
    raw = await redis.hget(participants_key(room_id), claims.identity)
    if raw is None:
        return None, claims.name
    return claims.identity, ParticipantRecord.from_json(raw).name


def add_routes(app: web.Application) -> None:
    app.router.add_get("/api/rooms/{room_id}/locations", get_locations)
    app.router.add_get("/api/rooms/{room_id}/reports", get_reports)
    app.router.add_post("/api/rooms/{room_id}/reports", post_report)
    app.router.add_get("/api/rooms/{room_id}/reports/{report_id}/photo", get_photo)
