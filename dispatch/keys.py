"""Redis keys of dispatch (layout: docs/ARCHITECTURE.md "Dispatch"). Every variable part is
an id checked by dispatch.ids or a hash, never user text."""

from __future__ import annotations

P = "cp:dispatch:"
AUDIT = P + "audit"                      # stream: every change (global)
EVENTS = P + "events"                    # pub/sub channel of live changes
CLOCK_OFFSET = P + "clock_offset"        # test clock offset in seconds (test_clock only)
SCHEDULER_LOCK = P + "scheduler"         # elects the node whose scheduler ticks
OPEN_TASKS = P + "tasks:open"            # zset task id -> deadline (open tasks only)
OPEN_ITEMS = P + "supervision:open"      # zset item id -> deadline (until accepted or overdue)
# zset task id -> when the scheduler next acts on it (reminder time, then the deadline);
# a task leaves it once overdue or no longer open, so a pass only reads work that is due.
REMINDERS = P + "tasks:reminders"
ALERTS = P + "alerts"                    # zset alert id -> time


def entity(entity_id: str) -> str:
    """Hash of one entity's current state (fields hold JSON values)."""
    return f"{P}e:{entity_id}"


def entity_audit(entity_id: str) -> str:
    return f"{P}audit:{entity_id}"


def index(kind: str) -> str:
    """Zset of every entity of `kind` by creation time."""
    return f"{P}index:{kind}"


def photo(photo_id: str) -> str:
    return f"{P}photo:{photo_id}"


def idempotency(digest: str) -> str:
    return f"{P}idem:{digest}"


def claim(entity_id: str, what: str) -> str:
    """Set once per reminder (what: e.g. due_soon:2): it fires once across nodes."""
    return f"{P}claim:{entity_id}:{what}"
