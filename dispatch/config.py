"""The [dispatch] section of config.toml (loaded by signaling/config.py)."""

from __future__ import annotations

from dataclasses import dataclass, field

from signaling.config_fields import bounded, pattern


@dataclass(frozen=True)
class DispatchConfig:
    # Longest title, name, category or role in characters (400 when longer).
    max_title_chars: int = field(default=200, metadata=bounded(1, 10000))
    # Longest note, feedback text or reason in characters (400 when longer).
    max_note_chars: int = field(default=2000, metadata=bounded(1, 100000))
    # Largest photo upload in bytes (JPEG/PNG, kept in Redis); bigger is 413.
    max_photo_bytes: int = field(default=2 * 1024 * 1024, metadata=bounded(1024, 64 << 20))
    # Most photos (or evidence links) per incident, note, feedback or progress report.
    max_photos_per_item: int = field(default=8, metadata=bounded(0, 100))
    # Most open tasks at once across the deployment (409 limit_reached beyond).
    max_open_tasks: int = field(default=10000, metadata=bounded(1, 10_000_000))
    # How long the answer of a write is kept for retries with the same client_id (s).
    idempotency_ttl_s: int = field(default=7 * 86400, metadata=bounded(60, 366 * 86400))
    # Reminder to the assignee this many seconds before a task's deadline.
    remind_before_s: float = field(default=900.0, metadata=bounded(0, 30 * 86400))
    # How often the elected scheduler looks for due reminders and overdue work (s).
    scheduler_interval_s: float = field(default=1.0, metadata=bounded(0.05, 3600))
    # Longest lifetime of an operator token (s).
    operator_token_ttl_s: int = field(default=12 * 3600, metadata=bounded(60, 366 * 86400))
    # Longest lifetime of a member token (s).
    member_token_ttl_s: int = field(default=30 * 86400, metadata=bounded(60, 366 * 86400))
    # Time zone in which supervision deadlines end (23:59:59 of the last day).
    timezone: str = field(default="Asia/Shanghai", metadata=pattern(
        r"[A-Za-z_]+(/[A-Za-z0-9_+-]+)*", "an IANA time zone name such as Asia/Shanghai"))
    # Tests only: lets POST /api/dispatch/clock move the dispatch clock (offset in Redis).
    test_clock: bool = False
