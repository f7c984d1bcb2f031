"""How dispatch/ plugs into signalling (signaling/extensions.py): routes, WS messages, hooks."""

from __future__ import annotations

from typing import Any

from dispatch import alerts, api, runtime, tasks
from dispatch.relay import Subscription
from signaling.extensions import Extension, WsContext, WsMessage


async def subscribe(ctx: WsContext, msg: dict[str, Any]) -> None:
    """`dispatch_subscribe {token}`: this session gets dispatch events from now on, and the
    current state at once."""
    rt = runtime.runtime_of(ctx.node)
    svc = rt.svc
    actor = await svc.actor(msg["token"])
    unit_id = None
    if actor.member_id is not None:
        unit_id = (await svc.load("member", actor.member_id))["unit_id"]
    rt.relay.add(ctx.room.room_id, Subscription(ctx.room, ctx.member, actor.role, actor.member_id,
                                                unit_id))
    query = {"open": "1"}
    mine = await tasks.list_tasks(svc, actor, query)
    ctx.reply({"type": "dispatch_subscribed", "role": actor.role, "actor": actor.actor,
               "member_id": actor.member_id, "unit_id": unit_id, "now": await svc.clock.now(),
               "tasks": mine,
               "alerts": await alerts.recent(svc, unit_id, actor.member_id is not None)})


async def unsubscribe(ctx: WsContext, msg: dict[str, Any]) -> None:
    runtime.runtime_of(ctx.node).relay.drop(ctx.room.room_id, ctx.member.id)


EXTENSION = Extension(
    name="dispatch",
    add_routes=api.add_routes,
    ws_messages={
        "dispatch_subscribe": WsMessage(schema={"token": ((str,), True)}, handle=subscribe),
        "dispatch_unsubscribe": WsMessage(schema={}, handle=unsubscribe),
    },
    on_node_start=runtime.start,
    on_node_stop=runtime.stop,
)
