"""A participant's subscribe connection: the server offers every track published by
the others, reusing idle transceivers because aiortc cannot remove m-sections. Its
downlink estimate decides which video it gets (sfu/downstream.py) and is reported to
the client (the `bandwidth` message, through on_bandwidth)."""

from __future__ import annotations

import uuid

from sfu import aiortc_bridge as bridge
from sfu import sdp_guard
from sfu.downstream import DownstreamConnection, Slot
from sfu.errors import SdpError
from sfu.published_track import PublishedTrack
from sfu.sdp_candidates import add_public_candidates
from sfu.tracks import SubscribeOffer, TrackInfo


class SubscriberConnection(DownstreamConnection):
    _offered: list[tuple[str, str]] | None = None

    async def offer(self, tracks: list[PublishedTrack]) -> SubscribeOffer:
        """Caller holds self.lock."""
        # A track closed but not yet dropped from the room (its publisher is closing)
        # must not be slotted again: it would take an earlier idle slot while the slot it
        # leaves keeps its a=msid, and browsers refuse an offer with a repeated msid.
        tracks = [t for t in tracks if not t.closed]
        self._release_gone(tracks)
        held = {id(slot.track) for slot in self.slots if slot.track is not None}
        for track in tracks:
            if id(track) not in held:
                self._slot_for(track.kind).track = track
        self._label_slots()
        settings = self._settings
        sdp = await bridge.local_offer(self._pc, settings.ice_host_addresses)
        check_unique_msids(sdp)
        self._offered = [(s.kind, s.transceiver.mid) for s in self.slots]
        mapping: dict[str, TrackInfo] = {
            slot.transceiver.mid: slot.track.info for slot in self.slots
            if slot.track is not None}
        return SubscribeOffer(add_public_candidates(sdp, settings.ice_public_addresses),
                              mapping)

    async def answer(self, sdp: str) -> None:
        """Caller holds self.lock."""
        if self._offered is None:
            raise SdpError("no subscribe offer is waiting for an answer")
        settings = self._settings
        summary = sdp_guard.check_sdp(sdp, what="answer", max_bytes=settings.max_sdp_bytes,
                                      max_m_sections=settings.max_m_sections,
                                      allow_empty=not self._offered)
        sdp_guard.check_answer_sections(self._offered, summary)
        bridge.preflight(sdp)
        await bridge.set_remote(self._pc, sdp, "answer")
        self._offered = None
        self._apply_negotiation()

    def _label_slots(self) -> None:
        """Active slots carry their track's label; an idle slot whose label is taken
        gets a fresh one, so no two m-sections share an a=msid whatever led here."""
        taken: set[tuple[str, str]] = set()
        for slot in self.slots:
            if slot.track is not None:
                bridge.set_direction(slot.transceiver, "sendonly")
                info = slot.track.info
                bridge.label_sender(slot.transceiver, stream_id=_stream_id(info),
                                    track_id=info.track_id)
                taken.add(bridge.sender_label(slot.transceiver))
        for slot in self.slots:
            if slot.track is None:
                bridge.set_direction(slot.transceiver, "inactive")
                if bridge.sender_label(slot.transceiver) in taken:
                    _label_idle(slot)
                taken.add(bridge.sender_label(slot.transceiver))

    def _release_gone(self, tracks: list[PublishedTrack]) -> None:
        wanted = {id(t) for t in tracks}
        for slot in self.slots:
            if slot.track is not None and (id(slot.track) not in wanted or slot.track.closed):
                slot.down.detach()
                slot.track = None
                # aiortc writes a=msid for inactive m-sections too: an idle slot must not
                # keep the label of the track it carried (nor keep that stream alive).
                _label_idle(slot)

    def _slot_for(self, kind: str) -> Slot:
        idle = next((s for s in self.slots if s.kind == kind and s.track is None), None)
        if idle is not None:
            return idle
        return self._new_slot(bridge.add_send_transceiver(self._pc, kind), kind)


def _label_idle(slot: Slot) -> None:
    idle = f"idle-{uuid.uuid4().hex}"
    bridge.label_sender(slot.transceiver, stream_id=idle, track_id=idle)


def check_unique_msids(sdp: str) -> None:
    """Chromium refuses a whole offer in which two m-sections share an a=msid; raise
    RuntimeError (a server bug) rather than send one."""
    seen: set[str] = set()
    for line in sdp.splitlines():
        if line.startswith("a=msid:"):
            value = line[len("a=msid:"):].strip()
            if value in seen:
                raise RuntimeError(f"subscribe offer repeats a=msid:{value}")
            seen.add(value)


def _stream_id(info: TrackInfo) -> str:
    """Camera and microphone of one person share a stream (browsers lip-sync within a
    stream); a screen share is its own."""
    if info.source == "screen":
        return f"{info.participant_id}-screen"
    return info.participant_id
