"""An aiortc WHEP player: it offers recvonly m-sections to RoomMedia.play (what the WHEP
endpoint does with a player's POST) and records what arrives, optionally through a relay
(sfu_proxy / sfu_shaper) that stands for the player's network."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sfu import RoomMedia
from sfu import aiortc_bridge as bridge
from sfu.downstream import Slot
from sfu_peers import LOOPBACK, Stream


class WhepPlayer:
    """One recvonly m-section per entry of `kinds`; `streams[kind]` is what arrived on it
    (aiortc keeps processing the packets, so it sends receiver reports and REMB)."""

    def __init__(self, room: RoomMedia, kinds: Iterable[str] = ("audio", "video"),
                 relay: Any = None) -> None:
        self.room, self.relay = room, relay
        self.pc = bridge.new_peer_connection()
        self.streams: dict[str, Stream] = {}
        self.session_id: str | None = None
        for kind in kinds:
            transceiver = self.pc.addTransceiver(kind, direction="recvonly")
            stream = self.streams[kind] = Stream()

            async def on_rtp(packet: Any, arrival_ms: int, stream: Stream = stream) -> bool:
                stream.packets.append(packet)
                return True

            bridge.tap_receiver_of(transceiver, on_rtp, stream.rtcp.append, passthrough=True)

    async def play(self, track_ids: Iterable[str] = ()) -> str:
        offer = await bridge.local_offer(self.pc, LOOPBACK)
        if self.relay is not None:
            offer = self.relay.route_client(offer)
        answer, self.session_id = await self.room.play(offer, list(track_ids))
        if self.relay is not None:
            answer = self.relay.route_answer(answer)
        await bridge.set_remote(self.pc, answer, "answer")
        return self.session_id

    def slot(self, kind: str) -> Slot:
        """The server side of this player's `kind` m-section (down track, estimate)."""
        assert self.session_id is not None, "play() first"
        session = self.room._sessions[self.session_id]
        return next(s for s in session.slots if s.kind == kind)

    @property
    def downlink(self) -> Any:
        assert self.session_id is not None, "play() first"
        return self.room._sessions[self.session_id].downlink

    async def close(self) -> None:
        await self.pc.close()
