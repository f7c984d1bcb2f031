"""Units (teams, departments) and their members, and the tokens members sign in with."""

from __future__ import annotations

import time
from typing import Any

from dispatch import keys, validate
from dispatch.auth import Actor, member_token
from dispatch.ids import check_foreign, check_id, new_id
from dispatch.service import Built, Dispatch, Route
from dispatch.store import Doc
from signaling.errors import SignalingError

UNIT_KINDS = ("team", "department")
UNIT_FIELDS = {"name", "kind", "phone", "parent_id", "supervisor_id"}
MEMBER_FIELDS = {"name", "role", "unit_id", "phone", "identity"}


async def _unit_fields(svc: Dispatch, body: dict[str, Any], base: Doc) -> Doc:
    limit = svc.config.max_title_chars
    doc = dict(base)
    if "name" in body or not base:
        doc["name"] = validate.text(body, "name", limit, required=True)
    if "kind" in body or not base:
        doc["kind"] = validate.choice(body, "kind", UNIT_KINDS, default="team")
    if "phone" in body or not base:
        doc["phone"] = validate.text(body, "phone", 40)
    if "parent_id" in body or not base:
        parent = body.get("parent_id")
        doc["parent_id"] = None if parent is None else (await svc.load("unit", parent))["unit_id"]
    if "supervisor_id" in body:
        sup = body["supervisor_id"]
        if sup is not None:
            member = await svc.load("member", sup)
            if member["unit_id"] != base.get("unit_id"):
                raise SignalingError("bad_request", "the supervisor must be a member of the unit")
        doc["supervisor_id"] = sup
    return doc


async def create_unit(svc: Dispatch, actor: Actor, body: dict[str, Any]) -> tuple[int, Any]:
    actor.require_operator("creating units")
    validate.allowed_fields(body, UNIT_FIELDS - {"supervisor_id"})
    unit_id = new_id("unit")
    fields = await _unit_fields(svc, body, {})

    async def build(_: Doc | None, now: float) -> Built:
        doc = {"unit_id": unit_id, **fields, "supervisor_id": None, "created_at": now}
        return Built(doc, {"fields": fields}, [("zadd", keys.index("unit"), now, unit_id)])
    doc, audit_id = await svc.change("unit", unit_id, actor, "unit.created", build, create=True)
    await svc.publish({"type": "dispatch_unit", "action": "created", "by": actor.actor,
                       "audit_id": audit_id, "unit": doc}, Route(units=[unit_id]))
    return 201, doc


async def update_unit(svc: Dispatch, actor: Actor, unit_id: str, body: dict[str, Any]
                      ) -> tuple[int, Any]:
    actor.require_operator("changing units")
    validate.allowed_fields(body, UNIT_FIELDS)
    current = await svc.load("unit", unit_id)
    fields = await _unit_fields(svc, body, current)

    async def build(cur: Doc | None, now: float) -> Built:
        assert cur is not None
        changed = {k: v for k, v in fields.items() if cur.get(k) != v and k in UNIT_FIELDS}
        return Built({**cur, **changed}, {"changed": changed})
    doc, audit_id = await svc.change("unit", current["unit_id"], actor, "unit.updated", build,
                                     expected_version=body.get("expected_version"))
    await svc.publish({"type": "dispatch_unit", "action": "updated", "by": actor.actor,
                       "audit_id": audit_id, "unit": doc}, Route(units=[doc["unit_id"]]))
    return 200, doc


async def _member_fields(svc: Dispatch, body: dict[str, Any], base: Doc) -> Doc:
    limit = svc.config.max_title_chars
    doc = dict(base)
    if "name" in body or not base:
        doc["name"] = validate.text(body, "name", limit, required=True)
    if "role" in body or not base:
        doc["role"] = validate.text(body, "role", limit)
    if "phone" in body or not base:
        doc["phone"] = validate.text(body, "phone", 40)
    if "unit_id" in body or not base:
        if body.get("unit_id") is None:
            raise SignalingError("bad_request", "'unit_id' is required")
        doc["unit_id"] = (await svc.load("unit", body["unit_id"]))["unit_id"]
    if "identity" in body or not base:
        identity = body.get("identity")
        doc["identity"] = None if identity is None else check_foreign(identity, "identity")
    return doc


