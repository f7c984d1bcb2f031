"""One room hosted on this node: its members, its RoomMedia, host controls and broadcasts.

Every change to membership goes through here so Redis, the SFU and the connected clients
see the same story. Admission is serialised by one lock; media work happens outside it.
"""

from __future__ import annotations

import asyncio
import dataclasses
import hmac
import logging
import secrets
import time
from collections.abc import Callable
from typing import Any

from sfu import SdpError, UnknownTrackError

from signaling.config import LimitsConfig
from signaling.errors import SignalingError
from signaling.feeds import RoomFeeds
from signaling.locations import LocationStore, parse_location
from signaling.media import check_sdp, sources_from_sdp, track_json
from signaling.participant import Client, Member, SubscribeLoop
from signaling.services import Services
from signaling.store import ParticipantRecord
from signaling.tokens import Claims, rest_token
from signaling.turn import ice_servers

log = logging.getLogger(__name__)
TRACKS_DEBOUNCE_S = 0.05
# Removal is scheduled this much before the presence deadline so "gone within
# presence_timeout_s" holds even after timer and event-loop delays.
REMOVAL_MARGIN_S = 0.5


class Room:
    def __init__(self, room_id: str, services: Services, media: Any, locked: bool,
                 on_idle: Callable[[Room], None]) -> None:
        self.room_id = room_id
        self.services = services
        self.media = media
        self.locked = locked
        self.members: dict[str, Member] = {}
        self.whip_sessions: dict[str, str] = {}  # url id -> participant id
        self.whep_sessions: dict[str, Any] = {}  # url id -> sfu session id
        # Per-room state of the extensions (signaling/extensions.py), by extension name:
        # their member hooks get the room, so this is where they find their own objects.
        self.extension_state: dict[str, Any] = {}
        self.users = 0  # requests currently working with this room (see Node.using)
        self.closed = False
        self._on_idle = on_idle
        self._lock = asyncio.Lock()
        self._tracks_task: asyncio.Task[None] | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._active_speaker: str | None = None
        self._levels: dict[str, float] = {}
        self._locations = LocationStore(services.store.redis)
        self.feeds = RoomFeeds(self)
        media.on_tracks_changed = self._tracks_changed
        media.on_speaker_update = self._speaker_update
        media.on_bandwidth = self._bandwidth_update
        media.on_active_layers = self._layers_update

    @property
    def limits(self) -> LimitsConfig:
        return self.services.config.limits

    @property
    def idle(self) -> bool:
        # WHEP players do not keep a room open: with nobody in it there is nothing to play,
        # and a player that vanished without DELETE must not pin the room forever.
        return not self.members and not self.feeds.active

    def member(self, participant_id: str) -> Member:
        member = self.members.get(participant_id)
        if member is None or not member.announced:
            raise SignalingError("unknown_participant", f"no participant {participant_id!r}")
        return member

    def visible_members(self, exclude: str | None = None) -> list[Member]:
        return [m for m in self.members.values() if m.visible and m.id != exclude]

    def tracks_json(self) -> list[dict[str, Any]]:
        return [track_json(t) for t in self.media.tracks()]

    def info(self) -> dict[str, Any]:
        return {"participants": [m.record.public() for m in self.visible_members()],
                "tracks": self.tracks_json(), "locked": self.locked,
                "feeds": self.feeds.public_list()}

    def locations_json(self) -> list[dict[str, Any]]:
        found = [m.location for m in self.visible_members() if m.location is not None]
        return [loc.to_json() for loc in sorted(found, key=lambda loc: loc.ts)]

    # admission
    async def admit(self, client: Client, claims: Claims, name: str,
                    resume: str | None) -> Member:
        """Add a signalling client (or give a resuming one its old id back); sends `joined`."""
        async with self._lock:
            old = self._resumable(resume)
            if old is not None:
                return await self._resume(old, client, claims, name)
            member = self._reserve(claims, name, client, kind="ws")
            try:
                await self._save(member)
            except BaseException:
                self.members.pop(member.id, None)
                raise
            self._send_joined(member)
            self._announce(member)
        self._spawn(self.services.extensions.member_joined(self, member))
        if member.allows("subscribe"):
            member.subscriber = SubscribeLoop(self.media, member.id, member.send)
            member.subscriber.want(self._foreign_tracks(member.id))
        return member

    def _reserve(self, claims: Claims, name: str, client: Client | None, kind: str,
                 participant_id: str | None = None) -> Member:
        if self.closed:
            raise SignalingError("internal", "room is shutting down, try again")
        hidden = claims.allows("hidden")
        # A fixed participant id is a WHIP feed an admin registered: a lock does not keep it out.
        if self.locked and not claims.allows("admin") and participant_id is None:
            raise SignalingError("room_locked", "the room is locked")
        limit = self.limits.max_participants_per_room
        if not hidden and sum(not m.record.hidden for m in self.members.values()) >= limit:
            raise SignalingError("room_full", f"the room is full ({limit} participants)")
        record = ParticipantRecord(id=participant_id or "p_" + secrets.token_hex(6), name=name,
                                   grants=sorted(claims.grants), node=self.services.node_id,
                                   kind=kind)
        member = Member(record, client)
        member.expires_at = claims.expires_at
        self.members[member.id] = member
        return member

    def _resumable(self, token: str | None) -> Member | None:
        if not token:
            return None
        for member in self.members.values():
            if member.record.kind == "ws" and hmac.compare_digest(member.resume_token, token):
                return member
        return None

    async def _resume(self, member: Member, client: Client, claims: Claims, name: str) -> Member:
        old_client, member.client = member.client, client
        if old_client is not None:
            old_client.close(1000, "replaced by a resumed connection")
        member.stop_loops()
        member.record.name = name
        if member.location is not None:
            member.location = dataclasses.replace(member.location, name=name)
        member.record.grants = sorted(claims.grants)
        member.expires_at = claims.expires_at
        member.last_alive = time.time()
        member.resume_token = secrets.token_urlsafe(24)
        # aiortc has no ICE restart: the client brings new peer connections.
        await self._safely(self.media.remove_participant(member.id), "drop old media")
        await self._save(member)
        self._send_joined(member)
        self._spawn(self.services.extensions.member_joined(self, member))
        if member.allows("subscribe"):
            member.subscriber = SubscribeLoop(self.media, member.id, member.send)
            member.subscriber.want(self._foreign_tracks(member.id))
        return member

    def _send_joined(self, member: Member) -> None:
        member.send({"type": "joined", "room_id": self.room_id, "participant_id": member.id,
                     "name": member.record.name, "grants": member.record.grants,
                     "resume_token": member.resume_token, "token": self._session_token(member),
                     "locked": self.locked,
                     "ice_servers": ice_servers(self.services.config.turn, member.id),
                     "participants": [m.record.public() for m in self.visible_members(member.id)],
                     "tracks": self.tracks_json(), "locations": self.locations_json(),
                     "feeds": self.feeds.public_list(),
                     "simulcast": self.services.config.sfu.simulcast})
        if self._active_speaker is not None:
            member.send({"type": "active_speaker", "participant_id": self._active_speaker})

    def _session_token(self, member: Member) -> str | None:
        may_publish = member.allows("publish") or member.allows("publish_data")
        return rest_token(self.services.identity.secret, self.room_id, member.id,
                          member.record.name, may_publish, member.expires_at,
                          self.services.config.tokens.host_ttl_s)

    def _announce(self, member: Member) -> None:
        member.announced = True
        if member.visible:
            self._broadcast_event({"type": "participant_joined",
                                   "participant": member.record.public()}, exclude=member.id)

    # WHIP publishers are members without a signalling client
    async def add_whip(self, claims: Claims, name: str, offer: str,
                       participant_id: str | None = None) -> tuple[Member, str]:
        """A WHIP publisher; a WHIP feed passes its fixed id `feed-<id>`, and an encoder
        that reconnects replaces its own earlier session."""
        check_sdp(offer, self.limits.max_sdp_bytes, self.limits.max_m_sections)
        if participant_id is not None and participant_id in self.members:
            await self.remove(participant_id, "left")
        async with self._lock:
            member = self._reserve(claims, name, None, kind="whip",
                                   participant_id=participant_id)
        try:
            answer = await self.media.publish(member.id, name, offer, sources_from_sdp(offer),
                                              layers_by_remb=True)
        except BaseException:
            self.members.pop(member.id, None)
            await self._safely(self.media.remove_participant(member.id), "drop failed WHIP")
            self._maybe_idle()
            raise
        await self._save(member)
        self._announce(member)
        self._spawn(self.services.extensions.member_joined(self, member))
        self.feeds.whip_published(member.id)
        return member, answer

    # leaving
    def client_gone(self, member: Member, client: Client, clean: bool) -> None:
        """The member's WebSocket ended without leave: go now (clean close) or after the
        presence timeout, which a resume within that time cancels."""
        if member.client is not client or self.members.get(member.id) is not member:
            return
        member.client = None
        member.stop_loops()
        delay = 0.0 if clean else max(
            0.0, member.last_alive + self.limits.presence_timeout_s - REMOVAL_MARGIN_S
            - time.time())
        member.removal = self._spawn(self._remove_later(member, delay,
                                                        "left" if clean else "timeout"))

    async def _remove_later(self, member: Member, delay: float, reason: str) -> None:
        await asyncio.sleep(delay)
        if self.members.get(member.id) is member and member.client is None:
            await self.remove(member.id, reason)

    async def remove(self, participant_id: str, reason: str) -> bool:
        member = self.members.pop(participant_id, None)
        if member is None:
            return False
        member.stop_loops()
        await self._safely(self.media.remove_participant(participant_id), "remove media")
        await self.services.store.remove_participant(self.room_id, participant_id)
        if member.visible:
            self._broadcast_event({"type": "participant_left", "participant_id": participant_id,
                                   "reason": reason})
        if member.record.kind == "whip":
            self.feeds.whip_left(participant_id)
        self._spawn(self.services.extensions.member_left(self, member, reason))
        self._maybe_idle()
        return True

    # media
    async def publish(self, member: Member, sdp: str, sources: dict[str, str]) -> str:
        if not member.allows("publish"):
            raise SignalingError("forbidden", "your grants do not include publish")
        check_sdp(sdp, self.limits.max_sdp_bytes, self.limits.max_m_sections)
        try:
            return await self.media.publish(member.id, member.record.name, sdp, sources)
        except SdpError as exc:
            raise SignalingError("bad_sdp", str(exc)) from None

    async def subscribe_answer(self, member: Member, sdp: str) -> None:
        if member.subscriber is None:
            raise SignalingError("forbidden", "your grants do not include subscribe")
        check_sdp(sdp, self.limits.max_sdp_bytes, self.limits.max_m_sections, what="answer")
        try:
            await member.subscriber.answer(sdp)
        except SdpError as exc:
            raise SignalingError("bad_sdp", str(exc)) from None

    async def subscribe_offer_failed(self, member: Member, error: str) -> None:
        """The client could not apply our subscribe offer: offer it a new connection."""
        if member.subscriber is None:
            raise SignalingError("forbidden", "your grants do not include subscribe")
        await member.subscriber.offer_failed(error)

    def set_track_view(self, member: Member, track_id: str, visible: bool,
                       width: int | None, height: int | None) -> None:
        """The client shows (or hides) a track in a tile of width x height device pixels."""
        if member.subscriber is None:
            raise SignalingError("forbidden", "your grants do not include subscribe")
        try:
            self.media.set_track_view(member.id, track_id, visible, width, height)
        except UnknownTrackError:
            raise SignalingError("unknown_track",
                                 f"no track {track_id[:64]!r} in this room") from None
        except ValueError as exc:
            raise SignalingError("bad_message", f"track_view: {exc}") from None

    def _foreign_tracks(self, participant_id: str) -> frozenset[str]:
        return frozenset(t.track_id for t in self.media.tracks()
                         if t.participant_id != participant_id)

    def _tracks_changed(self) -> None:
        if self._tracks_task is None and not self.closed:
            self._tracks_task = self._spawn(self._announce_tracks())

    async def _announce_tracks(self) -> None:
        await asyncio.sleep(TRACKS_DEBOUNCE_S)  # one offer for a burst of changes
        self._tracks_task = None
        self._broadcast_event({"type": "tracks", "tracks": self.tracks_json()})
        publishing = {t.participant_id for t in self.media.tracks()}
        for member in list(self.members.values()):
            if member.subscriber is not None:
                member.subscriber.want(self._foreign_tracks(member.id))
            if member.record.kind == "whip" and member.announced and member.id not in publishing:
                # A WHIP publisher has no socket: its peer connection ending is its leaving.
                self._spawn(self.remove(member.id, "left"))

    def _speaker_update(self, dominant: str | None, levels: dict[str, float]) -> None:
        """From the SFU's speaker timer (at most one call per tick, only on change)."""
        if self.closed:
            return
        visible = {m.id for m in self.members.values() if m.visible}
        if dominant not in visible:
            dominant = None  # a hidden participant is never named
        if dominant != self._active_speaker:
            self._active_speaker = dominant
            self.broadcast({"type": "active_speaker", "participant_id": dominant})
        levels = {pid: level for pid, level in levels.items() if pid in visible}
        if levels != self._levels:
            self._levels = levels
            self.broadcast({"type": "audio_levels", "levels": levels})

    def _bandwidth_update(self, participant_id: str, estimate_bps: int,
                          video_paused: bool) -> None:
        """From the SFU: this member's downlink estimate, and whether its video is paused
        for lack of bandwidth (the client shows a notice)."""
        member = self.members.get(participant_id)
        if member is not None and member.announced and not self.closed:
            member.send({"type": "bandwidth", "estimate_bps": int(estimate_bps),
                         "video_paused": bool(video_paused)})

    def _layers_update(self, participant_id: str, track_id: str, mid: str | None,
                       rids: list[str]) -> None:
        """From the SFU: the simulcast layers of this member's track somebody needs; the
        client switches the others off (RTCRtpSender.setParameters)."""
        member = self.members.get(participant_id)
        if member is not None and not self.closed:
            member.send({"type": "layers", "track_id": track_id, "mid": mid,
                         "active": list(rids)})

    # state and host controls
    async def set_state(self, member: Member, audio: bool | None, video: bool | None) -> None:
        for kind, value in (("audio", audio), ("video", video)):
            if value is None:
                continue
            if value and getattr(member.record, f"muted_{kind}"):
                # A host mute stops forwarding; the participant may turn itself back on.
                self.media.set_muted(member.id, kind, False)
                setattr(member.record, f"muted_{kind}", False)
            setattr(member.record, kind, value)
        await self._save(member)
        self._state_changed(member)

    async def mute(self, host: Member, target_id: str, kind: str) -> None:
        target = self.member(target_id)
        self.media.set_muted(target.id, kind, True)
        setattr(target.record, f"muted_{kind}", True)
        setattr(target.record, kind, False)
        await self._save(target)
        target.send({"type": "muted", "kind": kind, "by": host.id})
        self._state_changed(target)

    async def kick(self, host: Member, target_id: str) -> None:
        target = self.member(target_id)
        target.send({"type": "kicked", "by": host.id})
        if target.client is not None:
            target.client.close(1000, "kicked")
            target.client = None
        await self.remove(target.id, "kicked")

    async def set_location(self, member: Member, msg: dict[str, Any]) -> None:
        """A field unit's position: kept in Redis (latest only) and told to the room."""
        if not member.allows("publish"):
            raise SignalingError("forbidden", "your grants do not include publish")
        if member.record.hidden:
            raise SignalingError("forbidden", "hidden participants do not share a location")
        location = parse_location(msg, member.id, member.record.name)
        await self._locations.put(self.room_id, location)
        member.location = location
        self._broadcast_event(location.message())

    async def set_locked(self, locked: bool) -> None:
        await self.services.store.set_locked(self.room_id, locked)
        self.locked = locked
        self._broadcast_event({"type": "room_locked", "locked": locked})

    def _state_changed(self, member: Member) -> None:
        if member.visible:
            self._broadcast_event({"type": "participant_state", "participant_id": member.id,
                                   "audio": member.record.audio, "video": member.record.video})

    # plumbing
    def broadcast(self, message: dict[str, Any], exclude: str | None = None) -> None:
        for member in list(self.members.values()):
            if member.announced and member.id != exclude:
                member.send(message)

    def broadcast_event(self, message: dict[str, Any]) -> None:
        self._broadcast_event(message)

    def spawn(self, coro: Any) -> asyncio.Task[None]:
        return self._spawn(coro)

    def _broadcast_event(self, message: dict[str, Any], exclude: str | None = None) -> None:
        """Tell local clients, and other nodes through Redis pub/sub."""
        self.broadcast(message, exclude)
        self._spawn(self._publish(message))

    async def _publish(self, message: dict[str, Any]) -> None:
        await self._safely(self.services.store.publish_event(self.room_id, message),
                           "publish event")

    async def _save(self, member: Member) -> None:
        await self.services.store.put_participant(
            self.room_id, member.record, member.alive_until_ms(self.limits.presence_timeout_s))

    def presence(self) -> list[tuple[str, str, int]]:
        timeout = self.limits.presence_timeout_s
        return [(self.room_id, m.id, m.alive_until_ms(timeout))
                for m in self.members.values() if m.announced]

    def _maybe_idle(self) -> None:
        if self.idle and not self.closed:
            self._on_idle(self)

    def _spawn(self, coro: Any) -> asyncio.Task[None]:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def _safely(self, coro: Any, what: str) -> None:
        try:
            await coro
        except Exception:
            log.exception("room %s: %s failed", self.room_id, what)

    async def close(self) -> None:
        """Node shutdown or idle: everyone out, media closed."""
        self.closed = True
        for member in list(self.members.values()):
            if member.client is not None:
                member.client.close(1001, "server shutting down")
                member.client = None
            await self.remove(member.id, "left")
        for session_id in list(self.whep_sessions.values()):
            await self._safely(self.media.stop_session(session_id), "stop WHEP session")
        self.whep_sessions.clear()
        await self._safely(self.feeds.close(), "stop feeds")
        await self._safely(self.media.close(), "close media")
        if self._tracks_task is not None:
            self._tracks_task.cancel()
        pending = [t for t in self._tasks if t is not asyncio.current_task()]
        if pending:  # let the last events reach Redis
            await asyncio.wait(pending, timeout=2)
