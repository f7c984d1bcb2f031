"""Relays dispatch events (Redis pub/sub `cp:dispatch:events`) to the sessions of this node
that subscribed with `dispatch_subscribe`: operators get everything, members what concerns
them (docs/protocol.md "Dispatch messages")."""

from __future__ import annotations

import asyncio
import json
import logging
from dataclasses import dataclass
from typing import Any

import redis.asyncio as aioredis

from dispatch import keys

log = logging.getLogger(__name__)
RECONNECT_S = 1.0


@dataclass
class Subscription:
    room: Any  # signaling.room.Room the session joined
    member: Any  # signaling.participant.Member: .send() follows a resumed client
    role: str
    member_id: str | None
    unit_id: str | None

    def wants(self, event: dict[str, Any]) -> bool:
        if self.role == "operator":
            return True
        if self.member_id in event["members"]:
            return True
        return bool(event["everyone"] or (self.unit_id and self.unit_id in event["units"]))


class Relay:
    def __init__(self, client: aioredis.Redis) -> None:
        self.redis = client
        self.subs: dict[tuple[str, str], Subscription] = {}  # (room id, participant id)
        self.ready = asyncio.Event()

    def add(self, room_id: str, sub: Subscription) -> None:
        self.subs[(room_id, sub.member.id)] = sub

    def drop(self, room_id: str, participant_id: str) -> None:
        self.subs.pop((room_id, participant_id), None)

    async def run(self) -> None:
        while True:
            try:
                await self._listen()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("dispatch relay failed; reconnecting")
                self.ready.clear()
                await asyncio.sleep(RECONNECT_S)

    async def _listen(self) -> None:
        pubsub = self.redis.pubsub(ignore_subscribe_messages=True)
        try:
            await pubsub.subscribe(keys.EVENTS)
            self.ready.set()
            async for message in pubsub.listen():
                if message.get("type") == "message":
                    self.deliver(json.loads(message["data"]))
        finally:
            await pubsub.aclose()

    def deliver(self, event: dict[str, Any]) -> int:
        message = event["message"]
        self._follow_member(message)
        sent = 0
        for key, sub in list(self.subs.items()):
            if sub.room.closed or sub.room.members.get(sub.member.id) is not sub.member:
                del self.subs[key]  # left the room: no leave hook needed to forget it
                continue
            if sub.wants(event):
                sub.member.send(message)
                sent += 1
        return sent

    def _follow_member(self, message: dict[str, Any]) -> None:
        """A member moved to another unit: their subscription follows."""
        if message.get("type") != "dispatch_member":
            return
        member = message["member"]
        for sub in self.subs.values():
            if sub.member_id == member["member_id"]:
                sub.unit_id = None if message["action"] == "deleted" else member["unit_id"]