async def create_member(svc: Dispatch, actor: Actor, body: dict[str, Any]) -> tuple[int, Any]:
    actor.require_operator("creating members")
    validate.allowed_fields(body, MEMBER_FIELDS)
    member_id = new_id("member")
    fields = await _member_fields(svc, body, {})

    async def build(_: Doc | None, now: float) -> Built:
        doc = {"member_id": member_id, **fields, "created_at": now}
        return Built(doc, {"fields": fields}, [("zadd", keys.index("member"), now, member_id)])
    doc, audit_id = await svc.change("member", member_id, actor, "member.created", build,
                                     create=True)
    await svc.publish({"type": "dispatch_member", "action": "created", "by": actor.actor,
                       "audit_id": audit_id, "member": doc}, Route(units=[doc["unit_id"]]))
    return 201, doc


async def update_member(svc: Dispatch, actor: Actor, member_id: str, body: dict[str, Any]
                        ) -> tuple[int, Any]:
    actor.require_operator("changing members")
    validate.allowed_fields(body, MEMBER_FIELDS)
    current = await svc.load("member", member_id)
    fields = await _member_fields(svc, body, current)

    async def build(cur: Doc | None, now: float) -> Built:
        assert cur is not None
        changed = {k: v for k, v in fields.items() if cur.get(k) != v and k in MEMBER_FIELDS}
        return Built({**cur, **changed}, {"changed": changed})
    doc, audit_id = await svc.change("member", current["member_id"], actor, "member.updated",
                                     build, expected_version=body.get("expected_version"))
    await svc.publish({"type": "dispatch_member", "action": "updated", "by": actor.actor,
                       "audit_id": audit_id, "member": doc},
                      Route(members=[doc["member_id"]], units=[doc["unit_id"]]))
    return 200, doc


async def delete_member(svc: Dispatch, actor: Actor, member_id: str) -> tuple[int, Any]:
    actor.require_operator("deleting members")
    current = await svc.load("member", member_id)

    async def build(cur: Doc | None, now: float) -> Built:
        return Built(None, {"member": cur},
                     [("zrem", keys.index("member"), 0, current["member_id"])])
    _, audit_id = await svc.change("member", current["member_id"], actor, "member.deleted",
                                   build)
    await svc.publish({"type": "dispatch_member", "action": "deleted", "by": actor.actor,
                       "audit_id": audit_id, "member": current},
                      Route(members=[current["member_id"]], units=[current["unit_id"]]))
    return 200, {"deleted": current["member_id"]}


async def mint_member_token(svc: Dispatch, actor: Actor, member_id: str, body: dict[str, Any]
                            ) -> tuple[int, Any]:
    actor.require_operator("minting member tokens")
    member = await svc.load("member", member_id)
    limit = svc.config.member_token_ttl_s
    ttl = validate.integer(body, "ttl_s", 60, limit, default=limit)
    assert ttl is not None
    now = await svc.clock.now()
    issued = time.time()  # JWT expiry is checked against the real clock
    token = member_token(svc.secret, member["member_id"], member["name"], ttl, issued)
    await svc.store.commit_audit_only(member["member_id"], "member", "member.token_minted",
                                      actor.actor, now, {"ttl_s": ttl})
    return 201, {"token": token, "role": "member", "member_id": member["member_id"],
                 "expires_at": int(issued) + ttl}


async def unit_with_members(svc: Dispatch, unit_id: str) -> Doc:
    unit = await svc.load("unit", unit_id)
    return unit | {"members": await svc.members(unit["unit_id"])}


def check_unit_id(value: object) -> str:
    return check_id("unit", value)
