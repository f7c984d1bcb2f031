"""The task status flow, and what may move it: pure functions the service and tests share."""

from __future__ import annotations

from signaling.errors import SignalingError

MAIN_PATH = ("dispatched", "acknowledged", "en_route", "on_scene", "resolved", "verified",
             "closed")
RANK = {status: i for i, status in enumerate(MAIN_PATH)}
STATUSES = MAIN_PATH + ("rejected",)
OPEN = ("dispatched", "acknowledged", "en_route", "on_scene")  # reminders and overdue apply
# from -> statuses it may go to by a transition (reassignment is its own action).
NEXT: dict[str, tuple[str, ...]] = {
    "dispatched": ("acknowledged", "rejected"),
    "acknowledged": ("en_route", "rejected"),
    "en_route": ("on_scene", "rejected"),
    "on_scene": ("resolved", "rejected"),
    "resolved": ("verified", "closed"),
    "verified": ("closed",),
    "rejected": ("closed",),
    "closed": (),
}
ASSIGNEE_MAY = frozenset({"acknowledged", "en_route", "on_scene", "resolved", "rejected"})
SUPERVISION_NEXT: dict[str, tuple[str, ...]] = {
    "issued": ("acknowledged",),
    "acknowledged": ("in_progress",),
    "in_progress": ("in_progress", "submitted"),
    "submitted": ("accepted", "returned"),
    "returned": ("in_progress",),
    "accepted": (),
}
SUPERVISION_RANK = {"issued": 0, "acknowledged": 1, "in_progress": 2, "submitted": 3,
                    "accepted": 4}


def already_done(current: str, wanted: str) -> bool:
    """A task at `current` has made (or passed) the main-path step `wanted`."""
    if wanted not in RANK or current not in RANK:
        return False
    return RANK[current] >= RANK[wanted]


def check_transition(current: str, wanted: str) -> None:
    if wanted not in STATUSES:
        raise SignalingError("bad_request", f"'status' must be one of {', '.join(STATUSES)}")
    allowed = NEXT[current]
    if wanted not in allowed:
        raise SignalingError("invalid_transition",
                             f"a task that is {current} cannot become {wanted}",
                             status=current, allowed=list(allowed))
