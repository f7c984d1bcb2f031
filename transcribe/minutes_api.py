"""REST for minutes (docs/API.md "Transcripts and minutes") and the minutes page.

Auth:
- `POST /api/minutes` (minutes of any transcript or audio/video file): a valid token of any
  room with the `admin` grant (it costs CPU, so guests may not).
- `GET /api/rooms/{room_id}/minutes`: a token of the room; `admin` sees the draft, everyone
  else only published minutes (404 `not_found` until then).
- `POST .../minutes` (regenerate), `PUT .../minutes` (edit), `POST .../minutes/publish`:
  the room's `admin` grant (the host token)."""

from __future__ import annotations

import asyncio
import json
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from aiohttp import BodyPartReader, web

from signaling.appkeys import CONFIG, IDENTITY, NODE
from signaling.errors import SignalingError
from signaling.http_util import bearer, json_response, read_body, room_claims
from signaling.rooms import check_room_id
from signaling.tokens import Claims, verify_token
from transcribe.minutes.build import Options, build_minutes
from transcribe.minutes.docx import MIME as DOCX_MIME
from transcribe.minutes.docx import to_docx
from transcribe.minutes.edit import EditError, apply_edit
from transcribe.minutes.model import Transcript, TranscriptError, parse_transcript
from transcribe.minutes.recognise import MediaError, recognise_file
from transcribe.minutes.render import to_html, to_markdown
from transcribe.minutes.rules import RuleBook, RulesError
from transcribe.minutes.source import room_transcript
from transcribe.minutes.store import MinutesStore
from transcribe.models import ModelError, ModelSet, model_paths

FORMATS = ("json", "md", "html", "docx")
FIELD_BYTES = 4096  # language, date, title fields of a multipart upload
CHUNK = 256 * 1024
STATIC = Path(__file__).resolve().parent.parent / "web" / "static"


class MinutesService:
    """Per-app state: rules (jieba loaded once), vosk models, the threads that run them."""

    def __init__(self, app: web.Application) -> None:
        tc = app[CONFIG].transcribe
        self.rules = RuleBook()
        self.models = ModelSet(model_paths(tc))
        self.options = Options(pause_ms=tc.minutes_pause_ms)
        self.executor = ThreadPoolExecutor(max_workers=tc.minutes_max_recognitions + 1,
                                           thread_name_prefix="minutes")
        self.recognitions = asyncio.Semaphore(tc.minutes_max_recognitions)

    async def build(self, transcript: Transcript) -> dict[str, Any]:
        """Minutes in a thread: jieba and TextRank are CPU work, never on the loop."""
        def run() -> dict[str, Any]:
            return build_minutes(transcript, self.rules.get(transcript.language), self.options)
        try:
            return await asyncio.get_running_loop().run_in_executor(self.executor, run)
        except RulesError as exc:
            raise SignalingError("bad_request", str(exc)) from None

    def labels(self, language: str) -> dict[str, Any]:
        try:
            return self.rules.get(language).table("labels")
        except RulesError:
            return {}


SERVICE = web.AppKey("minutes_service", MinutesService)


def add_routes(app: web.Application) -> None:
    async def service_ctx(app: web.Application):  # type: ignore[no-untyped-def]
        app[SERVICE] = MinutesService(app)
        yield
        app[SERVICE].executor.shutdown(wait=False, cancel_futures=True)

    app.cleanup_ctx.append(service_ctx)
    app.router.add_post("/api/minutes", post_minutes)
    app.router.add_get("/api/rooms/{room_id}/minutes", get_room_minutes)
    app.router.add_post("/api/rooms/{room_id}/minutes", regenerate)
    app.router.add_put("/api/rooms/{room_id}/minutes", put_room_minutes)
    app.router.add_post("/api/rooms/{room_id}/minutes/publish", publish)
    app.router.add_get("/minutes/{room_id}", minutes_page)


# POST /api/minutes ------------------------------------------------------------------------

async def post_minutes(request: web.Request) -> web.Response:
    claims = verify_token(request.app[IDENTITY].secret, bearer(request))
    if not claims.allows("admin"):
        raise SignalingError("forbidden", "making minutes needs a token with the admin grant")
    if request.content_type.startswith("multipart/form-data"):
        transcript = await _from_upload(request)
    else:  # a JSON transcript, whatever the client called its type
        transcript = await _from_json(request)
    return json_response(await request.app[SERVICE].build(transcript))


