"""Feed audio as Opus RTP payloads: Opus passes through, anything else (AAC from RTMP
and most cameras, G.711, ...) is decoded and encoded to Opus 48 kHz in 20 ms frames.
Runs in the feed's demux thread (PyAV, blocking)."""

from __future__ import annotations

from fractions import Fraction
from typing import Any

import av

OPUS_RATE = 48000
FRAME_SAMPLES = 960  # 20 ms
OPUS_BITRATE = 64000
RESYNC_S = 0.2  # source timestamps that jump by more than this re-anchor our clock


class AudioError(ValueError):
    """The feed's audio cannot be turned into Opus."""


class AudioChain:
    """Per source audio packet: the Opus payloads it yields, each with its presentation
    time in seconds (the source's clock, so video and audio stay aligned)."""

    def __init__(self, codec: str, decoder: Any, time_base: Any) -> None:
        """`decoder`: an open-able PyAV decoder context (None for Opus, passed through);
        `time_base`: of the packets' pts."""
        self.source_codec = codec
        self.passthrough = codec == "opus"
        self._time_base = time_base
        self._decoder = None if self.passthrough else decoder
        self._resampler: Any = None
        self._encoder: Any = None
        # Our sample counter's time on the source clock: source time = offset + n / 48000.
        self._offset_s: float | None = None
        self._samples = 0

    @classmethod
    def from_stream(cls, stream: Any) -> "AudioChain":
        return cls(stream.codec_context.name, stream.codec_context, stream.time_base)

    def process(self, packet: Any) -> list[tuple[bytes, float]]:
        pts_s = _seconds(packet, self._time_base)
        if self.passthrough:
            return [] if pts_s is None else [(bytes(packet), pts_s)]
        try:
            frames = self._decoder.decode(packet)  # type: ignore[union-attr]
        except av.FFmpegError:
            return []  # one corrupt packet: skip it, the next one decodes
        out: list[tuple[bytes, float]] = []
        for frame in frames:
            out.extend(self._encode(frame))
        return out

    def _encode(self, frame: Any) -> list[tuple[bytes, float]]:
        time_base = frame.time_base or self._time_base
        frame_s = None if frame.pts is None or time_base is None else float(frame.pts * time_base)
        if self._encoder is None:
            self._open(frame)
        if frame_s is not None:
            expected = None if self._offset_s is None else self._offset_s + self._samples / OPUS_RATE
            if expected is None or abs(frame_s - expected) > RESYNC_S:
                self._offset_s = frame_s - self._samples / OPUS_RATE
        frame.pts = None
        out = []
        for chunk in self._resampler.resample(frame):
            chunk.pts = self._samples
            chunk.time_base = Fraction(1, OPUS_RATE)
            self._samples += chunk.samples
            for packet in self._encoder.encode(chunk):
                sample = packet.pts if packet.pts is not None else self._samples
                out.append((bytes(packet), (self._offset_s or 0.0) + sample / OPUS_RATE))
        return out

    def _open(self, frame: Any) -> None:
        layout = "stereo" if frame.layout.nb_channels >= 2 else "mono"
        self._resampler = av.AudioResampler(format="s16", layout=layout, rate=OPUS_RATE,
                                            frame_size=FRAME_SAMPLES)
        try:
            encoder = av.CodecContext.create("libopus", "w")
        except av.FFmpegError as exc:
            raise AudioError(f"no Opus encoder: {exc}") from None
        encoder.sample_rate = OPUS_RATE
        encoder.layout = layout
        encoder.format = "s16"
        encoder.bit_rate = OPUS_BITRATE
        encoder.time_base = Fraction(1, OPUS_RATE)
        encoder.options = {"frame_duration": "20", "application": "audio"}
        encoder.open()
        self._encoder = encoder


def _seconds(packet: Any, time_base: Any) -> float | None:
    value = packet.pts if packet.pts is not None else packet.dts
    if value is None or time_base is None:
        return None
    return float(value * time_base)
