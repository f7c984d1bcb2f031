"""REST: a room's transcript (JSON, SRT, text), switching transcription on and off, and
word search across meetings (docs/API.md "Transcripts and minutes")."""

from __future__ import annotations

import asyncio
import hmac
import re
from typing import Any

from aiohttp import web

from signaling.appkeys import CONFIG, IDENTITY, NODE
from signaling.errors import SignalingError
from signaling.http_util import json_response, read_json, room_claims
from signaling.rooms import check_room_id
from transcribe.config import LANG_RE, TranscribeConfig
from transcribe.formats import to_srt, to_txt
from transcribe.models import model_paths
from transcribe.switch import switch
from transcribe.search import tokenize
from transcribe.store import TranscriptStore

FORMATS = {"json", "srt", "txt"}


def add_routes(app: web.Application) -> None:
    app.router.add_get("/api/rooms/{room_id}/transcript", get_transcript)
    app.router.add_get("/api/rooms/{room_id}/transcription", get_transcription)
    app.router.add_put("/api/rooms/{room_id}/transcription", put_transcription)
    app.router.add_get("/api/search", search)


def _store(request: web.Request) -> TranscriptStore:
    return TranscriptStore(request.app[NODE].services.store.redis)


async def _room(request: web.Request, grant: str | None = None) -> str:
    """The checked room id of the path, after checking the bearer token for it."""
    room_id = check_room_id(request.match_info["room_id"])
    room_claims(request, request.app[IDENTITY].secret, room_id, grant)
    if await request.app[NODE].services.store.get_room(room_id) is None:
        raise SignalingError("room_not_found", f"no room {room_id!r}")
    return room_id


async def get_transcript(request: web.Request) -> web.StreamResponse:
    fmt = request.query.get("format", "json")
    if fmt not in FORMATS:
        raise SignalingError("bad_request", f"format must be one of {', '.join(sorted(FORMATS))}")
    room_id = await _room(request)
    store = _store(request)
    segments = await store.segments(room_id)
    if fmt == "srt":
        return web.Response(text=to_srt(segments), content_type="application/x-subrip",
                            charset="utf-8", headers=_attachment(room_id, "srt"))
    if fmt == "txt":
        return web.Response(text=to_txt(segments), content_type="text/plain",
                            charset="utf-8", headers=_attachment(room_id, "txt"))
    meta = await store.meta(room_id)
    return json_response({"room_id": room_id, **_meta_json(meta), "segments": segments,
                          "attendance": await store.attendance(room_id)})


def _attachment(room_id: str, ext: str) -> dict[str, str]:
    return {"Content-Disposition": f'inline; filename="transcript-{room_id}.{ext}"'}


def _meta_json(meta: dict[str, str]) -> dict[str, Any]:
    def number(name: str) -> int | None:
        return int(meta[name]) if meta.get(name) else None
    return {"status": meta.get("status", "off"), "lang": meta.get("lang"),
            "started_at_ms": number("started_at_ms"), "ended_at_ms": number("ended_at_ms")}


async def get_transcription(request: web.Request) -> web.Response:
    room_id = await _room(request)
    return json_response(await _state(request, room_id))


async def _state(request: web.Request, room_id: str) -> dict[str, Any]:
    config = request.app[CONFIG].transcribe
    store = _store(request)
    settings = await store.settings(room_id, config.lang, config.phrases)
    enabled = settings.enabled if settings else config.auto_start
    return {"room_id": room_id, "enabled": enabled,
            "lang": settings.lang if settings else config.lang,
            "phrases": list(settings.phrases if settings else config.phrases),
            "languages": sorted(model_paths_or_empty(config)),
            **_meta_json(await store.meta(room_id))}


def model_paths_or_empty(config: TranscribeConfig) -> dict[str, Any]:
    try:
        return model_paths(config)
    except ValueError:
        return {}


async def put_transcription(request: web.Request) -> web.Response:
    room_id = await _room(request, grant="admin")
    config = request.app[CONFIG].transcribe
    body = await read_json(request)
    enabled, lang, phrases = _parse_settings(body, config)
    record = await request.app[NODE].services.store.get_room(room_id)
    # Open now (a node holds it): a job at once; else the job starts when the room opens.
    await switch(_store(request), room_id, enabled, bool(record and record.node), lang,
                 phrases)
    return json_response(await _state(request, room_id))


