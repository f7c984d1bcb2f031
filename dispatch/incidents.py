"""Incidents: made by API, on the wall, from a field photo report (the room's report
stream) or from a feed snapshot; notes with photos; status open -> ... -> closed."""

from __future__ import annotations

import time
from typing import Any

from dispatch import keys, validate
from dispatch.auth import Actor
from dispatch.ids import check_foreign, new_id
from dispatch.photos import check_photos, photo_json
from dispatch.service import Built, Dispatch, Route
from dispatch.store import Doc
from signaling.errors import SignalingError
from signaling.reports import REPORT_ID_RE, Report
from signaling.store import reports_key

STATUSES = ("open", "in_progress", "resolved", "closed")
SOURCE_KINDS = ("api", "wall", "report", "snapshot")
FIELDS = {"title", "category", "severity", "location", "note", "photos", "feeds", "snapshots",
          "source", "status"}
MAX_REFS = 32
REPORT_SCAN = 1000


async def _report(svc: Dispatch, room_id: str, report_id: str) -> Report:
    if not REPORT_ID_RE.fullmatch(report_id):
        raise SignalingError("not_found", f"no report {report_id!r}", what="report")
    entries = await svc.redis.xrevrange(reports_key(room_id), count=REPORT_SCAN)
    for _, data in entries:
        if data.get("report_id") == report_id:
            return Report.from_fields(data)
    raise SignalingError("not_found", f"no report {report_id!r} in room {room_id!r}",
                         what="report")


def _source(body: dict[str, Any]) -> dict[str, str]:
    source = body.get("source") or {"kind": "api"}
    if not isinstance(source, dict) or source.get("kind") not in SOURCE_KINDS:
        raise validate.bad(f"'source.kind' must be one of {', '.join(SOURCE_KINDS)}")
    out = {"kind": source["kind"]}
    for name in ("room_id", "report_id", "snapshot_id"):
        if source.get(name) is not None:
            out[name] = check_foreign(source[name], f"source.{name}")
    need = {"report": ("room_id", "report_id"), "snapshot": ("room_id", "snapshot_id")}
    for name in need.get(out["kind"], ()):
        if name not in out:
            raise validate.bad(f"a {out['kind']} source needs 'source.{name}'")
    return out


async def create_incident(svc: Dispatch, actor: Actor, body: dict[str, Any]
                          ) -> tuple[int, Any]:
    validate.allowed_fields(body, FIELDS - {"status"})
    cfg = svc.config
    source = _source(body)
    title = validate.text(body, "title", cfg.max_title_chars)
    note = validate.text(body, "note", cfg.max_note_chars)
    location = validate.location(body)
    reporter_name = ""
    photos = await check_photos(svc, validate.photo_ids(body, cfg))
    photo_refs: list[dict[str, Any]] = [{"photo_id": p} for p in photos]
    snapshots = validate.refs(body, "snapshots", "snapshot_id", MAX_REFS)
    if source["kind"] == "report":
        report = await _report(svc, source["room_id"], source["report_id"])
        note = note or report.note
        title = title or (report.note.splitlines()[0][:cfg.max_title_chars]
                          if report.note.strip() else "Field report")
        if location is None and report.lat is not None and report.lon is not None:
            location = {"lat": report.lat, "lon": report.lon}
        reporter_name = report.name
        photo_refs.append({"room_id": report.room_id, "report_id": report.report_id})
    if source["kind"] == "snapshot":
        ref = {"room_id": source["room_id"], "snapshot_id": source["snapshot_id"]}
        if ref not in snapshots:
            snapshots.append(ref)
    if not title:
        raise validate.bad("'title' is required")
    fields = {"title": title, "category": validate.text(body, "category", cfg.max_title_chars),
              "severity": validate.integer(body, "severity", 1, 5, default=3),
              "location": location, "status": "open",
              "source": source, "photos": photo_refs,
              "feeds": validate.refs(body, "feeds", "feed_id", MAX_REFS),
              "snapshots": snapshots, "task_ids": []}
    incident_id = new_id("incident")
    reporter = {"actor": actor.actor, "name": reporter_name}
    if actor.member_id:
        reporter["name"] = (await svc.load("member", actor.member_id))["name"]

    async def build(_: Doc | None, now: float) -> Built:
        notes = [{"at": now, "by": actor.actor, "text": note, "photos": []}] if note else []
        doc = {"incident_id": incident_id, **fields, "reporter": reporter, "notes": notes,
               "created_at": now}
        return Built(doc, {"fields": fields},
                     [("zadd", keys.index("incident"), now, incident_id)])
    doc, audit_id = await svc.change("incident", incident_id, actor, "incident.created", build,
                                     create=True)
    await _announce(svc, "created", actor, audit_id, doc)
    return 201, render(svc, doc)


