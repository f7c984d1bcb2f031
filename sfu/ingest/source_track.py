"""A room track fed by the server itself (an RTSP camera, an RTMP push) rather than by a
WebRTC publisher.

It is a PublishedTrack underneath, so subscribers get exactly what they get from a
browser publisher: packet history for NACKs, keyframe-held starts, host mute, sender
reports. What differs: there is no upstream to send RTCP to (a PLI only raises
`keyframe_wanted`, which a transcoding source could honour; a forwarding source
cannot), and sender reports are made here from the wall clock.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Coroutine
from typing import Any

from sfu import aiortc_bridge as bridge
from sfu.codecs import CodecSpec
from sfu.published_track import PublishedTrack
from sfu.rtcp_events import SenderReport
from sfu.rtcp_stats import ntp_from_unix
from sfu.settings import SfuSettings
from sfu.tracks import TrackInfo

H264_PT = 102
OPUS_PT = 111
VP8_PT = 97
CODECS = {"H264": ("video", H264_PT, "video/H264", 90000, None),
          "VP8": ("video", VP8_PT, "video/VP8", 90000, None),
          "opus": ("audio", OPUS_PT, "audio/opus", 48000, 2)}


def source_codec(kind: str, label: str, profile_level_id: str | None = None) -> CodecSpec:
    """The CodecSpec of a source track; raises ValueError for what we cannot forward."""
    entry = CODECS.get(label)
    if entry is None or entry[0] != kind:
        known = ", ".join(f"{k} ({v[0]})" for k, v in CODECS.items())
        raise ValueError(f"cannot forward {kind} codec {label!r}; source tracks carry {known}")
    _, pt, mime, rate, channels = entry
    params: dict[str, str] = {}
    if label == "H264":
        params = {"packetization-mode": "1", "level-asymmetry-allowed": "1",
                  "profile-level-id": profile_level_id or "42e01f"}
    return CodecSpec(pt, mime, rate, channels, params)


class SourceTrack:
    def __init__(self, info: TrackInfo, codec: CodecSpec, settings: SfuSettings) -> None:
        self.ssrc = random.getrandbits(32) or 1
        self.codec = codec
        self.keyframe_wanted = False
        # Called on a subscriber's keyframe request: a transcoding source makes an IDR.
        self.on_keyframe_request: Callable[[], None] | None = None
        self.packets = 0
        self.octets = 0
        self._seq = random.getrandbits(16)
        self.published = PublishedTrack(info, codec, None, settings, self._on_rtcp_out,
                                        rtcp_ssrc=self.ssrc, media_ssrc=self.ssrc)

    @property
    def info(self) -> TrackInfo:
        return self.published.info

    @property
    def closed(self) -> bool:
        return self.published.closed

    def push(self, packet: Any) -> None:
        """Forward one RTP packet (bytes or a parsed packet) to the subscribers.

        Its SSRC and payload type are replaced by the track's; sequence numbers and
        timestamps are the caller's.
        """
        if self.published.closed:
            return
        if isinstance(packet, (bytes, bytearray, memoryview)):
            packet = bridge.parse_rtp(bytes(packet))
        packet.ssrc = self.ssrc
        packet.payload_type = self.codec.payload_type
        self.packets += 1
        self.octets += len(packet.payload)
        _run_now(self.published.on_rtp(packet))

    def send(self, payloads: list[bytes], timestamp: int) -> None:
        """One frame: consecutive sequence numbers, the marker on the last payload."""
        last = len(payloads) - 1
        for i, payload in enumerate(payloads):
            self.push(bridge.rtp_packet(self.codec.payload_type, self._seq, timestamp,
                                        self.ssrc, i == last, payload))
            self._seq = (self._seq + 1) & 0xFFFF

    def set_clock(self, rtp_timestamp: int, unix_time: float, monotonic: float) -> None:
        """Pair a media timestamp with the wall clock, for our sender reports (there is
        no upstream SR). Tracks of one feed paired from one clock stay lip-synced."""
        report = SenderReport(self.ssrc, ntp_from_unix(unix_time),
                              rtp_timestamp & 0xFFFFFFFF, self.packets, self.octets)
        self.published.sender_report = (report, monotonic)

    def restart(self) -> None:
        """The source reconnected: every subscriber waits for the next keyframe, as
        after an unmute (a host mute in force stays in force)."""
        if not self.published.muted:
            self.published.set_muted(True)
            self.published.set_muted(False)

    def close(self) -> None:
        self.published.close()

    def _on_rtcp_out(self, data: bytes) -> None:
        # Only PLIs come here (no NACKs: the codec declares no NACK feedback upstream).
        self.keyframe_wanted = True
        if self.on_keyframe_request is not None:
            self.on_keyframe_request()


def _run_now(coro: Coroutine[Any, Any, None]) -> None:
    """Run a coroutine that never suspends (PublishedTrack.on_rtp awaits nothing),
    without a task per packet."""
    try:
        coro.send(None)
    except StopIteration:
        return
    coro.close()
    raise RuntimeError("PublishedTrack.on_rtp suspended; source tracks cannot drive it")