async def _from_json(request: web.Request) -> Transcript:
    tc = request.app[CONFIG].transcribe
    body = await read_body(request, tc.minutes_max_json_bytes)
    try:
        data = json.loads(body)
    except ValueError as exc:
        raise SignalingError("bad_json", f"body is not valid JSON: {exc}") from None
    if not isinstance(data, dict):
        raise SignalingError("bad_json", "body must be a JSON object")
    if isinstance(data.get("segments"), list) and len(data["segments"]) > tc.minutes_max_segments:
        raise SignalingError("too_large", f"more than {tc.minutes_max_segments} segments "
                             "(transcribe.minutes_max_segments)")
    try:
        return parse_transcript(data, tc.minutes_max_segments)
    except TranscriptError as exc:
        raise SignalingError("bad_request", str(exc)) from None


async def _from_upload(request: web.Request) -> Transcript:
    """Stream the file part to a temporary file (bounded), then recognise it in a thread."""
    tc = request.app[CONFIG].transcribe
    limit = tc.minutes_max_upload_bytes
    if request.content_length is not None and request.content_length > limit + 64 * 1024:
        raise SignalingError("too_large", f"file is larger than {limit} bytes "
                             "(transcribe.minutes_max_upload_bytes)")
    service = request.app[SERVICE]
    if service.recognitions.locked():
        raise SignalingError("unavailable", "recognising other files; try again later")
    async with service.recognitions:
        with tempfile.TemporaryDirectory(prefix="cp-minutes-") as tmp:
            path = Path(tmp) / "upload"
            fields = await _read_form(request, path, limit)
            # No language: the configured model's (transcribe.lang).
            body = {"language": fields.get("language") or tc.lang,
                    "date": fields.get("date", ""),
                    "title": fields.get("title", ""), "segments": [{"text": "", "start": 0,
                                                                   "end": 0}]}
            try:  # check the fields before spending minutes on recognition
                parse_transcript(body, 1)
            except TranscriptError as exc:
                raise SignalingError("bad_request", str(exc)) from None
            language = str(body["language"]).lower()
            try:
                recognised = await asyncio.get_running_loop().run_in_executor(
                    service.executor, recognise_file, path, service.models, language,
                    tc.minutes_max_audio_s, fields.get("speaker") or "speaker")
            except MediaError as exc:
                code = "too_large" if "longer than" in str(exc) else "bad_request"
                raise SignalingError(code, str(exc)) from None
            except ModelError as exc:
                raise SignalingError("bad_request", str(exc)) from None
    body["segments"] = recognised.segments
    if not recognised.segments:
        raise SignalingError("bad_request", "no speech was recognised in the file")
    try:
        return parse_transcript(body, tc.minutes_max_segments)
    except TranscriptError as exc:
        raise SignalingError("bad_request", str(exc)) from None


async def _read_form(request: web.Request, path: Path, limit: int) -> dict[str, str]:
    reader = await request.multipart()
    fields: dict[str, str] = {}
    got_file = False
    while (part := await reader.next()) is not None:
        if not isinstance(part, BodyPartReader):
            raise SignalingError("bad_request", "nested multipart bodies are not accepted")
        if part.name == "file":
            await _save_part(part, path, limit)
            got_file = True
        elif part.name in ("language", "date", "title", "speaker"):
            data = await part.read_chunk(FIELD_BYTES + 1)
            if len(data) > FIELD_BYTES:
                raise SignalingError("too_large", f"field {part.name!r} is too long")
            fields[part.name] = data.decode("utf-8", "replace").strip()
        else:
            raise SignalingError("bad_request", f"unknown form field {str(part.name)[:40]!r}")
    if not got_file:
        raise SignalingError("bad_request", "the form has no 'file' field")
    return fields


async def _save_part(part: BodyPartReader, path: Path, limit: int) -> None:
    loop = asyncio.get_running_loop()
    size = 0
    handle = await loop.run_in_executor(None, path.open, "wb")
    try:
        while chunk := await part.read_chunk(CHUNK):
            size += len(chunk)
            if size > limit:
                raise SignalingError("too_large", f"file is larger than {limit} bytes "
                                     "(transcribe.minutes_max_upload_bytes)")
            await loop.run_in_executor(None, handle.write, chunk)
    finally:
        await loop.run_in_executor(None, handle.close)


# Room minutes ------------------------------------------------------------------------------

async def _room(request: web.Request, grant: str | None = None) -> tuple[str, Claims, str]:
    room_id = check_room_id(request.match_info["room_id"])
    claims = room_claims(request, request.app[IDENTITY].secret, room_id, grant)
    record = await request.app[NODE].services.store.get_room(room_id)
    if record is None:
        raise SignalingError("room_not_found", f"no room {room_id!r}")
    return room_id, claims, record.name


def _store(request: web.Request) -> MinutesStore:
    return MinutesStore(request.app[NODE].services.store.redis)


def _actor(claims: Claims) -> str:
    return claims.identity if claims.name == claims.identity else f"{claims.identity} ({claims.name})"


