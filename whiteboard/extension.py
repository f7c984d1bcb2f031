"""How whiteboard/ plugs into signalling (signaling/extensions.py): routes, WS messages, hooks."""

from __future__ import annotations

from typing import TYPE_CHECKING

from signaling.extensions import Extension

from whiteboard import api
from whiteboard.node_state import KEY, WhiteboardNode
from whiteboard.ws import WS_MESSAGES

if TYPE_CHECKING:
    from signaling.node import Node
    from signaling.participant import Member
    from signaling.room import Room


async def node_started(node: Node) -> None:
    WhiteboardNode.of(node)


async def node_stopping(node: Node) -> None:
    await WhiteboardNode.of(node).close()


async def room_opened(node: Node, room: Room) -> None:
    wb = WhiteboardNode.of(node)
    room.extension_state[KEY] = wb  # member hooks get only the room
    await wb.boards(room)


async def room_closed(node: Node, room: Room) -> None:
    await WhiteboardNode.of(node).close_room(room)


async def member_joined(room: Room, member: Member) -> None:
    """A (re)joining member gets every board's full scene at once."""
    wb = room.extension_state.get(KEY)
    if not isinstance(wb, WhiteboardNode):
        return
    boards = await wb.boards(room)
    for message in boards.state_messages(member.id, member.record.grants):
        member.send(message)


async def member_left(room: Room, member: Member, reason: str) -> None:
    """Whoever left stops counting against max_drawers_per_board at once."""
    wb = room.extension_state.get(KEY)
    if isinstance(wb, WhiteboardNode):
        held = wb.rooms.get(room.room_id)
        if held is not None and held.room is room:
            held.forget_drawer(member.id)


EXTENSION = Extension(
    name="whiteboard",
    add_routes=api.add_routes,
    ws_messages=WS_MESSAGES,
    on_node_start=node_started,
    on_node_stop=node_stopping,
    on_room_open=room_opened,
    on_room_close=room_closed,
    on_member_join=member_joined,
    on_member_leave=member_left,
)
