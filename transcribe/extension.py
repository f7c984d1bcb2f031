"""How transcribe/ plugs into signalling (signaling/extensions.py): routes, WS messages, hooks."""

from __future__ import annotations

from aiohttp import web

from signaling.extensions import Extension, WsMessage
from transcribe import relay
from transcribe.cli import add_cli
from transcribe.switch import ws_transcription
from transcribe.minutes import hooks as minutes_hooks


def add_routes(app: web.Application) -> None:
    from transcribe.api import add_routes as transcript_routes
    from transcribe.minutes_api import add_routes as minutes_routes

    transcript_routes(app)
    minutes_routes(app)


EXTENSION = Extension(
    name="transcribe",
    add_routes=add_routes,
    ws_messages={"transcription": WsMessage(schema={"enabled": ((bool,), True)},
                                            handle=ws_transcription, grant="admin")},
    on_node_start=relay.node_started,
    on_node_stop=minutes_hooks.also(relay.node_stopping, minutes_hooks.node_stopping),
    on_room_open=relay.room_opened,
    on_room_close=minutes_hooks.also(relay.room_closed, minutes_hooks.room_closed),
    on_member_join=relay.member_joined,
    on_member_leave=relay.member_left,
    add_worker_cli=add_cli,
)
