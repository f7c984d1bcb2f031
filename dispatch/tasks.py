"""Tasks: dispatched to a unit or a member, moved through the status flow (dispatch/flow.py)
with feedback at each step, reassigned, closed with a score."""

from __future__ import annotations

from typing import Any

from dispatch import flow, keys, validate
from dispatch.auth import Actor
from dispatch.ids import check_foreign, check_id, new_id
from dispatch.incidents import link_task
from dispatch.photos import check_photos, photo_json
from dispatch.service import Built, Dispatch, Route
from dispatch.store import Doc
from signaling.errors import SignalingError

PRIORITIES = ("low", "normal", "high", "urgent")
CREATE_FIELDS = {"title", "details", "priority", "deadline", "deadline_in_s", "assignee",
                 "incident_id", "source"}
SOURCE_KINDS = ("minutes_action_item", "incident", "snapshot", "report")
MAX_DEADLINE_S = 366 * 86400


async def assignee_of(svc: Dispatch, body: dict[str, Any]) -> dict[str, str | None]:
    value = body.get("assignee")
    if not isinstance(value, dict) or ("unit_id" in value) == ("member_id" in value):
        raise validate.bad("'assignee' must be {\"unit_id\": ...} or {\"member_id\": ...}")
    if "member_id" in value:
        member = await svc.load("member", value["member_id"])
        return {"unit_id": member["unit_id"], "member_id": member["member_id"]}
    return {"unit_id": (await svc.load("unit", value["unit_id"]))["unit_id"], "member_id": None}


async def deadline_of(svc: Dispatch, body: dict[str, Any], now: float) -> float:
    absolute = validate.number(body, "deadline", 0, 1e11)
    relative = validate.number(body, "deadline_in_s", 1, MAX_DEADLINE_S)
    if (absolute is None) == (relative is None):
        raise validate.bad("give either 'deadline' (Unix seconds) or 'deadline_in_s'")
    if relative is not None:
        return now + relative
    assert absolute is not None
    if absolute <= now:
        raise validate.bad("'deadline' is in the past")
    return absolute


def _source(body: dict[str, Any]) -> dict[str, str] | None:
    source = body.get("source")
    if source is None:
        return None
    if not isinstance(source, dict) or source.get("kind") not in SOURCE_KINDS:
        raise validate.bad(f"'source.kind' must be one of {', '.join(SOURCE_KINDS)}")
    out = {"kind": source["kind"]}
    for name in ("room_id", "item_id", "snapshot_id", "report_id", "incident_id"):
        if source.get(name) is not None:
            out[name] = check_foreign(source[name], f"source.{name}")
    if out["kind"] == "minutes_action_item" and not {"room_id", "item_id"} <= set(out):
        raise validate.bad("a minutes_action_item source needs 'room_id' and 'item_id'")
    return out


def concerns(task: Doc, member: Doc) -> bool:
    assignee = task["assignee"]
    if assignee["member_id"] is not None:
        return bool(assignee["member_id"] == member["member_id"])
    return bool(assignee["unit_id"] == member["unit_id"])


def route_of(task: Doc) -> Route:
    assignee = task["assignee"]
    if assignee["member_id"] is not None:
        return Route(members=[assignee["member_id"]])
    return Route(units=[assignee["unit_id"]])


def render(task: Doc) -> Doc:
    feedback = [f | {"photos": [photo_json(p) for p in f["photos"]]} for f in task["feedback"]]
    return task | {"feedback": feedback}


async def announce(svc: Dispatch, action: str, by: str, audit_id: str | None, task: Doc,
                   extra: Route | None = None) -> None:
    route = route_of(task)
    if extra is not None:
        route.members += extra.members
        route.units += extra.units
    await svc.publish({"type": "dispatch_task", "action": action, "by": by,
                       "audit_id": audit_id, "task": render(task)}, route)


