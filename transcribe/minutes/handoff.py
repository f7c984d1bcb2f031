"""Action items to dispatch tasks: the body of `POST /api/dispatch/tasks` (dispatch/tasks.py
`create_task`: only its fields title, details, priority, deadline | deadline_in_s, assignee,
source), with `source` linking back to the minutes item. Pure: the same item always gives
the same body, so a consumer can de-duplicate on source.room_id + source.item_id.

Minutes know the owner only by name; dispatch assigns to a unit or member id. So the body
carries `assignee` only when the caller maps the owner (`assignee=`); otherwise the owner's
name is in `details` and in the stream entry's `owner` field for the consumer to map."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

TITLE_CHARS = 120
DEFAULT_DEADLINE_S = 7 * 86400  # no deadline said: dispatch still needs one
_FOREIGN_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")


def action_item_to_task(item: dict[str, Any], room_id: str, minutes_ref: dict[str, Any],
                        assignee: dict[str, str] | None = None) -> dict[str, Any]:
    """The dispatch task body for one minutes action item.

    `minutes_ref`: where the minutes are ({"room_id", "revision", "url"}); `assignee`:
    {"unit_id": ...} or {"member_id": ...} once the owner is mapped to dispatch's units."""
    what = " ".join(str(item.get("what") or item.get("text") or "").split())
    title = what if len(what) <= TITLE_CHARS else what[: TITLE_CHARS - 1] + "…"
    lines = []
    if item.get("owner"):
        lines.append(f"owner: {item['owner']}")
    if item.get("deadline_text"):
        lines.append(f"deadline as said: {item['deadline_text']}")
    if item.get("text") and item.get("text") != what:
        lines.append(f"said: {item['text']}")
    if minutes_ref.get("url"):
        lines.append(f"minutes: {minutes_ref['url']} ({item.get('t', '')})")
    body: dict[str, Any] = {
        "title": title or "(action item)",
        "details": "\n".join(lines),
        "priority": "normal",
        "source": {"kind": "minutes_action_item", "room_id": room_id,
                   "item_id": _foreign_id(str(item.get("id", "")))},
    }
    due = _unix(item.get("deadline"))
    if due is not None:
        body["deadline"] = due
    else:
        body["deadline_in_s"] = DEFAULT_DEADLINE_S
    if assignee is not None:
        body["assignee"] = assignee
    return body


def _unix(value: Any) -> float | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    if moment.tzinfo is None:
        return None  # a deadline without a zone is ambiguous; dispatch gets the default
    return moment.timestamp()


def _foreign_id(value: str) -> str:
    return value if _FOREIGN_ID.fullmatch(value) else re.sub(r"[^A-Za-z0-9_-]", "_",
                                                              value)[:64] or "item"
