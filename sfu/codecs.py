"""Codec descriptions and the choices the forwarder makes about them (no aiortc here)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

# What we forward untouched: name (lower case) -> clock rate.
FORWARDABLE = {"opus": 48000, "vp8": 90000, "h264": 90000}
LABELS = {"opus": "opus", "vp8": "VP8", "h264": "H264"}


@dataclass(frozen=True)
class CodecSpec:
    payload_type: int
    mime_type: str  # "video/VP8"
    clock_rate: int
    channels: int | None = None
    parameters: Mapping[str, Any] = field(default_factory=dict)
    feedback: tuple[tuple[str, str | None], ...] = ()

    @property
    def name(self) -> str:
        return self.mime_type.split("/", 1)[-1]

    @property
    def is_rtx(self) -> bool:
        return self.name.lower() == "rtx"

    @property
    def label(self) -> str:
        """The codec name as the protocol shows it: opus, VP8, H264."""
        return LABELS.get(self.name.lower(), self.name)

    def has_feedback(self, kind: str, parameter: str | None = None) -> bool:
        return (kind, parameter) in self.feedback


def forwardable(codec: CodecSpec) -> bool:
    name = codec.name.lower()
    if FORWARDABLE.get(name) != codec.clock_rate:
        return False
    if name == "h264":
        return str(codec.parameters.get("packetization-mode", "0")) == "1"
    return True


def primary_codec(codecs: Iterable[CodecSpec]) -> CodecSpec | None:
    """The first codec we can forward: what the publisher will send after our answer."""
    return next((c for c in codecs if not c.is_rtx and forwardable(c)), None)


def rtx_payload_type(codecs: Iterable[CodecSpec], payload_type: int) -> int | None:
    for codec in codecs:
        if codec.is_rtx and _apt(codec) == payload_type:
            return codec.payload_type
    return None


def output_codec(source: CodecSpec, offered: Iterable[CodecSpec]) -> CodecSpec | None:
    """The subscriber-side codec to carry `source`: same name and clock rate; for
    H.264 packetization-mode 1, preferring the same profile-level-id."""
    name = source.name.lower()
    candidates = [c for c in offered
                  if not c.is_rtx and c.name.lower() == name
                  and c.clock_rate == source.clock_rate and forwardable(c)]
    if name == "h264":
        profile = str(source.parameters.get("profile-level-id", "")).lower()
        same = [c for c in candidates
                if str(c.parameters.get("profile-level-id", "")).lower() == profile]
        candidates = same or candidates
    return candidates[0] if candidates else None


def _apt(codec: CodecSpec) -> int | None:
    try:
        return int(codec.parameters.get("apt"))  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
