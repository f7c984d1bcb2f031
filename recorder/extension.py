"""How recorder/ plugs into signalling (signaling/extensions.py): routes, WS messages, hooks."""

from __future__ import annotations

from recorder import api, room_side
from recorder.cli import add_worker_cli
from signaling.extensions import Extension, WsMessage

EXTENSION = Extension(
    name="recorder",
    add_routes=api.add_routes,
    ws_messages={
        "recording_start": WsMessage(schema={}, handle=room_side.ws_start, grant="record"),
        "recording_stop": WsMessage(schema={}, handle=room_side.ws_stop, grant="record"),
    },
    on_node_start=room_side.on_node_start,
    on_node_stop=room_side.on_node_stop,
    on_room_open=room_side.on_room_open,
    on_member_join=room_side.on_member_join,
    add_worker_cli=add_worker_cli,
)
