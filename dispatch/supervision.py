"""Supervision items (督查督办): issued to a department with a time limit (calendar or
Chinese working days), progress reports with evidence, submission, review: accepted with a
score, or returned for rework."""

from __future__ import annotations

from typing import Any

from dispatch import flow, keys, validate, workdays
from dispatch.auth import Actor
from dispatch.ids import new_id
from dispatch.photos import check_photos
from dispatch.service import Built, Dispatch, Route
from dispatch.store import Doc
from signaling.errors import SignalingError

FIELDS = {"title", "details", "unit_id", "time_limit", "deadline"}
MAX_DAYS = 366
EVIDENCE_CHARS = 500


async def issue(svc: Dispatch, actor: Actor, body: dict[str, Any]) -> tuple[int, Any]:
    actor.require_operator("issuing supervision items")
    validate.allowed_fields(body, FIELDS)
    cfg = svc.config
    title = validate.text(body, "title", cfg.max_title_chars, required=True)
    details = validate.text(body, "details", cfg.max_note_chars)
    unit = await svc.load("unit", body.get("unit_id"))
    limit = body.get("time_limit")
    absolute = validate.number(body, "deadline", 0, 1e11)
    if (limit is None) == (absolute is None):
        raise validate.bad("give either 'time_limit' {days, kind} or 'deadline'")
    if limit is not None:
        if not isinstance(limit, dict):
            raise validate.bad("'time_limit' must be {\"days\": n, \"kind\": \"working\"}")
        days = validate.integer(limit, "days", 1, MAX_DAYS, required=True)
        kind = validate.choice(limit, "kind", ("working", "calendar"), default="calendar")
        limit = {"days": days, "kind": kind}
    item_id = new_id("supervision")

    async def build(_: Doc | None, now: float) -> Built:
        if limit is not None:
            deadline, day = workdays.deadline(now, limit["days"], limit["kind"], cfg.timezone)
        else:
            deadline, day = float(absolute or 0), None
        doc = {"item_id": item_id, "title": title, "details": details,
               "unit_id": unit["unit_id"], "status": "issued", "time_limit": limit,
               "issued_at": now, "deadline": deadline, "deadline_date": day,
               "overdue": False, "returns": 0, "score": None, "progress": [],
               "reviews": [], "created_by": actor.actor, "created_at": now,
               "acknowledged_at": None, "accepted_at": None}
        return Built(doc, {"unit_id": unit["unit_id"], "deadline": deadline,
                           "time_limit": limit, "to": "issued"},
                     [("zadd", keys.index("supervision"), now, item_id),
                      ("zadd", keys.OPEN_ITEMS, deadline, item_id)])
    doc, audit_id = await svc.change("supervision", item_id, actor, "supervision.issued",
                                     build, create=True)
    await announce(svc, "issued", actor.actor, audit_id, doc)
    return 201, doc


async def announce(svc: Dispatch, action: str, by: str, audit_id: str | None, item: Doc
                   ) -> None:
    await svc.publish({"type": "dispatch_supervision", "action": action, "by": by,
                       "audit_id": audit_id, "item": item}, Route(units=[item["unit_id"]]))


async def load_for(svc: Dispatch, actor: Actor, item_id: str) -> Doc:
    item = await svc.load("supervision", item_id)
    if actor.member_id is not None:
        member = await svc.load("member", actor.member_id)
        if member["unit_id"] != item["unit_id"]:
            raise SignalingError("forbidden", "this item is not issued to your unit")
    return item


async def step(svc: Dispatch, actor: Actor, item_id: str, action: str, body: dict[str, Any]
               ) -> tuple[int, Any]:
    """acknowledge, progress, submit (unit members or operators) and review (operators)."""
    cfg = svc.config
    if action == "review":
        actor.require_operator("reviewing supervision items")
    item = await load_for(svc, actor, item_id)
    text = validate.text(body, "text", cfg.max_note_chars, required=action == "progress")
    photos = await check_photos(svc, validate.photo_ids(body, cfg))
    evidence = validate.strings(body, "evidence", cfg.max_photos_per_item, EVIDENCE_CHARS)
    decision = score = comment = None
    if action == "review":
        decision = validate.choice(body, "decision", ("accept", "return"))
        score = validate.integer(body, "score", 1, 100, required=decision == "accept")
        comment = validate.text(body, "comment", cfg.max_note_chars)
    wanted = {"acknowledge": "acknowledged", "progress": "in_progress",
              "submit": "submitted"}.get(action) or \
        ("accepted" if decision == "accept" else "returned")
    outcome: dict[str, Any] = {}

    async def build(cur: Doc | None, now: float) -> Built:
        assert cur is not None
        status = cur["status"]
        if action in ("acknowledge", "submit") and wanted in flow.SUPERVISION_RANK and \
                flow.SUPERVISION_RANK.get(status, -1) >= flow.SUPERVISION_RANK[wanted]:
            outcome["stale"] = True
            return Built(None, unchanged=True)
        if wanted not in flow.SUPERVISION_NEXT.get(status, ()):
            raise SignalingError("invalid_transition", f"a supervision item that is {status} "
                                 f"cannot become {wanted}", status=status,
                                 allowed=list(flow.SUPERVISION_NEXT.get(status, ())))
        doc = dict(cur, status=wanted)
        if action == "acknowledge":
            doc["acknowledged_at"] = now
        if action in ("progress", "submit") and (text or photos or evidence):
            doc["progress"] = cur["progress"] + [{"at": now, "by": actor.actor, "text": text,
                                                  "photos": photos, "evidence": evidence,
                                                  "kind": action}]
        ops = []
        if action == "review":
            doc["reviews"] = cur["reviews"] + [{"at": now, "by": actor.actor,
                                                "decision": decision, "score": score,
                                                "comment": comment}]
            if decision == "accept":
                doc.update(score=score, accepted_at=now)
                ops.append(("zrem", keys.OPEN_ITEMS, 0, cur["item_id"]))
            else:
                doc["returns"] = cur["returns"] + 1
        data = {"from": status, "to": wanted, "unit_id": cur["unit_id"],
                "issued_at": cur["issued_at"], "deadline": cur["deadline"],
                "decision": decision, "score": score, "on_time": now <= cur["deadline"]}
        return Built(doc, data, ops)
    doc, audit_id = await svc.change("supervision", item["item_id"], actor,
                                     f"supervision.{wanted}", build)
    if outcome.get("stale"):
        return 200, {"applied": False, "reason": "already_done", "item": doc}
    await announce(svc, wanted, actor.actor, audit_id, doc)
    if wanted == "returned":
        await svc.publish({"type": "dispatch_reminder", "kind": "supervision_returned",
                           "item": doc, "now": doc["updated_at"]},
                          Route(units=[doc["unit_id"]]))
    return 200, {"applied": True, "item": doc}


async def list_items(svc: Dispatch, actor: Actor, query: dict[str, str]) -> list[Doc]:
    items = await svc.store.get_many(await svc.store.ids("supervision"))
    if actor.member_id is not None:
        member = await svc.load("member", actor.member_id)
        items = [i for i in items if i["unit_id"] == member["unit_id"]]
    if "unit_id" in query:
        items = [i for i in items if i["unit_id"] == query["unit_id"]]
    if "status" in query:
        items = [i for i in items if i["status"] == query["status"]]
    return items
