"""The one registration point of the capability packages (recorder/, transcribe/,
whiteboard/, dispatch/): each exposes `EXTENSION: Extension` in its `extension` module and
signalling never imports their internals.

An extension may add HTTP routes to every node, WebSocket message types handled for joined
participants, background work per node (started and stopped with the node), reactions to a
room opening and closing on this node, and `commandpost worker <kind>` subcommands. The core calls
these hooks; a failing hook is logged and never takes the node or the room down with it.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from aiohttp import web

if TYPE_CHECKING:
    from signaling.node import Node
    from signaling.participant import Member
    from signaling.room import Room

log = logging.getLogger(__name__)

# Modules holding an `EXTENSION`; order is the order routes and hooks are installed in.
EXTENSION_MODULES: tuple[str, ...] = (
    "recorder.extension",
    "transcribe.extension",
    "whiteboard.extension",
    "dispatch.extension",
)

# signaling.messages schema of one message: field -> (accepted types, required).
Schema = Mapping[str, tuple[tuple[type, ...], bool]]


@dataclass(frozen=True)
class WsContext:
    """What a WebSocket message handler of an extension may use."""

    node: Node
    room: Room
    member: Member
    session: Any  # signaling.session.Session: .send(message), .error(code, message, ref)

    def reply(self, message: dict[str, Any]) -> None:
        self.session.send(message)


WsHandle = Callable[[WsContext, dict[str, Any]], Awaitable[None]]


@dataclass(frozen=True)
class WsMessage:
    """A client -> server message type an extension handles once the client has joined.

    `schema` is checked by signaling.messages before `handle` runs (unknown fields are
    dropped); `grant`, when set, is required of the sender (else a `forbidden` error).
    `handle` raises SignalingError for a refusal the client should see."""

    schema: Schema
    handle: WsHandle
    grant: str | None = None


NodeHook = Callable[["Node"], Awaitable[None]]
RoomHook = Callable[["Node", "Room"], Awaitable[None]]
# A member joined (also after a resume, which re-sends `joined`) or left (with the reason).
MemberHook = Callable[["Room", "Member"], Awaitable[None]]
LeaveHook = Callable[["Room", "Member", str], Awaitable[None]]
# Receives argparse's subparsers action of `commandpost worker`; adds one parser per kind
# with `set_defaults(func=...)` where func(args) -> int runs the worker.
CliHook = Callable[[Any], None]


@dataclass(frozen=True)
class Extension:
    name: str
    add_routes: Callable[[web.Application], None] | None = None
    ws_messages: Mapping[str, WsMessage] = field(default_factory=dict)
    on_node_start: NodeHook | None = None
    on_node_stop: NodeHook | None = None
    on_room_open: RoomHook | None = None
    on_room_close: RoomHook | None = None
    on_member_join: MemberHook | None = None
    on_member_leave: LeaveHook | None = None
    add_worker_cli: CliHook | None = None


def load_extensions(modules: Sequence[str] = EXTENSION_MODULES) -> tuple[Extension, ...]:
    """Import each module's EXTENSION; a module that is missing is an error at start-up."""
    found = []
    for name in modules:
        module = importlib.import_module(name)
        extension = getattr(module, "EXTENSION", None)
        if not isinstance(extension, Extension):
            raise TypeError(f"{name}.EXTENSION must be a signaling.extensions.Extension")
        found.append(extension)
    return tuple(found)


@dataclass(frozen=True)
class Extensions:
    """The loaded extensions of one process, with the core's view of their hooks."""

    items: tuple[Extension, ...] = ()

    @classmethod
    def load(cls) -> Extensions:
        return cls(load_extensions())

    def ws_message(self, kind: str) -> WsMessage | None:
        for extension in self.items:
            spec = extension.ws_messages.get(kind)
            if spec is not None:
                return spec
        return None

    def schemas(self) -> dict[str, Schema]:
        return {kind: spec.schema for ext in self.items
                for kind, spec in ext.ws_messages.items()}

    def add_routes(self, app: web.Application) -> None:
        for extension in self.items:
            if extension.add_routes is not None:
                extension.add_routes(app)

    def add_worker_cli(self, subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
        for extension in self.items:
            if extension.add_worker_cli is not None:
                extension.add_worker_cli(subparsers)

    async def node_started(self, node: Node) -> None:
        for ext in self.items:
            await _guard(ext.on_node_start, f"{ext.name}: node start", node)

    async def node_stopping(self, node: Node) -> None:
        for ext in reversed(self.items):
            await _guard(ext.on_node_stop, f"{ext.name}: node stop", node)

    async def room_opened(self, node: Node, room: Room) -> None:
        for ext in self.items:
            await _guard(ext.on_room_open, f"{ext.name}: room {room.room_id} open", node, room)

    # Member hooks run side by side: one extension's Redis round trip must not delay
    # another's bookkeeping (a drawer's place on a board is free as soon as they leave).
    async def member_joined(self, room: Room, member: Member) -> None:
        await asyncio.gather(*(_guard(ext.on_member_join, f"{ext.name}: {member.id} joined",
                                      room, member) for ext in self.items))

    async def member_left(self, room: Room, member: Member, reason: str) -> None:
        await asyncio.gather(*(_guard(ext.on_member_leave, f"{ext.name}: {member.id} left",
                                      room, member, reason) for ext in self.items))

    async def room_closed(self, node: Node, room: Room) -> None:
        for ext in self.items:
            await _guard(ext.on_room_close, f"{ext.name}: room {room.room_id} close", node,
                         room)


async def _guard(hook: Callable[..., Awaitable[None]] | None, what: str, *args: Any) -> None:
    if hook is None:
        return
    try:
        await hook(*args)
    except Exception:
        log.exception("%s failed", what)
