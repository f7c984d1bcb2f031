"""The dispatch service of one node: storage, clock, idempotency, credentials and the one
way every change is made (read, build, commit with version check, publish)."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import redis.asyncio as aioredis

from dispatch import keys
from dispatch.auth import Actor, credential_actor
from dispatch.clock import Clock
from dispatch.config import DispatchConfig
from dispatch.idempotency import Idempotency
from dispatch.ids import check_id
from dispatch.store import Change, Doc, EntityStore, VersionConflict
from signaling.errors import SignalingError
from signaling.reports import PhotoSigner

MAX_RETRIES = 20


@dataclass
class Built:
    """What a change builder returns: the new state and what the audit entry says."""

    doc: Doc | None
    data: dict[str, Any] = field(default_factory=dict)
    index_ops: list[tuple[str, str, float, str]] = field(default_factory=list)
    unchanged: bool = False  # nothing to write (e.g. a stale transition)


Builder = Callable[[Doc | None, float], Awaitable[Built]]


@dataclass
class Route:
    """Who hears an event besides operators (who hear everything)."""

    members: list[str] = field(default_factory=list)
    units: list[str] = field(default_factory=list)
    everyone: bool = False  # every subscribed member


class Dispatch:
    def __init__(self, client: aioredis.Redis, config: DispatchConfig, secret: str,
                 api_key: str, photo_url_ttl_s: int) -> None:
        self.redis = client
        self.config = config
        self.secret = secret
        self.api_key = api_key
        self.store = EntityStore(client)
        self.clock = Clock(client, config.test_clock)
        self.idem = Idempotency(client, config.idempotency_ttl_s)
        self.report_photos = PhotoSigner(secret, photo_url_ttl_s)

    async def actor(self, credential: str) -> Actor:
        actor = credential_actor(self.secret, self.api_key, credential)
        if actor.member_id is not None and await self.store.get(actor.member_id) is None:
            raise SignalingError("auth_failed", "this member no longer exists")
        return actor

    async def load(self, kind: str, entity_id: object) -> Doc:
        checked = check_id(kind, entity_id)
        doc = await self.store.get(checked)
        if doc is None:
            raise SignalingError("not_found", f"no {kind} {checked!r}", what=kind)
        return doc

    async def change(self, kind: str, entity_id: str, actor: Actor, action: str,
                     build: Builder, create: bool = False,
                     expected_version: object = None, read: Doc | None = None
                     ) -> tuple[Doc, str | None]:
        """Apply `build` to the current state, retrying when another writer got there
        first. (new doc, audit entry id); entry id None when nothing changed. `read`: the
        state the caller just read, used for the first attempt (saves a round trip)."""
        for attempt in range(MAX_RETRIES):
            if create:
                current = None
            elif attempt == 0 and read is not None:
                current = read
            else:
                current = await self.store.get(entity_id)
            if not create and current is None:
                raise SignalingError("not_found", f"no {kind} {entity_id!r}", what=kind)
            if expected_version is not None and current is not None \
                    and expected_version != current["version"]:
                raise SignalingError("conflict", f"{kind} is at version {current['version']}, "
                                     f"not {expected_version}", current=current)
            now = await self.clock.now()
            built = await build(current, now)
            if built.unchanged:
                assert current is not None
                return current, None
            read_version = 0 if current is None else int(current["version"])
            if built.doc is not None:
                built.doc["version"] = read_version + 1
                built.doc["updated_at"] = now
            try:
                audit_id = await self.store.commit(Change(
                    entity_id, kind, built.doc, read_version, action, actor.actor, now,
                    built.data, built.index_ops))
            except VersionConflict:
                continue
            return (built.doc if built.doc is not None else current or {}), audit_id
        raise SignalingError("unavailable", f"{kind} {entity_id} is changing too fast; retry")

    async def publish(self, message: dict[str, Any], route: Route) -> None:
        """Send a client message to every node's relay (dispatch/relay.py)."""
        await self.redis.publish(keys.EVENTS, json.dumps(
            {"message": message, "members": route.members, "units": route.units,
             "everyone": route.everyone}, ensure_ascii=False))

    async def members(self, unit_id: str | None = None) -> list[Doc]:
        docs = await self.store.get_many(await self.store.ids("member", newest_first=False))
        return [m for m in docs if unit_id is None or m["unit_id"] == unit_id]