async def update_incident(svc: Dispatch, actor: Actor, incident_id: str, body: dict[str, Any]
                          ) -> tuple[int, Any]:
    actor.require_operator("changing incidents")
    validate.allowed_fields(body, FIELDS - {"note", "source"})
    cfg = svc.config
    current = await svc.load("incident", incident_id)
    changes: dict[str, Any] = {}
    if "title" in body:
        changes["title"] = validate.text(body, "title", cfg.max_title_chars, required=True)
    if "category" in body:
        changes["category"] = validate.text(body, "category", cfg.max_title_chars)
    if "severity" in body:
        changes["severity"] = validate.integer(body, "severity", 1, 5, required=True)
    if "location" in body:
        changes["location"] = validate.location(body)
    if "status" in body:
        changes["status"] = validate.choice(body, "status", STATUSES)
    if "feeds" in body:
        changes["feeds"] = validate.refs(body, "feeds", "feed_id", MAX_REFS)
    if "snapshots" in body:
        changes["snapshots"] = validate.refs(body, "snapshots", "snapshot_id", MAX_REFS)
    if "photos" in body:
        changes["photos"] = [{"photo_id": p} for p in
                             await check_photos(svc, validate.photo_ids(body, cfg))]

    async def build(cur: Doc | None, now: float) -> Built:
        assert cur is not None
        return Built({**cur, **changes}, {"changed": changes,
                                          "from_status": cur["status"]})
    doc, audit_id = await svc.change("incident", current["incident_id"], actor,
                                     "incident.updated", build,
                                     expected_version=body.get("expected_version"))
    await _announce(svc, "updated", actor, audit_id, doc)
    return 200, render(svc, doc)


async def add_note(svc: Dispatch, actor: Actor, incident_id: str, body: dict[str, Any]
                   ) -> tuple[int, Any]:
    cfg = svc.config
    current = await svc.load("incident", incident_id)
    text = validate.text(body, "text", cfg.max_note_chars, required=True)
    photos = await check_photos(svc, validate.photo_ids(body, cfg))
    location = validate.location(body)

    async def build(cur: Doc | None, now: float) -> Built:
        assert cur is not None
        note = {"at": now, "by": actor.actor, "text": text, "photos": photos,
                "location": location}
        return Built({**cur, "notes": cur["notes"] + [note]}, {"note": note})
    doc, audit_id = await svc.change("incident", current["incident_id"], actor,
                                     "incident.note", build)
    await _announce(svc, "note", actor, audit_id, doc)
    return 201, render(svc, doc)


async def link_task(svc: Dispatch, actor: Actor, incident_id: str, task_id: str) -> None:
    async def build(cur: Doc | None, now: float) -> Built:
        assert cur is not None
        status = "in_progress" if cur["status"] == "open" else cur["status"]
        return Built({**cur, "task_ids": cur["task_ids"] + [task_id], "status": status},
                     {"task_id": task_id})
    doc, audit_id = await svc.change("incident", incident_id, actor, "incident.task_linked",
                                     build)
    await _announce(svc, "updated", actor, audit_id, doc)


async def _announce(svc: Dispatch, action: str, actor: Actor, audit_id: str | None,
                    doc: Doc) -> None:
    reporter = doc["reporter"]["actor"]
    route = Route(members=[reporter] if reporter.startswith("m_") else [])
    await svc.publish({"type": "dispatch_incident", "action": action, "by": actor.actor,
                       "audit_id": audit_id, "incident": render(svc, doc)}, route)


def render(svc: Dispatch, doc: Doc) -> Doc:
    """The incident as clients see it: photo URLs filled in."""
    now = time.time()
    photos = []
    for ref in doc["photos"]:
        if "photo_id" in ref:
            photos.append(photo_json(ref["photo_id"]))
        else:
            photos.append(ref | {"url": svc.report_photos.url(ref["room_id"],
                                                                 ref["report_id"], now)})
    notes = [n | {"photos": [photo_json(p) for p in n["photos"]]} for n in doc["notes"]]
    return doc | {"photos": photos, "notes": notes}
