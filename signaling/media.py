"""The seam between signalling and the SFU: settings, track JSON and a cheap SDP guard.

The SFU validates SDP itself (SdpError); the guard here runs first so a client that sends a
megabyte of text or hundreds of m-lines is refused before anything parses it.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import sfu

from signaling.config import Config
from signaling.errors import SignalingError

TRACK_FIELDS = ("track_id", "participant_id", "name", "kind", "source", "codec")


def sfu_settings(config: Config) -> sfu.SfuSettings:
    """SfuSettings from [sfu] and the SDP limits of [limits]."""
    return sfu.SfuSettings(
        ice_host_addresses=tuple(config.sfu.ice_host_addresses),
        ice_public_addresses=tuple(config.sfu.ice_public_addresses),
        keyframe_min_interval_s=config.sfu.keyframe_min_interval_s,
        packet_history_ms=config.sfu.packet_history_ms,
        bwe_start_bps=config.sfu.bwe_start_bps,
        bwe_min_bps=config.sfu.bwe_min_bps,
        bwe_max_bps=config.sfu.bwe_max_bps,
        layer_idle_s=config.sfu.simulcast_layer_idle_s,
        native_send=config.sfu.native_send,
        max_sdp_bytes=config.limits.max_sdp_bytes,
        max_m_sections=config.limits.max_m_sections,
    )


def feed_settings(config: Config) -> Any:
    """sfu.ingest.FeedSettings from [feeds] (imported here: sfu.ingest loads PyAV)."""
    from sfu.ingest import FeedSettings

    feeds = config.feeds
    return FeedSettings(retry_min_s=feeds.retry_min_s, retry_max_s=feeds.retry_max_s,
                        open_timeout_s=feeds.open_timeout_s,
                        read_timeout_s=feeds.read_timeout_s,
                        transcode_h265=feeds.transcode_h265,
                        transcode_bitrate_bps=feeds.transcode_bitrate_bps)


def track_json(info: Any) -> dict[str, Any]:
    """A TrackInfo as the protocol shows it (docs/protocol.md `tracks`)."""
    if hasattr(info, "to_json"):
        data = info.to_json()
    elif dataclasses.is_dataclass(info):
        data = dataclasses.asdict(info)  # type: ignore[arg-type]
    else:
        data = {name: getattr(info, name, None) for name in TRACK_FIELDS}
    return {name: data.get(name) for name in TRACK_FIELDS} | {
        k: v for k, v in data.items() if k not in TRACK_FIELDS and _plain(v)}


def _plain(value: Any) -> bool:
    return isinstance(value, (str, int, float, bool)) or value is None


def check_sdp(sdp: str, max_bytes: int, max_m_sections: int, what: str = "offer") -> None:
    """Refuse SDP that is too big, has too many m-sections or is obviously not SDP."""
    size = len(sdp.encode("utf-8", "surrogatepass"))
    if size > max_bytes:
        raise SignalingError("bad_sdp", f"{what} is {size} bytes, limit is {max_bytes}")
    if not sdp.startswith("v=0"):
        raise SignalingError("bad_sdp", f"{what} is not SDP (must start with 'v=0')")
    count = sum(1 for line in sdp.splitlines() if line.startswith("m="))
    if count > max_m_sections:
        raise SignalingError("bad_sdp",
                             f"{what} has {count} m-sections, limit is {max_m_sections}")
    if count == 0:
        raise SignalingError("bad_sdp", f"{what} has no m-sections")


def sources_from_sdp(sdp: str) -> dict[str, str]:
    """Guess sources for a WHIP offer, which cannot name them: audio is the microphone,
    the first video the camera, further videos screens."""
    sources: dict[str, str] = {}
    kind: str | None = None
    videos = 0
    for line in sdp.splitlines():
        if line.startswith("m="):
            kind = line[2:].split(" ", 1)[0]
        elif line.startswith("a=mid:") and kind in ("audio", "video"):
            mid = line[len("a=mid:"):].strip()
            if kind == "audio":
                sources[mid] = "microphone"
            else:
                sources[mid] = "camera" if videos == 0 else "screen"
                videos += 1
    return sources
