"""The seams of the media plane (Galène's conn.go in Python): room logic talks to these
Protocols, and only the sfu/aiortc_bridge/ package knows they are backed by aiortc objects."""

from __future__ import annotations

from typing import Any, Protocol

from sfu.codecs import CodecSpec
from sfu.rtcp_events import SenderReport
from sfu.tracks import TrackInfo


class RtpPacketLike(Protocol):
    """A parsed RTP packet (aiortc's RtpPacket satisfies it)."""

    payload_type: int
    sequence_number: int
    timestamp: int
    ssrc: int
    marker: int
    payload: bytes
    padding_size: int
    extensions: Any  # .audio_level: (voice_activity, -dBov) or None


class DownTrackLike(Protocol):
    """A subscriber-side stream fed by one published track at a time."""

    kind: str
    needs_keyframe: bool
    remb: int | None

    def write(self, packet: RtpPacketLike, keyframe: bool, cache: dict[Any, Any]) -> None: ...

    def source_gone(self) -> None: ...

    def resync(self) -> None: ...

    def reselect(self) -> None: ...


class UpTrackLike(Protocol):
    """A published track as its subscribers see it."""

    info: TrackInfo
    kind: str
    codec: CodecSpec
    closed: bool
    sender_report: tuple[SenderReport, float] | None  # (report, monotonic arrival)

    def add_down(self, down: DownTrackLike) -> None: ...

    def remove_down(self, down: DownTrackLike) -> None: ...

    def packet(self, seq: int) -> Any: ...

    def request_keyframe(self) -> None: ...

    # Simulcast (a track without it has one layer): `layers` are UpLayer objects, lowest
    # first; down tracks join one layer's fan-out list (sfu/up_layer.py).
    layers: list[Any]

    def layer_infos(self) -> list[Any]: ...

    def live_layers(self, now: float) -> list[bool]: ...

    def wanted_changed(self) -> None: ...