async def create_task(svc: Dispatch, actor: Actor, body: dict[str, Any]) -> tuple[int, Any]:
    actor.require_operator("dispatching tasks")
    validate.allowed_fields(body, CREATE_FIELDS)
    cfg = svc.config
    fields = {"title": validate.text(body, "title", cfg.max_title_chars, required=True),
              "details": validate.text(body, "details", cfg.max_note_chars),
              "priority": validate.choice(body, "priority", PRIORITIES, default="normal"),
              "assignee": await assignee_of(svc, body), "source": _source(body),
              "incident_id": None}
    if body.get("incident_id") is not None:
        fields["incident_id"] = (await svc.load("incident", body["incident_id"]))["incident_id"]
    deadline = await deadline_of(svc, body, await svc.clock.now())
    if await svc.redis.zcard(keys.OPEN_TASKS) >= cfg.max_open_tasks:
        raise SignalingError("limit_reached", f"{cfg.max_open_tasks} tasks are open "
                             "(dispatch.max_open_tasks)")
    task_id = new_id("task")

    async def build(_: Doc | None, now: float) -> Built:
        doc = {"task_id": task_id, **fields, "deadline": deadline, "status": "dispatched",
               "overdue": False, "reminded": False, "escalated": False,
               "created_by": actor.actor, "created_at": now, "dispatched_at": now,
               "acknowledged_at": None, "resolved_at": None, "closed_at": None,
               "score": None, "reject_reason": None, "assignments": 1, "feedback": []}
        return Built(doc, {"fields": fields, "deadline": deadline, "to": "dispatched"},
                     [("zadd", keys.index("task"), now, task_id),
                      ("zadd", keys.OPEN_TASKS, deadline, task_id),
                      ("zadd", keys.REMINDERS, deadline - cfg.remind_before_s, task_id)])
    doc, audit_id = await svc.change("task", task_id, actor, "task.created", build,
                                     create=True)
    if doc["incident_id"]:
        await link_task(svc, actor, doc["incident_id"], task_id)
    await announce(svc, "created", actor.actor, audit_id, doc)
    return 201, render(doc)


async def load_for(svc: Dispatch, actor: Actor, task_id: str) -> Doc:
    """The task, if `actor` may see it (operators: any; members: theirs)."""
    task = await svc.load("task", task_id)
    if actor.member_id is not None:
        member = await svc.load("member", actor.member_id)
        if not concerns(task, member):
            raise SignalingError("forbidden", "this task is not assigned to you or your unit")
    return task


def _feedback(svc: Dispatch, body: dict[str, Any]) -> dict[str, Any]:
    cfg = svc.config
    return {"text": validate.text(body, "text", cfg.max_note_chars),
            "photos": validate.photo_ids(body, cfg), "location": validate.location(body)}


async def transition(svc: Dispatch, actor: Actor, task_id: str, body: dict[str, Any]
                     ) -> tuple[int, Any]:
    cfg = svc.config
    task = await load_for(svc, actor, task_id)
    wanted = body.get("status")
    if wanted not in flow.STATUSES:
        raise validate.bad(f"'status' must be one of {', '.join(flow.STATUSES)}")
    if not actor.operator and wanted not in flow.ASSIGNEE_MAY:
        raise SignalingError("forbidden", f"only operators may set a task {wanted}")
    expected = body.get("expected_status")
    if expected is not None and expected not in flow.STATUSES:
        raise validate.bad(f"'expected_status' must be one of {', '.join(flow.STATUSES)}")
    feedback = _feedback(svc, body)
    await check_photos(svc, feedback["photos"])
    reason = validate.text(body, "reason", cfg.max_note_chars)
    score = validate.integer(body, "score", 1, 5)
    outcome: dict[str, Any] = {}

    async def build(cur: Doc | None, now: float) -> Built:
        assert cur is not None
        status = cur["status"]
        if flow.already_done(status, wanted):
            outcome["stale"] = True
            return Built(None, unchanged=True)
        if expected is not None and expected != status:
            raise SignalingError("conflict", f"the task is {status}, not {expected}",
                                 current=render(cur))
        flow.check_transition(status, wanted)
        if wanted == "rejected" and not reason:
            raise validate.bad("rejecting a task needs a 'reason'")
        if wanted == "closed" and status in ("resolved", "verified") and score is None:
            raise validate.bad("closing a resolved task needs a 'score' from 1 to 5")
        if wanted == "closed" and status == "rejected" and not reason:
            raise validate.bad("closing a rejected task needs a 'reason'")
        doc = dict(cur, status=wanted)
        doc["feedback"] = cur["feedback"] + [{"at": now, "by": actor.actor, "status": wanted,
                                              **feedback}]
        stamp = {"acknowledged": "acknowledged_at", "resolved": "resolved_at",
                 "closed": "closed_at"}.get(wanted)
        if stamp:
            doc[stamp] = now
        if wanted == "rejected":
            doc["reject_reason"] = reason
        if wanted == "closed":
            doc["score"] = score
        ops = [] if wanted in flow.OPEN else [("zrem", keys.OPEN_TASKS, 0, cur["task_id"]),
                                              ("zrem", keys.REMINDERS, 0, cur["task_id"])]
        data = {"from": status, "to": wanted, "reason": reason or None, "score": score,
                "client_id": body.get("client_id"), "assignment": cur["assignments"],
                "unit_id": cur["assignee"]["unit_id"]}
        return Built(doc, data, ops)
    doc, audit_id = await svc.change("task", task["task_id"], actor, "task.transition", build,
                                     read=task)
    if outcome.get("stale"):
        return 200, {"applied": False, "reason": "already_done", "task": render(doc)}
    await announce(svc, "transition", actor.actor, audit_id, doc)
    return 200, {"applied": True, "task": render(doc)}


