"""REST under /api/dispatch/ (docs/API.md "Dispatch"): credentials, idempotent writes."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from dispatch import alerts, incidents, photos, stats, supervision, tasks, units, validate
from dispatch.auth import Actor, operator_token
from dispatch.idempotency import client_id_of, fingerprint
from dispatch.ids import kind_of
from dispatch.runtime import Runtime, runtime_of
from dispatch.service import Route
from signaling.appkeys import NODE
from signaling.errors import SignalingError
from signaling.http_util import bearer, json_response, read_body

JSON_LIMIT = 65536
AUDIT_ID_RE = re.compile(r"\d{1,20}-\d{1,20}")
Write = Callable[[Runtime, Actor, web.Request, dict[str, Any]], Awaitable[tuple[int, Any]]]
Read = Callable[[Runtime, Actor, web.Request], Awaitable[Any]]


def _runtime(request: web.Request) -> Runtime:
    return runtime_of(request.app[NODE])


def _parse(raw: bytes) -> dict[str, Any]:
    if not raw.strip():
        return {}
    try:
        data = json.loads(raw)
    except ValueError as exc:
        raise SignalingError("bad_json", f"body is not valid JSON: {exc}") from None
    if not isinstance(data, dict):
        raise SignalingError("bad_json", "body must be a JSON object")
    return data


def writer(fn: Write, body_limit: int | None = JSON_LIMIT, public: bool = False
           ) -> Callable[[web.Request], Awaitable[web.Response]]:
    """An idempotent write: credential, body, client id, then `fn` at most once."""
    async def handler(request: web.Request) -> web.Response:
        rt = _runtime(request)
        actor = await _mint_actor(rt, request) if public else await rt.svc.actor(bearer(request))
        limit = body_limit if body_limit is not None else rt.svc.config.max_photo_bytes
        raw = await read_body(request, limit)
        body = _parse(raw) if body_limit is not None else {}
        client_id = client_id_of(request.headers.get("Idempotency-Key"), body)
        fp = fingerprint(request.method, request.path, raw)
        status, out, replay = await rt.svc.idem.run(
            actor.actor, client_id, fp, lambda: fn(rt, actor, request, body | {"_raw": raw}
                                                   if body_limit is None else body))
        return json_response(out, status=status,
                             headers={"Idempotent-Replay": "true"} if replay else None)
    return handler


def reader(fn: Read) -> Callable[[web.Request], Awaitable[web.Response]]:
    async def handler(request: web.Request) -> web.Response:
        rt = _runtime(request)
        actor = await rt.svc.actor(bearer(request))
        return json_response(await fn(rt, actor, request))
    return handler


async def _mint_actor(rt: Runtime, request: web.Request) -> Actor:
    """Minting operator tokens: the api key, an operator token, or anyone without api key."""
    header = request.headers.get("Authorization")
    if header is None and not rt.svc.api_key:
        return Actor("operator", "anonymous")
    actor = await rt.svc.actor(bearer(request))
    actor.require_operator("minting operator tokens")
    return actor


def _id(request: web.Request) -> str:
    return request.match_info["id"]


# tokens and identity
async def post_operator_token(rt: Runtime, actor: Actor, request: web.Request,
                              body: dict[str, Any]) -> tuple[int, Any]:
    cfg = rt.svc.config
    name = validate.text(body, "name", cfg.max_title_chars, required=True)
    ttl = validate.integer(body, "ttl_s", 60, cfg.operator_token_ttl_s,
                           default=cfg.operator_token_ttl_s)
    assert ttl is not None
    issued = time.time()
    token = operator_token(rt.svc.secret, name, ttl, issued)
    await rt.svc.store.commit_audit_only("operators", "operator", "operator.token_minted",
                                         actor.actor, await rt.svc.clock.now(),
                                         {"name": name, "ttl_s": ttl})
    return 201, {"token": token, "role": "operator", "actor": "op:" + name,
                 "expires_at": int(issued) + ttl}


async def get_me(rt: Runtime, actor: Actor, request: web.Request) -> Any:
    if actor.member_id is None:
        return {"role": "operator", "actor": actor.actor}
    member = await rt.svc.load("member", actor.member_id)
    return {"role": "member", "actor": actor.actor, "member": member,
            "unit": await rt.svc.store.get(member["unit_id"])}


# units and members
async def get_units(rt: Runtime, actor: Actor, request: web.Request) -> Any:
    found = await rt.svc.store.get_many(await rt.svc.store.ids("unit"))
    return {"units": sorted(found, key=lambda u: u["name"])}


async def get_members(rt: Runtime, actor: Actor, request: web.Request) -> Any:
    unit_id = request.query.get("unit_id")
    return {"members": await rt.svc.members(unit_id)}


# photos
async def post_photo(rt: Runtime, actor: Actor, request: web.Request, body: dict[str, Any]
                     ) -> tuple[int, Any]:
    saved = await photos.save(rt.binary, body["_raw"])
    await rt.svc.store.commit_audit_only(saved["photo_id"], "photo", "photo.uploaded",
                                         actor.actor, await rt.svc.clock.now(),
                                         {"bytes": saved["bytes"], "type": saved["type"]})
    return 201, saved


async def get_photo(request: web.Request) -> web.Response:
    kind, data = await photos.load(_runtime(request).binary, request.match_info["id"])
    return web.Response(body=data, content_type=kind,
                        headers={"Cache-Control": "private, max-age=86400"})


# incidents
async def get_incidents(rt: Runtime, actor: Actor, request: web.Request) -> Any:
    limit = _limit(request, 200)
    found = await rt.svc.store.get_many(await rt.svc.store.ids("incident", limit=limit))
    status = request.query.get("status")
    return {"incidents": [incidents.render(rt.svc, i) for i in found
                          if status is None or i["status"] == status]}


async def get_incident(rt: Runtime, actor: Actor, request: web.Request) -> Any:
    return incidents.render(rt.svc, await rt.svc.load("incident", _id(request)))


# tasks
async def get_tasks(rt: Runtime, actor: Actor, request: web.Request) -> Any:
    return {"tasks": await tasks.list_tasks(rt.svc, actor, dict(request.query))}


async def get_task(rt: Runtime, actor: Actor, request: web.Request) -> Any:
    return tasks.render(await tasks.load_for(rt.svc, actor, _id(request)))


# alerts
async def get_alerts(rt: Runtime, actor: Actor, request: web.Request) -> Any:
    unit_id = None
    if actor.member_id:
        unit_id = (await rt.svc.load("member", actor.member_id))["unit_id"]
    return {"alerts": await alerts.recent(rt.svc, unit_id, actor.member_id is not None,
                                          _limit(request, 50))}


# supervision
async def get_items(rt: Runtime, actor: Actor, request: web.Request) -> Any:
    return {"items": await supervision.list_items(rt.svc, actor, dict(request.query))}


async def get_item(rt: Runtime, actor: Actor, request: web.Request) -> Any:
    return await supervision.load_for(rt.svc, actor, _id(request))


def item_step(action: str) -> Write:
    async def handle(rt: Runtime, actor: Actor, request: web.Request, body: dict[str, Any]
                     ) -> tuple[int, Any]:
        return await supervision.step(rt.svc, actor, _id(request), action, body)
    return handle


# stats, audit, clock
async def get_stats(rt: Runtime, actor: Actor, request: web.Request) -> Any:
    actor.require_operator("statistics")
    return await stats.task_stats(rt.svc, dict(request.query))


async def get_item_stats(rt: Runtime, actor: Actor, request: web.Request) -> Any:
    actor.require_operator("statistics")
    return await stats.supervision_stats(rt.svc, dict(request.query))


def _limit(request: web.Request, default: int, most: int = 1000) -> int:
    value = request.query.get("limit", str(default))
    if not value.isdigit() or not 1 <= int(value) <= most:
        raise SignalingError("bad_request", f"'limit' must be an integer from 1 to {most}")
    return int(value)


def _after(request: web.Request) -> str:
    after = request.query.get("after", "-")
    if after != "-" and not AUDIT_ID_RE.fullmatch(after):
        raise SignalingError("bad_request", "'after' must be an audit entry id like 1-0")
    return after


async def get_audit(rt: Runtime, actor: Actor, request: web.Request) -> Any:
    actor.require_operator("the audit log")
    entries = await rt.svc.store.audit(None, _after(request), _limit(request, 200))
    return {"entries": entries, "next": entries[-1]["id"] if entries else None}


async def get_entity_audit(rt: Runtime, actor: Actor, request: web.Request) -> Any:
    entity_id = _id(request)
    if entity_id.startswith("t_") and actor.member_id:
        await tasks.load_for(rt.svc, actor, entity_id)
    else:
        actor.require_operator("the audit log")
    kind = kind_of(entity_id)  # 404 for a malformed id; deleted members keep their history
    if kind != "member":
        await rt.svc.load(kind, entity_id)
    entries = await rt.svc.store.audit(entity_id, _after(request), _limit(request, 200))
    return {"entries": entries, "next": entries[-1]["id"] if entries else None}


async def get_clock(rt: Runtime, actor: Actor, request: web.Request) -> Any:
    clock = rt.svc.clock
    return {"now": await clock.now(), "offset_s": await clock.offset(),
            "test_clock": clock.test_clock}


async def post_clock(rt: Runtime, actor: Actor, request: web.Request, body: dict[str, Any]
                     ) -> tuple[int, Any]:
    actor.require_operator("moving the clock")
    clock = rt.svc.clock
    if not clock.test_clock:
        raise SignalingError("forbidden", "the dispatch clock can only be moved with "
                             "dispatch.test_clock = true")
    advance = validate.number(body, "advance_s", -1e10, 1e10)
    offset = validate.number(body, "offset_s", -1e10, 1e10)
    if (advance is None) == (offset is None):
        raise validate.bad("give either 'advance_s' or 'offset_s'")
    new = offset if offset is not None else await clock.offset() + (advance or 0)
    await clock.set_offset(new)
    now = await clock.now()
    await rt.svc.store.commit_audit_only("clock", "clock", "clock.moved", actor.actor, now,
                                         {"offset_s": new})
    await rt.svc.publish({"type": "dispatch_clock", "now": now, "offset_s": new},
                         Route())  # no members listed: operators only
    fired = await rt.scheduler.tick()
    return 200, {"now": now, "offset_s": new, "test_clock": True, "fired": fired}


def _w(fn: Callable[..., Awaitable[tuple[int, Any]]]) -> Write:
    """A write handler from a domain function (svc, actor, [id,] body)."""
    async def handle(rt: Runtime, actor: Actor, request: web.Request, body: dict[str, Any]
                     ) -> tuple[int, Any]:
        if "id" in request.match_info:
            return await fn(rt.svc, actor, _id(request), body)
        return await fn(rt.svc, actor, body)
    return handle


def _r(fn: Callable[..., Awaitable[Any]]) -> Read:
    async def handle(rt: Runtime, actor: Actor, request: web.Request) -> Any:
        return await fn(rt.svc, _id(request))
    return handle


async def _delete_member(svc: Any, actor: Actor, member_id: str, body: dict[str, Any]
                         ) -> tuple[int, Any]:
    return await units.delete_member(svc, actor, member_id)


async def _load_unit(svc: Any, unit_id: str) -> Any:
    return await units.unit_with_members(svc, unit_id)


async def _load_member(svc: Any, member_id: str) -> Any:
    return await svc.load("member", member_id)


def add_routes(app: web.Application) -> None:
    base = "/api/dispatch"
    r = app.router
    r.add_post(f"{base}/operator-token", writer(post_operator_token, public=True))
    r.add_get(f"{base}/me", reader(get_me))
    r.add_post(f"{base}/units", writer(_w(units.create_unit)))
    r.add_get(f"{base}/units", reader(get_units))
    r.add_get(f"{base}/units/{{id}}", reader(_r(_load_unit)))
    r.add_patch(f"{base}/units/{{id}}", writer(_w(units.update_unit)))
    r.add_post(f"{base}/members", writer(_w(units.create_member)))
    r.add_get(f"{base}/members", reader(get_members))
    r.add_get(f"{base}/members/{{id}}", reader(_r(_load_member)))
    r.add_patch(f"{base}/members/{{id}}", writer(_w(units.update_member)))
    r.add_delete(f"{base}/members/{{id}}", writer(_w(_delete_member)))
    r.add_post(f"{base}/members/{{id}}/token", writer(_w(units.mint_member_token)))
    r.add_post(f"{base}/photos", writer(post_photo, body_limit=None))
    r.add_get(f"{base}/photos/{{id}}", get_photo)
    r.add_post(f"{base}/incidents", writer(_w(incidents.create_incident)))
    r.add_get(f"{base}/incidents", reader(get_incidents))
    r.add_get(f"{base}/incidents/{{id}}", reader(get_incident))
    r.add_patch(f"{base}/incidents/{{id}}", writer(_w(incidents.update_incident)))
    r.add_post(f"{base}/incidents/{{id}}/notes", writer(_w(incidents.add_note)))
    r.add_post(f"{base}/tasks", writer(_w(tasks.create_task)))
    r.add_get(f"{base}/tasks", reader(get_tasks))
    r.add_get(f"{base}/tasks/{{id}}", reader(get_task))
    r.add_post(f"{base}/tasks/{{id}}/transition", writer(_w(tasks.transition)))
    r.add_post(f"{base}/tasks/{{id}}/reassign", writer(_w(tasks.reassign)))
    r.add_post(f"{base}/tasks/{{id}}/feedback", writer(_w(tasks.add_feedback)))
    r.add_post(f"{base}/alerts", writer(_w(alerts.create_alert)))
    r.add_get(f"{base}/alerts", reader(get_alerts))
    r.add_post(f"{base}/supervision", writer(_w(supervision.issue)))
    r.add_get(f"{base}/supervision", reader(get_items))
    r.add_get(f"{base}/supervision/stats", reader(get_item_stats))
    r.add_get(f"{base}/supervision/{{id}}", reader(get_item))
    for action in ("acknowledge", "progress", "submit", "review"):
        r.add_post(f"{base}/supervision/{{id}}/{action}", writer(item_step(action)))
    r.add_get(f"{base}/stats", reader(get_stats))
    r.add_get(f"{base}/audit", reader(get_audit))
    r.add_get(f"{base}/audit/{{id}}", reader(get_entity_audit))
    r.add_get(f"{base}/clock", reader(get_clock))
    r.add_post(f"{base}/clock", writer(post_clock))
