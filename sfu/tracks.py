"""What the SFU tells signalling about media: tracks and subscribe offers."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class TrackInfo:
    """One published track, as listed in docs/protocol.md (`tracks`)."""

    track_id: str
    participant_id: str
    name: str
    kind: str  # "audio" | "video"
    source: str  # "camera" | "microphone" | "screen" | "whip" | ...
    codec: str  # "opus" | "VP8" | "H264"

    def to_json(self) -> dict[str, Any]:
        return {
            "track_id": self.track_id,
            "participant_id": self.participant_id,
            "name": self.name,
            "kind": self.kind,
            "source": self.source,
            "codec": self.codec,
        }


@dataclass(frozen=True)
class SubscribeOffer:
    """A server offer for a subscribe connection; `tracks` maps mid to the track it carries.
    An m-section missing from the map is idle (inactive)."""

    sdp: str
    tracks: dict[str, TrackInfo] = field(default_factory=dict)


@dataclass(frozen=True)
class LayerInfo:
    """One layer a video down track can forward (index 0 = lowest). A track without
    simulcast has exactly one. Sizes are None until known; bitrate_bps is measured on the
    up-stream (0 before anything arrived)."""

    index: int
    rid: str | None
    width: int | None
    height: int | None
    bitrate_bps: int


MAX_VIEW_PIXELS = 16384  # one side of a tile, in device pixels


@dataclass(frozen=True)
class TrackView:
    """How a subscriber shows one track: on screen or not, and the tile's device-pixel
    size when known (for layer selection)."""

    visible: bool = True
    width: int | None = None
    height: int | None = None

    def __post_init__(self) -> None:
        if (self.width is None) != (self.height is None):
            raise ValueError("give both width and height, or neither")
        for name in ("width", "height"):
            value = getattr(self, name)
            if value is not None and (isinstance(value, bool) or not isinstance(value, int)
                                      or not 1 <= value <= MAX_VIEW_PIXELS):
                raise ValueError(f"{name} must be an integer 1..{MAX_VIEW_PIXELS}, "
                                 f"got {value!r}")
