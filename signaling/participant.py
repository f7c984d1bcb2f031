"""A participant of a room on this node, and its subscribe renegotiation loop."""

from __future__ import annotations

import asyncio
import logging
import secrets
import time
from collections.abc import Callable
from typing import Any, Protocol

from signaling.errors import SignalingError
from signaling.locations import Location
from signaling.media import track_json
from signaling.store import ParticipantRecord

log = logging.getLogger(__name__)


class Client(Protocol):
    """What a room needs from a connected signalling client (signaling.session.Session)."""

    def send(self, message: dict[str, Any]) -> None: ...
    def send_encoded(self, text: str) -> None: ...  # a message already encoded as JSON
    def close(self, code: int, reason: str) -> None: ...


class Member:
    """Room-side state of one participant: its record, client, resume token and loops."""

    def __init__(self, record: ParticipantRecord, client: Client | None) -> None:
        self.record = record
        self.client = client
        self.resume_token = secrets.token_urlsafe(24)
        self.last_alive = time.time()
        self.announced = False  # visible to others only once its join has succeeded
        self.subscriber: SubscribeLoop | None = None
        self.removal: asyncio.Task[None] | None = None
        self.location: Location | None = None  # latest `location` (kept across a resume)
        self.expires_at = 0  # when the credentials it joined with expire (unix s)

    @property
    def id(self) -> str:
        return self.record.id

    @property
    def visible(self) -> bool:
        return self.announced and not self.record.hidden

    def allows(self, grant: str) -> bool:
        return grant in self.record.grants

    def send(self, message: dict[str, Any]) -> None:
        if self.client is not None:
            self.client.send(message)

    def send_encoded(self, text: str) -> None:
        """A message encoded once for many members (extensions fanning out to a room)."""
        if self.client is not None:
            self.client.send_encoded(text)

    def alive_until_ms(self, timeout_s: float) -> int:
        """When presence lapses: WHIP publishers live while their session does."""
        if self.record.kind == "whip":
            return int((time.time() + timeout_s) * 1000)
        return int((self.last_alive + timeout_s) * 1000)

    def stop_loops(self) -> None:
        if self.subscriber is not None:
            self.subscriber.close()
            self.subscriber = None
        if self.removal is not None and self.removal is not asyncio.current_task():
            self.removal.cancel()
        self.removal = None


class SubscribeLoop:
    """Server-side offers for one subscriber: one outstanding offer at a time.

    `want` records the track ids the subscriber should receive; the loop offers when that
    differs from what it last offered, and waits for the client's answer before offering
    again, so changes during an exchange are folded into the next offer.
    """

    RETRY_S = 1.0
    # A client that cannot apply our offers gets a new subscribe connection this many
    # times a minute; beyond that the same offer would most likely fail again.
    FRESH_OFFERS_PER_MINUTE = 3
    FRESH_OFFER_WINDOW_S = 60.0

    def __init__(self, media: Any, participant_id: str,
                 send: Callable[[dict[str, Any]], None]) -> None:
        self._media = media
        self._pid = participant_id
        self._send = send
        self._wanted: frozenset[str] = frozenset()
        self._offered: frozenset[str] | None = None
        self._awaiting = False
        self._fresh_offers: list[float] = []  # monotonic times of offer_failed resets
        self._wake = asyncio.Event()
        self._closed = False
        self._task = asyncio.create_task(self._run(), name=f"subscribe-{participant_id}")

    @property
    def awaiting_answer(self) -> bool:
        return self._awaiting

    def want(self, track_ids: frozenset[str]) -> None:
        self._wanted = track_ids
        self._wake.set()

    async def answer(self, sdp: str) -> None:
        if not self._awaiting:
            raise SignalingError("bad_message", "no subscribe offer is waiting for an answer")
        await self._media.subscribe_answer(self._pid, sdp)
        self._awaiting = False
        self._wake.set()

    async def offer_failed(self, error: str) -> None:
        """The client refused our offer: drop its subscribe connection and offer a new
        one, at most FRESH_OFFERS_PER_MINUTE times a minute."""
        if not self._awaiting:
            raise SignalingError("bad_message", "no subscribe offer is waiting for an answer")
        now = time.monotonic()
        self._fresh_offers = [t for t in self._fresh_offers
                              if now - t < self.FRESH_OFFER_WINDOW_S]
        if len(self._fresh_offers) >= self.FRESH_OFFERS_PER_MINUTE:
            raise SignalingError(
                "limit_reached", f"the subscribe offer failed {len(self._fresh_offers) + 1} "
                f"times within {self.FRESH_OFFER_WINDOW_S:.0f} s; rejoin to try again")
        self._fresh_offers.append(now)
        log.warning("%s could not apply its subscribe offer (%s): offering a new connection",
                    self._pid, error[:200])
        await self._media.drop_subscriber(self._pid)
        self._offered = None
        self._awaiting = False
        self._wake.set()

    def close(self) -> None:
        self._closed = True
        self._task.cancel()

    async def _run(self) -> None:
        while not self._closed:
            await self._wake.wait()
            self._wake.clear()
            if self._closed or self._awaiting or not self._needs_offer():
                continue
            wanted = self._wanted
            try:
                offer = await self._media.subscribe_offer(self._pid)
            except Exception:
                if self._closed:
                    return
                log.exception("subscribe offer for %s failed", self._pid)
                self._send({"type": "error", "code": "internal",
                            "message": "server could not prepare a subscribe offer"})
                await asyncio.sleep(self.RETRY_S)
                self._wake.set()
                continue
            if self._closed:  # removed while the offer was being made
                return
            self._offered = wanted
            self._awaiting = True
            self._send({"type": "offer", "sdp": offer.sdp,
                        "tracks": {mid: track_json(t) for mid, t in offer.tracks.items()}})

    def _needs_offer(self) -> bool:
        if self._offered is None:
            return bool(self._wanted)
        return self._wanted != self._offered