def _parse_settings(body: dict[str, Any], config: TranscribeConfig
                    ) -> tuple[bool, str | None, list[str] | None]:
    enabled = body.get("enabled")
    if not isinstance(enabled, bool):
        raise SignalingError("bad_request", "enabled must be true or false")
    lang = body.get("lang")
    if lang is not None:
        if not isinstance(lang, str) or not re.fullmatch(LANG_RE, lang):
            raise SignalingError("bad_request", "lang must be a language code such as 'ko'")
        if lang not in model_paths_or_empty(config):
            raise SignalingError("bad_request", f"no vosk model is configured for {lang!r}")
    phrases = body.get("phrases")
    if phrases is not None:
        if not isinstance(phrases, list) or not all(isinstance(p, str) for p in phrases):
            raise SignalingError("bad_request", "phrases must be a list of strings")
        if len(phrases) > config.max_phrases:
            raise SignalingError("bad_request", f"phrases has {len(phrases)} entries; "
                                 f"transcribe.max_phrases is {config.max_phrases}")
        for phrase in phrases:
            if not phrase.strip() or len(phrase) > config.max_phrase_chars:
                raise SignalingError("bad_request", "each phrase must be 1 to "
                                     f"{config.max_phrase_chars} characters")
    return enabled, lang, phrases


async def search(request: web.Request) -> web.Response:
    """Segments holding every word of `q`. With `room_id`: a token for that room; across
    meetings: the server's api_key (refused when none is configured)."""
    config = request.app[CONFIG]
    query = request.query.get("q", "")
    if not query.strip():
        raise SignalingError("bad_request", "q (the words to find) is required")
    if len(query) > config.transcribe.max_query_chars:
        raise SignalingError("bad_request", f"q is longer than "
                             f"{config.transcribe.max_query_chars} characters")
    room_id = request.query.get("room_id")
    if room_id is not None:
        room_id = check_room_id(room_id)
        room_claims(request, request.app[IDENTITY].secret, room_id)
    else:
        _check_api_key(request, config.server.api_key)
    tokens = await asyncio.get_running_loop().run_in_executor(None, tokenize, query)
    hits = await _find(_store(request), tokens, room_id, config.transcribe.max_search_results)
    return json_response({"q": query, "tokens": tokens, "results": hits})


def _check_api_key(request: web.Request, api_key: str) -> None:
    if not api_key:
        raise SignalingError("forbidden", "searching across meetings needs server.api_key "
                             "to be set; without it, search one room with room_id")
    given = request.headers.get("Authorization", "")
    if not hmac.compare_digest(given.encode(), f"Bearer {api_key}".encode()):
        raise SignalingError("auth_failed", "searching across meetings needs "
                             "'Authorization: Bearer <api_key>'")


async def _find(store: TranscriptStore, tokens: list[str], room_id: str | None,
                limit: int) -> list[dict[str, Any]]:
    if not tokens:
        return []
    common: set[str] | None = None
    for token in tokens:
        found = set(await store.postings(token))
        if room_id is not None:
            found = {p for p in found if p.startswith(room_id + "/")}
        common = found if common is None else common & found
        if not common:
            return []
    segments = await store.segments_by_posting(sorted(common or ()))
    segments.sort(key=lambda s: s["start_at_ms"], reverse=True)
    return [_hit(seg, tokens) for seg in segments[:limit]]


def _hit(seg: dict[str, Any], tokens: list[str]) -> dict[str, Any]:
    matched = [w for w in seg["words"] if any(t in w["w"].lower() for t in tokens)]
    return {"room_id": seg["room_id"], "segment_id": seg["id"],
            "speaker_id": seg["speaker_id"], "speaker": seg["speaker"],
            "start_ms": seg["start_ms"], "end_ms": seg["end_ms"],
            "start_at_ms": seg["start_at_ms"], "text": seg["text"],
            "at_ms": matched[0]["start_ms"] if matched else seg["start_ms"]}
