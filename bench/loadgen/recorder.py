"""Counting what publishers send and subscribers receive, and the send-to-arrival latency.

Latency needs no change to the packets: publishers and subscribers live in one process, so
the send tap stores the send time under a hash of the RTP payload, and the receive tap looks
the arriving payload up. An SFU forwards payloads byte for byte, so they match; a
transcoding relay changes them, so it gets counts but no latency.

Times are time.time() (CLOCK_REALTIME) because that is the clock of the kernel's receive
timestamps; `latency` ends at the kernel timestamp of the datagram, `app_latency` when the
load generator's event loop got to it (which adds the load generator's own queueing).
"""

from __future__ import annotations

import time
from array import array
from dataclasses import dataclass, field
from typing import Any

from bench.loadgen.vp8_peek import descriptor_length, keyframe_size

# Send times older than this are forgotten (two generations of this age are kept).
SEND_LOG_GENERATION_S = 3.0


@dataclass
class Window:
    """The steady-state measuring window; None until it opens / closes."""

    start: float | None = None
    end: float | None = None

    def holds(self, t: float) -> bool:
        return self.start is not None and t >= self.start and (self.end is None or t < self.end)


@dataclass
class StreamCount:
    """Receive-side counts of one SSRC inside the window, for sequence-gap loss."""

    packets: int = 0
    first_seq: int | None = None
    highest_ext_seq: int = 0

    def add(self, seq: int) -> None:
        self.packets += 1
        if self.first_seq is None:
            self.first_seq = seq
            self.highest_ext_seq = seq
            return
        # Extend the 16-bit number relative to the highest seen (wrap-safe).
        delta = (seq - self.highest_ext_seq) & 0xFFFF
        if delta < 0x8000:
            self.highest_ext_seq += delta

    def expected(self) -> int:
        return 0 if self.first_seq is None else self.highest_ext_seq - self.first_seq + 1


