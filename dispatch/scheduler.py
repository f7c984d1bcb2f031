"""Reminders before a deadline, overdue marks and escalation. Every node runs the loop; a
Redis lock lets one tick at a time, and each reminder is claimed with SET NX, so it fires once
across nodes even when a test or the clock endpoint ticks by hand at the same time."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from dispatch import flow, keys, tasks
from dispatch.auth import Actor
from dispatch.service import Built, Dispatch, Route
from dispatch.store import Doc

log = logging.getLogger(__name__)
SCHEDULER = Actor("operator", "scheduler")
CLAIM_TTL_S = 400 * 86400
LOCK_TTL_FACTOR = 5


class Scheduler:
    def __init__(self, svc: Dispatch, node_id: str) -> None:
        self.svc = svc
        self.node_id = node_id

    async def run(self) -> None:
        interval = self.svc.config.scheduler_interval_s
        while True:
            try:
                if await self._lead(interval):
                    await self.tick()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("dispatch scheduler pass failed")
            await asyncio.sleep(interval)

    async def _lead(self, interval: float) -> bool:
        ttl_ms = max(1000, int(interval * LOCK_TTL_FACTOR * 1000))
        redis = self.svc.redis
        if await redis.set(keys.SCHEDULER_LOCK, self.node_id, nx=True, px=ttl_ms):
            return True
        if await redis.get(keys.SCHEDULER_LOCK) == self.node_id:
            await redis.pexpire(keys.SCHEDULER_LOCK, ttl_ms)
            return True
        return False

    async def resign(self) -> None:
        """Give the lead up at once (node stopping), instead of after the lock's TTL."""
        redis = self.svc.redis
        if await redis.get(keys.SCHEDULER_LOCK) == self.node_id:
            await redis.delete(keys.SCHEDULER_LOCK)

    async def _claim(self, entity_id: str, what: str) -> bool:
        return bool(await self.svc.redis.set(keys.claim(entity_id, what), "1", nx=True,
                                             ex=CLAIM_TTL_S))

    async def tick(self) -> list[dict[str, Any]]:
        """One pass; what fired."""
        svc = self.svc
        now = await svc.clock.now()
        fired: list[dict[str, Any]] = []
        for task_id in await svc.redis.zrangebyscore(keys.REMINDERS, "-inf", now):
            task = await svc.store.get(task_id)
            if task is None or task["status"] not in flow.OPEN:
                await svc.redis.zrem(keys.REMINDERS, task_id)
                continue
            round_ = task["assignments"]
            if now >= task["deadline"]:
                if await self._claim(task_id, f"overdue:{round_}"):
                    await self._overdue(task_id, now)
                    fired.append({"kind": "overdue", "task_id": task_id})
            elif await self._claim(task_id, f"due_soon:{round_}"):
                await self._due_soon(task_id, now)
                fired.append({"kind": "due_soon", "task_id": task_id})
        for item_id in await svc.redis.zrangebyscore(keys.OPEN_ITEMS, "-inf", f"({now}"):
            if await self._claim(item_id, "overdue"):
                await self._item_overdue(item_id, now)
                fired.append({"kind": "supervision_overdue", "item_id": item_id})
        return fired

    async def _mark(self, kind: str, entity_id: str, action: str, flags: dict[str, Any],
                    data: dict[str, Any], next_key: str, next_at: float | None
                    ) -> tuple[Doc, str | None]:
        """Set `flags` and audit; the entity's next scheduler time (None: no more)."""
        async def build(cur: Doc | None, now: float) -> Built:
            assert cur is not None
            op = ("zrem", next_key, 0.0, entity_id) if next_at is None else \
                ("zadd", next_key, next_at, entity_id)
            return Built({**cur, **flags}, data, [op])
        return await self.svc.change(kind, entity_id, SCHEDULER, action, build)

    async def _due_soon(self, task_id: str, now: float) -> None:
        deadline = (await self.svc.store.get(task_id) or {}).get("deadline", now)
        task, _ = await self._mark("task", task_id, "task.reminder", {"reminded": True},
                                   {"kind": "due_soon"}, keys.REMINDERS, deadline)
        await self.svc.publish({"type": "dispatch_reminder", "kind": "due_soon",
                                "task": tasks.render(task), "escalated_to": [], "now": now},
                               tasks.route_of(task))

    async def _overdue(self, task_id: str, now: float) -> None:
        svc = self.svc
        current = await svc.store.get(task_id)
        assert current is not None
        unit = await svc.store.get(current["assignee"]["unit_id"]) or {}
        supervisor = unit.get("supervisor_id")
        escalated = ([supervisor] if supervisor else []) + ["operators"]
        task, audit_id = await self._mark(
            "task", task_id, "task.overdue", {"overdue": True, "escalated": True},
            {"kind": "overdue", "escalated_to": escalated, "unit_id": unit.get("unit_id"),
             "deadline": current["deadline"]}, keys.REMINDERS, None)
        await tasks.announce(svc, "overdue", SCHEDULER.actor, audit_id, task)
        route = tasks.route_of(task)
        if supervisor:
            route.members.append(supervisor)
        await svc.publish({"type": "dispatch_reminder", "kind": "overdue",
                           "task": tasks.render(task), "escalated_to": escalated, "now": now},
                          route)

    async def _item_overdue(self, item_id: str, now: float) -> None:
        item, _ = await self._mark("supervision", item_id, "supervision.overdue",
                                   {"overdue": True}, {"kind": "overdue"}, keys.OPEN_ITEMS,
                                   None)
        unit = await self.svc.store.get(item["unit_id"]) or {}
        supervisor = unit.get("supervisor_id")
        await self.svc.publish({"type": "dispatch_reminder", "kind": "supervision_overdue",
                                "item": item, "escalated_to": ([supervisor] if supervisor
                                                               else []) + ["operators"],
                                "now": now}, Route(units=[item["unit_id"]]))
