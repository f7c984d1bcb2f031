"""RoomMedia: the media plane of one room on this node (the API signalling calls)."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Iterable
from typing import Any

from sfu.downlink import BandwidthReport
from sfu.downstream import DownstreamConnection
from sfu.errors import SdpError, UnknownTrackError
from sfu.ingest.source_track import SourceTrack, source_codec
from sfu.published_track import PublishedTrack
from sfu.publisher import PublisherConnection, new_track_id
from sfu.settings import SfuSettings
from sfu.speaker_detector import SpeakerDetector, loudness
from sfu.subscriber import SubscriberConnection
from sfu.tasks import TaskSet
from sfu.tracks import SubscribeOffer, TrackInfo, TrackView
from sfu.whep import WhepSession, new_session_id

logger = logging.getLogger(__name__)

KINDS = ("audio", "video")
SPEAKER_INTERVAL_S = 0.25  # level smoothing and speaker decisions; also the update rate cap
SpeakerCallback = Callable[[str | None, dict[str, float]], None]
BandwidthCallback = Callable[[str, int, bool], None]  # participant, estimate_bps, video_paused
LayersCallback = Callable[[str, str, str | None, list[str]], None]


class RoomMedia:
    """Publishers, subscribers and WHEP players of one room.

    Negotiations are serialised per peer connection; a failing peer is logged and
    dropped without touching the others.
    """

    def __init__(self, room_id: str, settings: SfuSettings | None = None) -> None:
        self.room_id = room_id
        self.settings = settings or SfuSettings()
        self.on_tracks_changed: Callable[[], None] | None = None
        self.on_speaker_update: SpeakerCallback | None = None
        self.on_bandwidth: BandwidthCallback | None = None
        # (publisher pid, track id, its mid, rids to send): simulcast layers nobody needs are off
        self.on_active_layers: LayersCallback | None = None
        self.speakers = SpeakerDetector()
        self._reported_levels: dict[str, float] = {}
        self._speaker_loop: asyncio.Task[None] | None = None
        self._publishers: dict[str, PublisherConnection] = {}
        self._subscribers: dict[str, SubscriberConnection] = {}
        self._sessions: dict[str, WhepSession] = {}
        self._tracks: dict[str, PublishedTrack] = {}  # track id -> track, in publish order
        self._sources: dict[str, list[SourceTrack]] = {}  # participant id -> feed tracks
        self._muted: set[tuple[str, str]] = set()
        self._early_views: dict[str, dict[str, TrackView]] = {}  # before a subscriber exists
        self._tasks = TaskSet()
        self._closed = False

    # --- publishing --------------------------------------------------------------------

    async def publish(self, participant_id: str, name: str, offer_sdp: str,
                      sources: dict[str, str] | None = None, *,
                      layers_by_remb: bool = False) -> str:
        """Apply a publish offer (first or re-offer); return the answer SDP.

        `layers_by_remb`: the publisher has no signalling channel for `layers` messages
        (WHIP), so unneeded simulcast layers are left out of the REMB instead."""
        self._check_open()
        while True:
            publisher = self._publishers.get(participant_id)
            if publisher is None or publisher.closed or publisher.gone:
                publisher = PublisherConnection(participant_id, name, self.settings,
                                                self._publisher_gone, self._active_layers,
                                                layers_by_remb=layers_by_remb)
                self._publishers[participant_id] = publisher
            async with publisher.lock:
                if publisher.closed:
                    continue  # it vanished while we waited: start a fresh connection
                answer, added, removed = await self._negotiate(publisher, offer_sdp, sources)
                break
        for track in removed:
            self._drop_track(track)
        for track in added:
            self._tracks[track.info.track_id] = track
        if self._speaker_loop is None and any(t.kind == "audio" for t in added):
            self._speaker_loop = self._tasks.spawn(self._watch_speakers())
        if added or removed:
            self._notify()
        return answer

    async def _negotiate(self, publisher: PublisherConnection, offer_sdp: str,
                         sources: dict[str, str] | None
                         ) -> tuple[str, list[PublishedTrack], list[PublishedTrack]]:
        pid = publisher.participant_id
        muted = {kind for kind in KINDS if (pid, kind) in self._muted}
        try:
            return await publisher.negotiate(offer_sdp, dict(sources or {}), muted)
        except BaseException:
            if not publisher.negotiated:  # a failed first offer leaves nothing behind
                if self._publishers.get(pid) is publisher:
                    del self._publishers[pid]
                await publisher.close()
            raise

    def tracks(self) -> list[TrackInfo]:
        return [t.info for t in self._tracks.values()]

    def track(self, track_id: str) -> PublishedTrack | None:
        """The published track (its `layers`, `layer_infos()`), for stats and tests."""
        return self._tracks.get(track_id)

    def down_tracks(self, participant_id: str) -> dict[str, Any]:
        """Subscriber pid's video and audio down tracks by track id (layer state, stats)."""
        subscriber = self._subscribers.get(participant_id)
        if subscriber is None:
            return {}
        return {slot.track.info.track_id: slot.down for slot in subscriber.slots
                if slot.track is not None}

    def set_muted(self, participant_id: str, kind: str, muted: bool) -> None:
        """Host mute: stop (or resume) forwarding that participant's tracks of `kind`."""
        if kind not in KINDS:
            raise ValueError(f"kind must be audio or video, got {kind!r}")
        if muted:
            self._muted.add((participant_id, kind))
        else:
            self._muted.discard((participant_id, kind))
        for track in self._tracks.values():
            if track.info.participant_id == participant_id and track.kind == kind:
                track.set_muted(muted)

    # --- tracks fed by the server (device feeds) ---------------------------------------

    def add_source_track(self, participant_id: str, name: str, kind: str, codec_label: str,
                         source: str = "feed", profile_level_id: str | None = None
                         ) -> SourceTrack:
        """A track whose RTP the caller pushes (sfu/ingest); subscribers and WHEP players
        get it like a published track. Raises ValueError for a codec we cannot forward."""
        self._check_open()
        if kind not in KINDS:
            raise ValueError(f"kind must be audio or video, got {kind!r}")
        codec = source_codec(kind, codec_label, profile_level_id)
        info = TrackInfo(track_id=new_track_id(), participant_id=participant_id, name=name,
                         kind=kind, source=source, codec=codec.label)
        track = SourceTrack(info, codec, self.settings)
        track.published.set_muted((participant_id, kind) in self._muted)
        self._sources.setdefault(participant_id, []).append(track)
        self._tracks[info.track_id] = track.published
        self._notify()
        return track

    def remove_source_tracks(self, participant_id: str) -> None:
        tracks = self._sources.pop(participant_id, [])
        for track in tracks:
            self._drop_track(track.published)
        if tracks:
            self._notify()

    # --- subscribing -------------------------------------------------------------------

    async def subscribe_offer(self, participant_id: str) -> SubscribeOffer:
        """A (re-)offer carrying every track published by the other participants."""
        self._check_open()
        subscriber = self._subscribers.get(participant_id)
        if subscriber is None or subscriber.closed:
            subscriber = SubscriberConnection(participant_id, self.settings,
                                              self._downstream_gone, self._bandwidth_report,
                                              lambda: self.speakers.dominant)
            subscriber.views.update(self._early_views.pop(participant_id, {}))
            self._subscribers[participant_id] = subscriber
        async with subscriber.lock:
            wanted = [t for t in self._tracks.values()
                      if t.info.participant_id != participant_id]
            return await subscriber.offer(wanted)

    async def subscribe_answer(self, participant_id: str, answer_sdp: str) -> None:
        subscriber = self._subscribers.get(participant_id)
        if subscriber is None or subscriber.closed:
            raise SdpError("no subscribe offer is waiting for an answer")
        async with subscriber.lock:
            await subscriber.answer(answer_sdp)

    async def drop_subscriber(self, participant_id: str) -> bool:
        """Close pid's subscribe connection (its client could not apply our offer); the
        next subscribe_offer starts a new peer connection. The client's track views are
        kept for it. False when pid had none."""
        subscriber = self._subscribers.pop(participant_id, None)
        if subscriber is None:
            return False
        async with subscriber.lock:  # let a negotiation in progress finish first
            views = self._early_views.setdefault(participant_id, {})
            views.update({k: v for k, v in subscriber.views.items() if k not in views})
            await subscriber.close()
        return True

    def set_track_view(self, participant_id: str, track_id: str, visible: bool,
                       width: int | None = None, height: int | None = None) -> None:
        """The subscriber shows `track_id` (visible or not, tile size in device pixels).

        Hidden video is not forwarded to this subscriber; audio is never paused. The size
        is kept on the subscriber's down track for layer selection. Raises
        UnknownTrackError for a track the room does not have, ValueError for a bad size.
        """
        if track_id not in self._tracks:
            raise UnknownTrackError(f"no track {track_id!r} in room {self.room_id}")
        view = TrackView(bool(visible), width, height)
        subscriber = self._subscribers.get(participant_id)
        if subscriber is None or subscriber.closed:
            # The view waits for the connection that subscribe_offer will create.
            self._early_views.setdefault(participant_id, {})[track_id] = view
            return
        subscriber.set_view(track_id, view)

    # --- WHEP ---------------------------------------------------------------------------

    async def play(self, offer_sdp: str, track_ids: Iterable[str] = ()) -> tuple[str, str]:
        """Answer a WHEP player's offer; empty track_ids plays every current track."""
        self._check_open()
        ids = list(track_ids)
        unknown = [i for i in ids if i not in self._tracks]
        if unknown:
            raise UnknownTrackError(f"no track {unknown[0]!r} in room {self.room_id}")
        tracks = [self._tracks[i] for i in ids] if ids else list(self._tracks.values())
        if not tracks:
            raise UnknownTrackError(f"room {self.room_id} has no tracks to play")
        session_id = new_session_id()
        # No on_bandwidth: a WHEP player has no channel to be told on, but its downlink
        # estimate still picks its layers and pauses its video before audio breaks.
        session = WhepSession(session_id, self.settings, self._downstream_gone, None,
                              lambda: self.speakers.dominant)
        try:
            answer = await session.start(offer_sdp, tracks, strict=bool(ids))
        except BaseException:
            await session.close()
            raise
        self._sessions[session_id] = session
        return answer, session_id

    async def stop_session(self, session_id: str) -> bool:
        session = self._sessions.pop(session_id, None)
        if session is None:
            return False
        await session.close()
        return True

    # --- leaving -------------------------------------------------------------------------

    async def remove_participant(self, participant_id: str) -> None:
        publisher = self._publishers.pop(participant_id, None)
        subscriber = self._subscribers.pop(participant_id, None)
        self._early_views.pop(participant_id, None)
        if subscriber is not None:
            async with subscriber.lock:  # let a negotiation in progress finish first
                await subscriber.close()
        if publisher is not None:
            async with publisher.lock:
                gone = await publisher.close()
            for track in gone:
                self._drop_track(track)
            if gone:
                self._notify()

    async def close(self) -> None:
        self._closed = True
        for pid in list(self._sources):
            self.remove_source_tracks(pid)
        for pid in list(self._publishers) + list(self._subscribers):
            await self.remove_participant(pid)
        for session_id in list(self._sessions):
            await self.stop_session(session_id)
        await self._tasks.cancel_all()

    # --- active speaker ---------------------------------------------------------------

    async def _watch_speakers(self) -> None:
        while not self._closed:
            await asyncio.sleep(SPEAKER_INTERVAL_S)
            self.speaker_tick(time.monotonic())

    def speaker_tick(self, now: float) -> None:
        """Fold the levels heard since the last tick; report a new speaker or new levels."""
        raw: dict[str, float] = {}
        for track in list(self._tracks.values()):
            if track.meter is None:
                continue
            value = loudness(track.meter.take())
            if not track.muted and not track.closed:  # a host-muted voice is not heard
                pid = track.info.participant_id
                raw[pid] = max(raw.get(pid, 0.0), value)
        changed = self.speakers.update(raw, now)
        levels = {pid: round(v, 2) for pid, v in self.speakers.levels.items()}
        if not changed and levels == self._reported_levels:
            return
        self._reported_levels = levels
        if self.on_speaker_update is not None:
            try:
                self.on_speaker_update(self.speakers.dominant, dict(levels))
            except Exception:  # noqa: BLE001 - a signalling bug must not break media
                logger.exception("on_speaker_update callback failed")

    # --- internals -----------------------------------------------------------------------

    def _bandwidth_report(self, participant_id: str, report: BandwidthReport) -> None:
        if self.on_bandwidth is not None:
            self.on_bandwidth(participant_id, report.estimate_bps, report.video_paused)

    def _check_open(self) -> None:
        if self._closed:
            raise RuntimeError(f"room {self.room_id} media is closed")

    def _drop_track(self, track: PublishedTrack) -> None:
        track_id = track.info.track_id
        self._tracks.pop(track_id, None)
        for subscriber in self._subscribers.values():
            subscriber.forget_view(track_id)
        for views in self._early_views.values():
            views.pop(track_id, None)
        track.close()

    def _active_layers(self, track: PublishedTrack, rids: list[str]) -> None:
        if self.on_active_layers is None or track.info.track_id not in self._tracks:
            return
        try:
            self.on_active_layers(track.info.participant_id, track.info.track_id, track.mid,
                                  rids)
        except Exception:  # noqa: BLE001 - a signalling bug must not break media
            logger.exception("on_active_layers callback failed")

    def _notify(self) -> None:
        if self.on_tracks_changed is None:
            return
        try:
            self.on_tracks_changed()
        except Exception:  # noqa: BLE001 - a signalling bug must not break media
            logger.exception("on_tracks_changed callback failed")

    def _publisher_gone(self, publisher: PublisherConnection) -> None:
        """The publisher's peer vanished (ICE/DTLS failed or closed)."""
        if self._publishers.get(publisher.participant_id) is publisher:
            self._tasks.spawn(self._close_publisher(publisher))

    async def _close_publisher(self, publisher: PublisherConnection) -> None:
        async with publisher.lock:
            if self._publishers.get(publisher.participant_id) is publisher:
                del self._publishers[publisher.participant_id]
            gone = await publisher.close()
        for track in gone:
            self._drop_track(track)
        if gone:
            self._notify()

    def _downstream_gone(self, connection: DownstreamConnection) -> None:
        if self._subscribers.get(connection.owner) is connection:
            del self._subscribers[connection.owner]
        self._sessions.pop(connection.owner, None)
        self._tasks.spawn(connection.close())
