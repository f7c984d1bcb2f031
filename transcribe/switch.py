"""Switching a room's transcription on and off, from REST or the host's button, and telling
the room: a `transcription` message goes out through the captions channel, so whichever node
made the change, the node hosting the room relays it (transcribe/relay.py)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from transcribe.jobs import JobQueue
from transcribe.store import TranscriptStore

if TYPE_CHECKING:
    from signaling.extensions import WsContext
    from signaling.participant import Member
    from signaling.room import Room


async def start_job(store: TranscriptStore, room_id: str) -> bool:
    """Queue the room's job unless it has one; True if queued now."""
    await store.mark_started(room_id)
    queue = JobQueue(store.redis)
    await queue.ensure_group()
    queued = await queue.enqueue(room_id)
    if queued:
        await store.set_status(room_id, "queued")
    return queued


async def switch(store: TranscriptStore, room_id: str, enabled: bool, room_open: bool,
                 lang: str | None = None, phrases: list[str] | None = None) -> None:
    """Store the setting; on: a job now if the room is open (else when it opens); off: the
    worker notices within heartbeat_s and leaves. The room hears `transcription`."""
    await store.put_settings(room_id, enabled, lang, phrases)
    if enabled and room_open:
        await start_job(store, room_id)
    elif not enabled and (await store.meta(room_id)).get("status") == "queued":
        await store.set_status(room_id, "stopped")
    await store.publish_caption(room_id, state_message(enabled))


def state_message(enabled: bool) -> dict[str, Any]:
    return {"type": "transcription", "enabled": enabled}


async def enabled_for(store: TranscriptStore, room: Room) -> bool:
    config = room.services.config.transcribe
    settings = await store.settings(room.room_id, config.lang, config.phrases)
    return settings.enabled if settings is not None else config.auto_start


async def tell_member(room: Room, member: Member) -> None:
    """A (re)joining participant learns whether the room is transcribed."""
    if member.record.kind == "ws" and member.visible:
        store = TranscriptStore(room.services.store.redis)
        member.send(state_message(await enabled_for(store, room)))


async def ws_transcription(ctx: WsContext, message: dict[str, Any]) -> None:
    """The host's button (grant `admin`): `{"type": "transcription", "enabled": bool}`."""
    store = TranscriptStore(ctx.node.services.store.redis)
    await switch(store, ctx.room.room_id, bool(message["enabled"]), room_open=True)
