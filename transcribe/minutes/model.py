"""What minutes are made from: a transcript (segments with speakers and times), its language,
the meeting's start, attendees and an optional recording. Parsed and checked here from the
JSON of `POST /api/minutes` and from the live transcript in Redis."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

MAX_TEXT_CHARS = 4000  # one segment's text
DATE_KEYS = ("date", "meeting_date", "started_at", "start_time", "datetime")
_ID = re.compile(r"^[A-Za-z0-9_.:-]{1,64}$")


class TranscriptError(ValueError):
    """The transcript given is malformed (its message says where)."""


@dataclass(frozen=True)
class Word:
    text: str
    start_ms: int
    end_ms: int


@dataclass(frozen=True)
class Segment:
    id: str
    speaker: str
    start_ms: int
    end_ms: int
    text: str
    speaker_id: str = ""
    words: tuple[Word, ...] = ()


@dataclass(frozen=True)
class Attendee:
    name: str
    id: str = ""
    joined_at: str | None = None  # ISO datetimes
    left_at: str | None = None


@dataclass
class Transcript:
    segments: list[Segment]
    language: str
    started_at: datetime
    title: str = ""
    room_id: str = ""
    attendees: list[Attendee] = field(default_factory=list)
    # {"recording_id", "url"}: where the meeting's recording plays, if there is one.
    recording: dict[str, str] | None = None

    @property
    def duration_ms(self) -> int:
        if not self.segments:
            return 0
        return max(s.end_ms for s in self.segments) - min(s.start_ms for s in self.segments)


def guess_language(text: str) -> str:
    """zh for Chinese characters, ko for Hangul, else en (the languages with rules)."""
    han = sum("\u4e00" <= c <= "\u9fff" for c in text)
    hangul = sum("\uac00" <= c <= "\ud7a3" for c in text)
    letters = sum(c.isalpha() for c in text) or 1
    if han / letters > 0.2:
        return "zh"
    if hangul / letters > 0.2:
        return "ko"
    return "en"


def parse_datetime(value: Any, what: str) -> datetime:
    if not isinstance(value, str) or not value.strip():
        raise TranscriptError(f"{what} must be an ISO 8601 date or datetime string")
    try:
        parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        raise TranscriptError(f"{what} {value[:40]!r} is not an ISO 8601 date/datetime") from None
    return parsed


def _millis(item: dict[str, Any], name: str, index: int) -> int:
    """`start`/`end` in seconds, or `start_ms`/`end_ms` in milliseconds."""
    if f"{name}_ms" in item:
        value, scale = item[f"{name}_ms"], 1.0
    else:
        value, scale = item.get(name), 1000.0
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value != value \
            or not 0 <= value * scale < 7 * 24 * 3600 * 1000:
        raise TranscriptError(f"segments[{index}].{name} must be a time in seconds "
                              f"(or {name}_ms in milliseconds) within a week")
    return int(round(value * scale))


def _words(raw: Any, index: int) -> tuple[Word, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, list):
        raise TranscriptError(f"segments[{index}].words must be a list")
    words = []
    for w in raw[:2000]:
        if not isinstance(w, dict) or not isinstance(w.get("word", w.get("text")), str):
            continue
        try:
            words.append(Word(str(w.get("word", w.get("text"))), _millis(w, "start", index),
                              _millis(w, "end", index)))
        except TranscriptError:
            continue  # words are an aid for cutting sentences, never required
    return tuple(words)


def parse_segment(item: Any, index: int) -> Segment:
    if not isinstance(item, dict):
        raise TranscriptError(f"segments[{index}] must be an object")
    text = item.get("text")
    if not isinstance(text, str):
        raise TranscriptError(f"segments[{index}].text must be a string")
    if len(text) > MAX_TEXT_CHARS:
        raise TranscriptError(f"segments[{index}].text is longer than {MAX_TEXT_CHARS} characters")
    speaker = item.get("speaker", "")
    if not isinstance(speaker, str) or len(speaker) > 100:
        raise TranscriptError(f"segments[{index}].speaker must be a string of at most 100 characters")
    start, end = _millis(item, "start", index), _millis(item, "end", index)
    if end < start:
        raise TranscriptError(f"segments[{index}] ends before it starts")
    seg_id = item.get("id", f"s{index}")
    seg_id = str(seg_id) if isinstance(seg_id, (str, int)) else f"s{index}"
    if not _ID.match(seg_id):
        raise TranscriptError(f"segments[{index}].id must be 1-64 letters, digits or _.:-")
    speaker_id = item.get("speaker_id", "")
    return Segment(seg_id, speaker.strip() or "?", start, end, text,
                   speaker_id if isinstance(speaker_id, str) else "",
                   _words(item.get("words"), index))


def parse_attendees(raw: Any) -> list[Attendee]:
    if raw is None:
        return []
    if not isinstance(raw, list):
        raise TranscriptError("attendees must be a list")
    out = []
    for i, a in enumerate(raw[:500]):
        if isinstance(a, str):
            a = {"name": a}
        if not isinstance(a, dict) or not isinstance(a.get("name"), str) or not a["name"].strip():
            raise TranscriptError(f"attendees[{i}] must be a name or an object with a name")
        out.append(Attendee(a["name"].strip()[:100], str(a.get("id", ""))[:64],
                            _opt_time(a.get("joined_at"), f"attendees[{i}].joined_at"),
                            _opt_time(a.get("left_at"), f"attendees[{i}].left_at")))
    return out


def _opt_time(value: Any, what: str) -> str | None:
    if value is None or value == "":
        return None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return datetime.fromtimestamp(float(value), timezone.utc).isoformat(timespec="seconds")
    return parse_datetime(value, what).isoformat(timespec="seconds")


def parse_transcript(data: dict[str, Any], max_segments: int) -> Transcript:
    """A Transcript from the JSON body of POST /api/minutes (docs/API.md)."""
    language = data.get("language", data.get("lang")) or ""
    if not isinstance(language, str):
        raise TranscriptError("language must be a string (e.g. \"zh\" or \"en\")")
    raw = data.get("segments")
    if not isinstance(raw, list) or not raw:
        raise TranscriptError("segments must be a non-empty list")
    if len(raw) > max_segments:
        raise TranscriptError(f"more than {max_segments} segments")
    date_value = next((data[k] for k in DATE_KEYS if data.get(k) is not None), None)
    started = parse_datetime(date_value, "date")
    title = data.get("title", "")
    if not isinstance(title, str) or len(title) > 200:
        raise TranscriptError("title must be a string of at most 200 characters")
    segments = sorted((parse_segment(item, i) for i, item in enumerate(raw)),
                      key=lambda s: (s.start_ms, s.end_ms))
    if len({s.id for s in segments}) != len(segments):
        raise TranscriptError("segment ids must be unique")
    if not language.strip():  # not given: what the text is written in
        language = guess_language(" ".join(s.text for s in segments[:200]))
    return Transcript(segments, language.strip().lower(), started, title.strip(),
                      attendees=parse_attendees(data.get("attendees")))
