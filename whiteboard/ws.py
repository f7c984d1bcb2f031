"""WebSocket messages of the whiteboard (docs/protocol.md "Whiteboard messages")."""

from __future__ import annotations

from typing import Any

from signaling.errors import SignalingError
from signaling.extensions import WsContext, WsMessage

from whiteboard.board import Actor
from whiteboard.node_state import WhiteboardNode

_STR, _LIST, _DICT, _INT = (str,), (list,), (dict,), (int,)


def actor_of(ctx: WsContext) -> Actor:
    member = ctx.member
    return Actor(member.id, member.record.name, member.allows("admin"))


async def _boards(ctx: WsContext) -> Any:
    return await WhiteboardNode.of(ctx.node).boards(ctx.room)


async def subscribe(ctx: WsContext, msg: dict[str, Any]) -> None:
    boards = await _boards(ctx)
    ctx.reply(boards.scene_message(msg["board_id"]))


async def operation(ctx: WsContext, msg: dict[str, Any]) -> None:
    boards = await _boards(ctx)
    payload = {k: v for k, v in msg.items() if k not in ("type", "board_id")}
    try:
        boards.run_op(actor_of(ctx), ctx.member.record.grants, msg["board_id"], payload,
                      ctx.reply)
    except SignalingError as exc:
        # Tell the client which of its operations was refused.
        raise SignalingError(exc.code, exc.message, board_id=msg["board_id"],
                             op_ref=msg.get("ref") if isinstance(msg.get("ref"), str)
                             else None) from None


async def live(ctx: WsContext, msg: dict[str, Any]) -> None:
    boards = await _boards(ctx)
    try:
        boards.live(actor_of(ctx), ctx.member.record.grants, msg)
    except SignalingError as exc:
        raise SignalingError(exc.code, exc.message, board_id=msg["board_id"]) from None


async def permissions(ctx: WsContext, msg: dict[str, Any]) -> None:
    boards = await _boards(ctx)
    await boards.set_permissions(msg)


WS_MESSAGES: dict[str, WsMessage] = {
    "wb_subscribe": WsMessage(schema={"board_id": (_STR, True)}, handle=subscribe),
    "wb_op": WsMessage(schema={
        "board_id": (_STR, True), "op": (_STR, True), "ref": (_STR, False),
        "elements": (_LIST, False), "ids": (_LIST, False),
        "participant_id": (_STR, False), "author_id": (_STR, False)}, handle=operation),
    "wb_live": WsMessage(schema={
        "board_id": (_STR, True), "seq": (_INT, False), "stroke": (_DICT, False),
        "pointer": (_DICT, False)}, handle=live),
    "wb_permissions": WsMessage(schema={"mode": (_STR, True), "presenters": (_LIST, False)},
                                handle=permissions, grant="admin"),
}
