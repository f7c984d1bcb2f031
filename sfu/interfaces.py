"""The seams of the media plane (Galène's conn.go in Python): room logic talks to these
Protocols, and only sfu/aiortc_bridge.py knows they are backed by aiortc objects."""

from __future__ import annotations

from typing import Any, Protocol


class RtpPacketLike(Protocol):
    """A parsed RTP packet (aiortc's RtpPacket satisfies it)."""

    payload_type: int
    sequence_number: int
    timestamp: int
    ssrc: int
    marker: int
    payload: bytes
    padding_size: int


class DownTrackLike(Protocol):
    """A subscriber-side stream fed by one published track at a time."""

    kind: str
    needs_keyframe: bool
    remb: int | None

    def write(self, packet: RtpPacketLike, keyframe: bool, cache: dict[Any, Any]) -> None: ...

    def source_gone(self) -> None: ...

    def resync(self) -> None: ...