async def make_room_minutes(app: web.Application | None, service: MinutesService, redis: Any,
                            room_id: str, room_name: str, default_lang: str,
                            language: str | None = None) -> dict[str, Any]:
    transcript = await room_transcript(redis, room_id, room_name, default_lang, language)
    if not transcript.segments:
        raise SignalingError("not_found", "the room has no transcript yet")
    return await service.build(transcript)


async def get_room_minutes(request: web.Request) -> web.StreamResponse:
    fmt = request.query.get("format", "json")
    if fmt not in FORMATS:
        raise SignalingError("bad_request", f"format must be one of {', '.join(FORMATS)}")
    room_id, claims, _ = await _room(request)
    stored = await _store(request).get(room_id)
    admin = claims.allows("admin")
    which = request.query.get("version", "draft" if admin else "published")
    if which not in ("draft", "published"):
        raise SignalingError("bad_request", "version must be draft or published")
    if which == "draft" and not admin:
        raise SignalingError("forbidden", "drafts are for the host (admin grant) only")
    if which not in stored:
        raise SignalingError("not_found", f"the room has no {which} minutes")
    minutes = json.loads(stored[which])
    minutes["status"] = "published" if which == "published" else "draft"
    minutes["revision"] = int(stored.get("revision", "0"))
    minutes["published"] = "published" in stored
    return _render(request, room_id, minutes, fmt)


def _render(request: web.Request, room_id: str, minutes: dict[str, Any],
            fmt: str) -> web.StreamResponse:
    labels = request.app[SERVICE].labels(str(minutes.get("language", "en")))
    name = f'attachment; filename="minutes-{room_id}.{fmt}"'
    if fmt == "md":
        return web.Response(text=to_markdown(minutes, labels), content_type="text/markdown",
                            charset="utf-8", headers={"Content-Disposition": name})
    if fmt == "html":
        return web.Response(text=to_html(minutes, labels), content_type="text/html",
                            charset="utf-8", headers={"Content-Disposition": name,
                                                      "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'"})
    if fmt == "docx":
        return web.Response(body=to_docx(minutes, labels), content_type=DOCX_MIME,
                            headers={"Content-Disposition": name})
    return json_response(minutes)


async def regenerate(request: web.Request) -> web.Response:
    """Make the draft again from the stored transcript (replaces an edited draft too)."""
    room_id, claims, name = await _room(request, "admin")
    body = await read_body(request, 4096)
    language = None
    if body.strip():
        try:
            data = json.loads(body)
        except ValueError as exc:
            raise SignalingError("bad_json", f"body is not valid JSON: {exc}") from None
        language = data.get("language") if isinstance(data, dict) else None
        if language is not None and not isinstance(language, str):
            raise SignalingError("bad_request", "language must be a string")
    tc = request.app[CONFIG].transcribe
    minutes = await make_room_minutes(request.app, request.app[SERVICE],
                                      request.app[NODE].services.store.redis, room_id, name,
                                      tc.lang, language)
    revision = await _store(request).save_draft(room_id, minutes, _actor(claims), edited=False)
    return json_response({**minutes, "status": "draft", "revision": revision}, status=201)


async def put_room_minutes(request: web.Request) -> web.Response:
    room_id, claims, _ = await _room(request, "admin")
    tc = request.app[CONFIG].transcribe
    body = await read_body(request, tc.minutes_max_json_bytes)
    try:
        edit = json.loads(body)
    except ValueError as exc:
        raise SignalingError("bad_json", f"body is not valid JSON: {exc}") from None
    store = _store(request)
    stored = await store.get(room_id)
    if "draft" not in stored:
        raise SignalingError("not_found", "the room has no minutes to edit yet")
    try:
        minutes = apply_edit(json.loads(stored["draft"]), edit)
    except EditError as exc:
        raise SignalingError("bad_request", str(exc)) from None
    revision = await store.save_draft(room_id, minutes, _actor(claims), edited=True)
    return json_response({**minutes, "status": "draft", "revision": revision})


async def publish(request: web.Request) -> web.Response:
    room_id, claims, _ = await _room(request, "admin")
    await read_body(request, 4096)
    tc = request.app[CONFIG].transcribe
    minutes = await _store(request).publish(room_id, _actor(claims), tc.minutes_stream_maxlen)
    if minutes is None:
        raise SignalingError("not_found", "the room has no minutes to publish")
    return json_response({**minutes, "status": "published"})


async def minutes_page(request: web.Request) -> web.FileResponse:
    check_room_id(request.match_info["room_id"])
    return web.FileResponse(STATIC / "minutes.html", headers={"Cache-Control": "no-cache"})
