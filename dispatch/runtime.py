"""Dispatch's state on one node (kept in `node.extension_state["dispatch"]`): the service,
a binary Redis client for photos, the event relay and the scheduler, started and stopped
with the node."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

import redis.asyncio as aioredis

from dispatch.relay import Relay
from dispatch.scheduler import Scheduler
from dispatch.service import Dispatch
from signaling.errors import SignalingError
from signaling.node import Node, cancel_and_wait

STATE_KEY = "dispatch"


@dataclass
class Runtime:
    svc: Dispatch
    binary: aioredis.Redis
    relay: Relay
    scheduler: Scheduler
    tasks: list[asyncio.Task[None]] = field(default_factory=list)


def runtime_of(node: Node) -> Runtime:
    runtime = node.extension_state.get(STATE_KEY)
    if runtime is None:
        raise SignalingError("unavailable", "dispatch is not running on this node")
    return runtime  # type: ignore[no-any-return]


def _binary_client(client: aioredis.Redis) -> aioredis.Redis:
    pool = client.connection_pool
    kwargs: dict[str, Any] = dict(pool.connection_kwargs)
    kwargs["decode_responses"] = False
    return aioredis.Redis(connection_pool=aioredis.ConnectionPool(
        connection_class=pool.connection_class, **kwargs))


async def start(node: Node) -> None:
    services = node.services
    client = services.store.redis
    config = services.config
    svc = Dispatch(client, config.dispatch, services.identity.secret, config.server.api_key,
                   config.reports.photo_url_ttl_s)
    runtime = Runtime(svc, _binary_client(client), Relay(client),
                      Scheduler(svc, node.node_id))
    runtime.tasks = [asyncio.create_task(runtime.relay.run(), name="dispatch relay"),
                     asyncio.create_task(runtime.scheduler.run(), name="dispatch scheduler")]
    node.extension_state[STATE_KEY] = runtime
    await asyncio.wait_for(runtime.relay.ready.wait(), 5)


async def stop(node: Node) -> None:
    runtime = node.extension_state.pop(STATE_KEY, None)
    if runtime is None:
        return
    await cancel_and_wait(runtime.tasks)
    try:
        await runtime.scheduler.resign()
    finally:
        await runtime.binary.aclose()
