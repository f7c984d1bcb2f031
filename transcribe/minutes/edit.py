"""The host's edits to a draft (`PUT /api/rooms/{room_id}/minutes`): a partial minutes
document whose known fields replace the draft's. Every field is checked (types, lengths,
counts) so a draft in Redis always has the shape the page and the renderers expect."""

from __future__ import annotations

import re
from datetime import datetime, tzinfo
from typing import Any

MAX_ITEMS = 500
MAX_TEXT = 2000
EDITABLE = ("title", "summary", "decisions", "action_items", "keywords", "chapters")
_ID = re.compile(r"^[A-Za-z0-9_-]{1,32}$")
_LINK_FIELDS = ("segment_id", "start_ms", "t", "recording_url", "recording_s")


class EditError(ValueError):
    pass


def _text(value: Any, what: str, required: bool = True, limit: int = MAX_TEXT) -> str | None:
    if value is None and not required:
        return None
    if not isinstance(value, str) or (required and not value.strip()):
        raise EditError(f"{what} must be a non-empty string")
    if len(value) > limit:
        raise EditError(f"{what} is longer than {limit} characters")
    return value.strip()


def _deadline(value: Any, what: str, zone: tzinfo | None) -> str | None:
    """ISO datetime; one typed without a zone is in the meeting's zone."""
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise EditError(f"{what} must be an ISO 8601 date/datetime or null")
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise EditError(f"{what} {value[:40]!r} is not an ISO 8601 date/datetime") from None
    if moment.tzinfo is None and zone is not None:
        moment = moment.replace(tzinfo=zone)
    return moment.isoformat(timespec="minutes")


def _zone(draft: dict[str, Any]) -> tzinfo | None:
    try:
        return datetime.fromisoformat(str(draft.get("started_at"))).tzinfo
    except ValueError:
        return None


def _links(item: dict[str, Any], old: dict[str, Any] | None) -> dict[str, Any]:
    """Position fields: the edit's if valid, else the old item's (same id)."""
    out = {k: (old or {}).get(k) for k in _LINK_FIELDS}
    if isinstance(item.get("segment_id"), str) and len(item["segment_id"]) <= 64:
        out["segment_id"] = item["segment_id"]
    if isinstance(item.get("start_ms"), int) and item["start_ms"] >= 0:
        out["start_ms"] = item["start_ms"]
    return out


def _items(value: Any, what: str, prefix: str, old: list[dict[str, Any]],
           shape: Any) -> list[dict[str, Any]]:
    if not isinstance(value, list) or len(value) > MAX_ITEMS:
        raise EditError(f"{what} must be a list of at most {MAX_ITEMS} items")
    by_id = {o.get("id"): o for o in old}
    taken = {o.get("id") for o in old}
    out = []
    for n, item in enumerate(value):
        if not isinstance(item, dict):
            raise EditError(f"{what}[{n}] must be an object")
        ident = item.get("id")
        if not (isinstance(ident, str) and _ID.match(ident)):
            k = len(taken) + 1
            while f"{prefix}{k}" in taken:
                k += 1
            ident = f"{prefix}{k}"
        taken.add(ident)
        previous = by_id.get(ident)
        out.append({"id": ident, **_links(item, previous), **shape(item, f"{what}[{n}]",
                                                                    previous or {})})
    return out


def _action(item: dict[str, Any], what: str, old: dict[str, Any],
            zone: tzinfo | None = None) -> dict[str, Any]:
    deadline = _deadline(item.get("deadline"), f"{what}.deadline", zone)
    return {"owner": _text(item.get("owner"), f"{what}.owner", required=False, limit=100),
            "owner_source": old.get("owner_source", "edited") if item.get("owner") ==
            old.get("owner") else "edited",
            "what": _text(item.get("what"), f"{what}.what"),
            "text": _text(item.get("text", old.get("text", item.get("what"))), f"{what}.text"),
            "speaker": old.get("speaker"), "deadline": deadline,
            "deadline_date": deadline[:10] if deadline else None,
            "deadline_has_time": bool(deadline and "T" in deadline
                                      and not deadline[11:16] == "23:59"),
            "deadline_text": _text(item.get("deadline_text"), f"{what}.deadline_text",
                                   required=False, limit=200)}


def _plain(item: dict[str, Any], what: str, old: dict[str, Any]) -> dict[str, Any]:
    return {"text": _text(item.get("text"), f"{what}.text"), "speaker": old.get("speaker")}


def _chapter(item: dict[str, Any], what: str, old: dict[str, Any]) -> dict[str, Any]:
    return {"title": _text(item.get("title"), f"{what}.title", limit=200),
            "keywords": old.get("keywords", []), "end_ms": old.get("end_ms")}


def apply_edit(draft: dict[str, Any], edit: Any) -> dict[str, Any]:
    if not isinstance(edit, dict):
        raise EditError("body must be a JSON object")
    unknown = set(edit) - set(EDITABLE) - {"id", "version", "language", "room_id", "status",
                                            "revision", "published", "started_at", "ended_at",
                                            "duration_s", "attendees", "transcript",
                                            "recording", "generated_at", "published_at"}
    if unknown:
        raise EditError(f"unknown fields: {', '.join(sorted(unknown))[:200]}")
    out = dict(draft)
    if "title" in edit:
        out["title"] = _text(edit["title"], "title", limit=200)
    if "summary" in edit:
        out["summary"] = _items(edit["summary"], "summary", "m", draft.get("summary", []), _plain)
    if "decisions" in edit:
        out["decisions"] = _items(edit["decisions"], "decisions", "d",
                                  draft.get("decisions", []), _plain)
    if "action_items" in edit:
        zone = _zone(draft)
        out["action_items"] = _items(edit["action_items"], "action_items", "a",
                                     draft.get("action_items", []),
                                     lambda item, what, old: _action(item, what, old, zone))
    if "chapters" in edit:
        out["chapters"] = _items(edit["chapters"], "chapters", "c", draft.get("chapters", []),
                                 _chapter)
    if "keywords" in edit:
        words = edit["keywords"]
        if not isinstance(words, list) or len(words) > 100:
            raise EditError("keywords must be a list of at most 100 words")
        out["keywords"] = [{"word": _text(w if isinstance(w, str) else
                                          (w or {}).get("word") if isinstance(w, dict) else None,
                                          f"keywords[{n}]", limit=60), "score": None, "count": None}
                           for n, w in enumerate(words)]
    out["edited"] = True
    return out
