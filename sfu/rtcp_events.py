"""RTCP feedback as plain values, so media code never sees aiortc's packet classes."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class SenderReport:
    ssrc: int
    ntp: int
    rtp: int
    packets: int
    octets: int


@dataclass(frozen=True)
class ReceiverReport:
    """One report block about `ssrc`, sent by the remote receiver."""

    ssrc: int
    fraction_lost: int
    packets_lost: int
    highest_sequence: int
    jitter: int
    lsr: int
    dlsr: int


@dataclass(frozen=True)
class Nack:
    media_ssrc: int
    lost: tuple[int, ...]


@dataclass(frozen=True)
class KeyframeRequest:
    media_ssrc: int
    fir: bool = False


@dataclass(frozen=True)
class Remb:
    bitrate: int
    ssrcs: tuple[int, ...]


@dataclass(frozen=True)
class Bye:
    ssrcs: tuple[int, ...]


RtcpEvent = SenderReport | ReceiverReport | Nack | KeyframeRequest | Remb | Bye