async def reassign(svc: Dispatch, actor: Actor, task_id: str, body: dict[str, Any]
                   ) -> tuple[int, Any]:
    actor.require_operator("reassigning tasks")
    task = await svc.load("task", task_id)
    assignee = await assignee_of(svc, body)
    reason = validate.text(body, "reason", svc.config.max_note_chars)
    has_deadline = body.get("deadline") is not None or body.get("deadline_in_s") is not None
    deadline = await deadline_of(svc, body, await svc.clock.now()) if has_deadline else None
    before: dict[str, Any] = {}

    async def build(cur: Doc | None, now: float) -> Built:
        assert cur is not None
        if cur["status"] == "closed":
            raise SignalingError("invalid_transition", "a closed task cannot be reassigned",
                                 status="closed", allowed=[])
        before["assignee"] = cur["assignee"]
        new_deadline = deadline if deadline is not None else cur["deadline"]
        doc = dict(cur, assignee=assignee, status="dispatched", deadline=new_deadline,
                   assignments=cur["assignments"] + 1, dispatched_at=now,
                   acknowledged_at=None, resolved_at=None, overdue=False, reminded=False,
                   escalated=False, reject_reason=None)
        doc["feedback"] = cur["feedback"] + [{"at": now, "by": actor.actor,
                                              "status": "reassigned", "text": reason,
                                              "photos": [], "location": None}]
        return Built(doc, {"from": cur["status"], "to": "dispatched", "action": "reassigned",
                           "old_assignee": cur["assignee"], "assignee": assignee,
                           "reason": reason, "assignment": cur["assignments"] + 1,
                           "unit_id": assignee["unit_id"]},
                     [("zadd", keys.OPEN_TASKS, new_deadline, cur["task_id"]),
                      ("zadd", keys.REMINDERS, new_deadline - svc.config.remind_before_s,
                       cur["task_id"])])
    doc, audit_id = await svc.change("task", task["task_id"], actor, "task.reassigned", build,
                                     expected_version=body.get("expected_version"))
    old = before["assignee"]
    extra = Route(members=[old["member_id"]] if old["member_id"] else [],
                  units=[] if old["member_id"] else [old["unit_id"]])
    await announce(svc, "reassigned", actor.actor, audit_id, doc, extra)
    return 200, {"applied": True, "task": render(doc)}


async def add_feedback(svc: Dispatch, actor: Actor, task_id: str, body: dict[str, Any]
                       ) -> tuple[int, Any]:
    task = await load_for(svc, actor, task_id)
    feedback = _feedback(svc, body)
    if not feedback["text"] and not feedback["photos"]:
        raise validate.bad("feedback needs a 'text' or 'photos'")
    await check_photos(svc, feedback["photos"])

    async def build(cur: Doc | None, now: float) -> Built:
        assert cur is not None
        if cur["status"] == "closed":
            raise SignalingError("invalid_transition", "a closed task takes no feedback",
                                 status="closed", allowed=[])
        entry = {"at": now, "by": actor.actor, "status": cur["status"], **feedback}
        return Built(dict(cur, feedback=cur["feedback"] + [entry]), {"feedback": entry})
    doc, audit_id = await svc.change("task", task["task_id"], actor, "task.feedback", build,
                                     read=task)
    await announce(svc, "feedback", actor.actor, audit_id, doc)
    return 201, {"task": render(doc)}


async def list_tasks(svc: Dispatch, actor: Actor, query: dict[str, str]) -> list[Doc]:
    limit = min(int(query.get("limit", "500")) if query.get("limit", "").isdigit() else 500,
                5000)
    if query.get("open") in ("1", "true"):  # the scheduler's work list: no full scan
        ids = list(await svc.redis.zrange(keys.OPEN_TASKS, 0, -1))
        tasks = sorted(await svc.store.get_many(ids), key=lambda t: -t["created_at"])
    else:
        tasks = await svc.store.get_many(await svc.store.ids("task"))
    if actor.member_id is not None:
        member = await svc.load("member", actor.member_id)
        tasks = [t for t in tasks if concerns(t, member)]
    if "status" in query:
        tasks = [t for t in tasks if t["status"] == query["status"]]
    if "unit_id" in query:
        tasks = [t for t in tasks if t["assignee"]["unit_id"] == query["unit_id"]]
    if "member_id" in query:
        tasks = [t for t in tasks if t["assignee"]["member_id"] == query["member_id"]]
    if "incident_id" in query:
        tasks = [t for t in tasks if t["incident_id"] == query["incident_id"]]
    if query.get("overdue") in ("1", "true"):
        tasks = [t for t in tasks if t["overdue"]]
    if query.get("open") in ("1", "true"):
        tasks = [t for t in tasks if t["status"] in flow.OPEN]
    return [render(t) for t in tasks[:limit]]


def check_task_id(value: object) -> str:
    return check_id("task", value)
