"""Alerts broadcast by operators to every unit or to one unit."""

from __future__ import annotations

from typing import Any

from dispatch import keys, validate
from dispatch.auth import Actor
from dispatch.ids import new_id
from dispatch.service import Built, Dispatch, Route
from dispatch.store import Doc

LEVELS = ("info", "warning", "critical")


async def create_alert(svc: Dispatch, actor: Actor, body: dict[str, Any]) -> tuple[int, Any]:
    actor.require_operator("broadcasting alerts")
    validate.allowed_fields(body, {"text", "level", "unit_id"})
    text = validate.text(body, "text", svc.config.max_note_chars, required=True)
    level = validate.choice(body, "level", LEVELS, default="info")
    unit_id = None
    if body.get("unit_id") is not None:
        unit_id = (await svc.load("unit", body["unit_id"]))["unit_id"]
    alert_id = new_id("alert")

    async def build(_: Doc | None, now: float) -> Built:
        doc = {"alert_id": alert_id, "text": text, "level": level, "unit_id": unit_id,
               "by": actor.actor, "at": now}
        return Built(doc, {"text": text, "level": level, "unit_id": unit_id},
                     [("zadd", keys.ALERTS, now, alert_id)])
    doc, audit_id = await svc.change("alert", alert_id, actor, "alert.created", build,
                                     create=True)
    route = Route(units=[unit_id]) if unit_id else Route(everyone=True)
    await svc.publish({"type": "dispatch_alert", "audit_id": audit_id, "alert": doc}, route)
    return 201, doc


async def recent(svc: Dispatch, unit_id: str | None, member: bool, limit: int = 50
                 ) -> list[Doc]:
    ids = await svc.redis.zrevrange(keys.ALERTS, 0, max(limit * 4, 200) - 1)
    alerts = await svc.store.get_many(list(ids))
    if member:
        alerts = [a for a in alerts if a["unit_id"] in (None, unit_id)]
    return alerts[:limit]
