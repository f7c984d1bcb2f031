"""A room's transcript as the live transcriber stored it (transcribe/store.py), turned into
the `Transcript` minutes are made from: segments, language, start, attendees with their join
and leave times, the room's name as title, and the room's recording if the recorder made one.

The recording is looked up through the recorder's Redis records only (`cp:rec:room:{room}`,
`cp:rec:{rid}`); without a recorder or a recording the minutes simply carry no recording."""

from __future__ import annotations

import logging
from datetime import datetime, timezone
from typing import Any

import redis.asyncio as aioredis

from transcribe.minutes.model import Attendee, Segment, Transcript, TranscriptError, parse_segment
from transcribe.store import TranscriptStore

log = logging.getLogger(__name__)


def _iso(ms: float) -> str:
    return datetime.fromtimestamp(ms / 1000, timezone.utc).isoformat(timespec="seconds")


async def room_transcript(redis: aioredis.Redis, room_id: str, room_name: str,
                          default_lang: str, language: str | None = None) -> Transcript:
    store = TranscriptStore(redis)
    meta = await store.meta(room_id)
    raw = await store.segments(room_id)
    segments = _segments(raw)
    started_ms = int(meta.get("started_at_ms") or 0) or (
        min((int(s.get("start_at_ms", 0)) for s in raw), default=0))
    lang = language or meta.get("lang") or default_lang
    attendees = _attendees(await store.attendance(room_id))
    recording = await _recording(redis, room_id, started_ms)
    # The server's local time zone: "明天上午九点" means nine in the morning where people are.
    started = datetime.fromtimestamp(started_ms / 1000, timezone.utc).astimezone()
    return Transcript(segments, lang.lower(), started,
                      title=room_name, room_id=room_id, attendees=attendees,
                      recording=recording)


def _segments(raw: list[dict[str, Any]]) -> list[Segment]:
    out = []
    for i, item in enumerate(raw):
        words = [{"word": w.get("w", w.get("word")), "start_ms": w.get("start_ms"),
                  "end_ms": w.get("end_ms")} for w in item.get("words") or []
                 if isinstance(w, dict)]
        try:
            out.append(parse_segment({**item, "words": words}, i))
        except TranscriptError as exc:
            log.warning("skipping stored segment %s: %s", item.get("id"), exc)
    return out


def _attendees(events: list[dict[str, Any]]) -> list[Attendee]:
    """First join and last leave of each participant (a rejoin extends their stay)."""
    seen: dict[str, dict[str, Any]] = {}
    for e in events:
        pid = str(e.get("participant_id", ""))
        entry = seen.setdefault(pid, {"name": str(e.get("name", "")), "joined": None,
                                      "left": None})
        at = e.get("at_ms")
        if not isinstance(at, (int, float)):
            continue
        if e.get("event") == "join":
            entry["joined"] = entry["joined"] if entry["joined"] is not None else at
            entry["left"] = None
        elif e.get("event") == "leave":
            entry["left"] = at
    return [Attendee(v["name"] or pid, pid, _iso(v["joined"]) if v["joined"] else None,
                     _iso(v["left"]) if v["left"] else None) for pid, v in seen.items()]


async def _recording(redis: aioredis.Redis, room_id: str, started_ms: int) -> dict[str, Any] | None:
    """The room's first recording that still exists, with where the meeting starts in it."""
    ids = await redis.zrange(f"cp:rec:room:{room_id}", 0, -1)
    for rid in ids:
        rid = rid.decode() if isinstance(rid, bytes) else str(rid)
        data = await redis.hgetall(f"cp:rec:{rid}")
        data = {(k.decode() if isinstance(k, bytes) else k):
                (v.decode() if isinstance(v, bytes) else v) for k, v in data.items()}
        if not data or data.get("state") == "deleted":
            continue
        rec_start_ms = int(float(data.get("started_at", 0) or 0) * 1000)
        return {"recording_id": rid, "api": f"/api/recordings/{rid}",
                "player": f"/minutes/{room_id}",
                # seconds into the recording where the transcript's 0 ms is
                "offset_s": round(max(0, started_ms - rec_start_ms) / 1000, 3)}
    return None