@dataclass
class Recorder:
    window: Window = field(default_factory=Window)
    sent_packets: int = 0
    sent_by_kind: dict[str, int] = field(default_factory=dict)
    received_by_kind: dict[str, int] = field(default_factory=dict)  # by send time
    sent_video_frames: int = 0
    sent_audio_frames: int = 0
    received_by_send: int = 0     # matched packets whose send time is in the window
    received_by_arrival: int = 0  # every packet arriving in the window
    matched_in_window_arrivals: int = 0
    received_video_frames: int = 0  # marker bits arriving in the window
    received_audio_packets: int = 0
    latencies: array = field(default_factory=lambda: array("d"))
    app_latencies: array = field(default_factory=lambda: array("d"))
    streams: dict[tuple[int, int], StreamCount] = field(default_factory=dict)
    # --simulcast: payloads are matched after the VP8 descriptor (the SFU rewrites picture
    # ids at layer switches), and each subscriber stream's layer is known by the size of
    # its last keyframe.
    simulcast: bool = False
    stream_sizes: dict[tuple[int, int], tuple[int, int]] = field(default_factory=dict)
    layer_packets: dict[str, int] = field(default_factory=dict)  # by size, in the window
    layer_switches: int = 0  # keyframes of another size than the stream's last, in the window
    layer_switches_total: int = 0  # the same since the subscribers connected
    _log: dict[int, float] = field(default_factory=dict)
    _old_log: dict[int, float] = field(default_factory=dict)
    _log_born: float = field(default_factory=time.time)

    # --- publisher side ---------------------------------------------------------------

    def on_sent(self, kind: str, payload: bytes) -> None:
        now = time.time()
        if now - self._log_born > SEND_LOG_GENERATION_S:
            self._old_log, self._log, self._log_born = self._log, {}, now
        if self.simulcast and kind == "video":
            payload = payload[descriptor_length(payload):]
        self._log[hash(payload)] = now
        if self.window.holds(now):
            self.sent_packets += 1
            self.sent_by_kind[kind] = self.sent_by_kind.get(kind, 0) + 1

    def on_frame(self, kind: str) -> None:
        if self.window.holds(time.time()):
            if kind == "video":
                self.sent_video_frames += 1
            else:
                self.sent_audio_frames += 1

    # --- subscriber side --------------------------------------------------------------

    def on_received(self, subscriber: int, kind: str, packet: Any,
                    stamp: float | None) -> None:
        now = time.time()
        payload = packet.payload
        if self.simulcast and kind == "video":
            self._track_layer(subscriber, packet, now)
            payload = payload[descriptor_length(payload):]
        key = hash(payload)
        sent = self._log.get(key)
        if sent is None:
            sent = self._old_log.get(key)
        window = self.window
        arrived_in = window.holds(now)
        if sent is not None and window.holds(sent):
            self.received_by_send += 1
            self.received_by_kind[kind] = self.received_by_kind.get(kind, 0) + 1
            self.app_latencies.append(now - sent)
            if stamp is not None:
                self.latencies.append(stamp - sent)
        if not arrived_in:
            return
        self.received_by_arrival += 1
        if sent is not None:
            self.matched_in_window_arrivals += 1
        if kind == "video":
            self.received_video_frames += packet.marker
        else:
            self.received_audio_packets += 1
        stream = self.streams.get((subscriber, packet.ssrc))
        if stream is None:
            stream = self.streams[(subscriber, packet.ssrc)] = StreamCount()
        stream.add(packet.sequence_number)

    def _track_layer(self, subscriber: int, packet: Any, now: float) -> None:
        stream = (subscriber, packet.ssrc)
        size = keyframe_size(packet.payload)
        in_window = self.window.holds(now)
        if size is not None:
            before = self.stream_sizes.get(stream)
            if before is not None and before != size:
                self.layer_switches_total += 1
                self.layer_switches += in_window
            self.stream_sizes[stream] = size
        if in_window:
            size = self.stream_sizes.get(stream)
            name = f"{size[0]}x{size[1]}" if size else "before the first keyframe"
            self.layer_packets[name] = self.layer_packets.get(name, 0) + 1

    # --- results ----------------------------------------------------------------------

    def seq_gap_loss(self) -> float:
        expected = sum(s.expected() for s in self.streams.values())
        got = sum(s.packets for s in self.streams.values())
        return max(0.0, 1 - got / expected) if expected else 0.0

    def summary(self, subscribers: int) -> dict[str, Any]:
        lat = sorted(self.latencies)
        app = sorted(self.app_latencies)
        arrivals = self.received_by_arrival
        layers = {} if not self.simulcast else {
            "simulcast": True, "layer_packets": self.layer_packets,
            "layer_switches": self.layer_switches,
            "layer_switches_total": self.layer_switches_total,
            "subscriber_streams_by_size": self._streams_by_size()}
        return {
            **layers,
            "sent_packets": self.sent_packets,
            "sent_video_frames": self.sent_video_frames,
            "sent_audio_frames": self.sent_audio_frames,
            "expected_packets": self.sent_packets * subscribers,
            "sent_by_kind": self.sent_by_kind,
            "received_by_kind": self.received_by_kind,
            "received_by_send": self.received_by_send,
            "received_by_arrival": arrivals,
            "match_ratio": self.matched_in_window_arrivals / arrivals if arrivals else 0.0,
            "received_video_frames": self.received_video_frames,
            "received_audio_packets": self.received_audio_packets,
            "seq_gap_loss": self.seq_gap_loss(),
            "latency_samples": len(lat),
            "latency_p50_ms": _percentile(lat, 0.50) * 1000 if lat else None,
            "latency_p99_ms": _percentile(lat, 0.99) * 1000 if lat else None,
            "latency_p999_ms": _percentile(lat, 0.999) * 1000 if lat else None,
            "latency_max_ms": lat[-1] * 1000 if lat else None,
            "app_latency_p50_ms": _percentile(app, 0.50) * 1000 if app else None,
            "app_latency_p99_ms": _percentile(app, 0.99) * 1000 if app else None,
        }


    def _streams_by_size(self) -> dict[str, int]:
        """How many subscriber video streams ended the run on each layer."""
        counts: dict[str, int] = {}
        for width, height in self.stream_sizes.values():
            counts[f"{width}x{height}"] = counts.get(f"{width}x{height}", 0) + 1
        return counts


def _percentile(ordered: list[float], q: float) -> float:
    index = min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))
    return ordered[index]
