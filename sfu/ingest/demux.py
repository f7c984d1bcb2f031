"""One connection to a feed source, in its own thread: PyAV opens the URL (RTSP pull or
RTMP listen), and each demuxed packet becomes RTP payloads (H.264 packetised as-is,
audio as Opus) handed to the event loop through `emit`. Nothing here touches the loop's
objects; the thread only calls `emit`, which must be thread-safe.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import av

from sfu.ingest.audio import AudioChain, AudioError
from sfu.ingest.h264 import (NAL_IDR, AccessUnitReader, H264Error, StreamFormat, nal_type,
                             parse_extradata)
from sfu.ingest.packetizer import packetize
from sfu.h264_sps import SpsError, picture_size
from sfu.ingest.transcode import H265ToH264, TranscodeError

logger = logging.getLogger(__name__)

UNSUPPORTED_VIDEO = {
    "hevc": "H.265 (HEVC) video is not supported; configure the camera for H.264",
}


class FeedError(Exception):
    """The feed cannot be used as it is; `retry` says whether trying again may help."""

    def __init__(self, message: str, retry: bool) -> None:
        super().__init__(message)
        self.retry = retry


@dataclass(frozen=True)
class SourceInfo:
    video_codec: str | None  # PyAV codec names: "h264", "aac", "opus", ...
    audio_codec: str | None
    width: int | None
    height: int | None
    profile_level_id: str | None


@dataclass(frozen=True)
class Frame:
    """RTP payloads of one video access unit or of one Opus packet."""

    kind: str
    payloads: list[bytes]
    pts_s: float
    size: int  # source bytes, for the bitrate
    keyframe: bool = False


@dataclass(frozen=True)
class OpenSpec:
    url: str
    listen: bool
    open_timeout_s: float | None
    read_timeout_s: float
    mtu: int
    transcode_h265: bool = False
    transcode_bitrate_bps: int = 2_000_000

    def options(self) -> dict[str, str]:
        if self.listen:
            return {"listen": "1"}
        options = {"timeout": str(int(self.read_timeout_s * 1_000_000))}
        if self.url.startswith("rtsp"):
            options["rtsp_transport"] = "tcp"
        return options


Emit = Callable[[Any], bool]  # returns False when the loop side is full (frame dropped)


class DemuxSession:
    """Runs in a thread: `run()` returns when the source ends, fails or `stop` is set."""

    def __init__(self, spec: OpenSpec, emit: Emit, stop: threading.Event,
                 keyframe: threading.Event | None = None) -> None:
        self._spec = spec
        self._emit = emit
        self._stop = stop
        self._keyframe = keyframe or threading.Event()  # set: a subscriber wants an IDR
        self._transcoder: H265ToH264 | None = None
        self._video: Any = None
        self._audio: Any = None
        self._reader: AccessUnitReader | None = None
        self._chain: AudioChain | None = None
        self._need_keyframe = True

    def run(self) -> None:
        """Emit a SourceInfo, then Frames; raise FeedError when it cannot go on."""
        spec = self._spec
        try:
            container = av.open(spec.url, options=spec.options(),
                                timeout=(spec.open_timeout_s, spec.read_timeout_s))
        except av.FFmpegError as exc:
            raise FeedError(f"cannot open {_redact(spec.url)}: {_describe(exc)}",
                            retry=True) from None
        try:
            if self._stop.is_set():
                return
            self._emit(self._inspect(container))
            self._pump(container)
        finally:
            container.close()

    def _inspect(self, container: Any) -> SourceInfo:
        videos = [s for s in container.streams if s.type == "video"]
        audios = [s for s in container.streams if s.type == "audio"]
        if videos:
            self._video = videos[0]
            name = self._video.codec_context.name
            if name == "hevc" and self._spec.transcode_h265:
                self._transcoder = H265ToH264(self._video, self._spec.transcode_bitrate_bps,
                                              self._keyframe)
                self._reader = AccessUnitReader(StreamFormat(avcc_length_size=None))
            elif name != "h264":
                message = UNSUPPORTED_VIDEO.get(name) or (
                    f"{_long_name(self._video)} video is not supported; "
                    "configure the camera for H.264")
                raise FeedError(message, retry=False)
            else:
                self._reader = self._h264_reader()
        if audios:
            self._audio = audios[0]
            self._chain = AudioChain.from_stream(self._audio)
        if self._video is None and self._audio is None:
            raise FeedError("the source has no audio or video stream", retry=True)
        ctx = self._video.codec_context if self._video is not None else None
        width, height = (ctx.width or None, ctx.height or None) if ctx is not None else (None, None)
        if self._reader is not None and self._reader.sps is not None and not width:
            try:
                width, height = picture_size(self._reader.sps)
            except SpsError:
                pass
        return SourceInfo(
            video_codec=ctx.name if ctx is not None else None,
            audio_codec=self._chain.source_codec if self._chain is not None else None,
            width=width, height=height,
            profile_level_id=self._reader.profile_level_id if self._reader else None)

    def _h264_reader(self) -> AccessUnitReader:
        try:
            return AccessUnitReader(parse_extradata(self._video.codec_context.extradata))
        except H264Error as exc:
            raise FeedError(f"bad H.264 stream header: {exc}", retry=True) from None

    def _pump(self, container: Any) -> None:
        streams = [s for s in (self._video, self._audio) if s is not None]
        try:
            for packet in container.demux(streams):
                if self._stop.is_set():
                    return
                if packet.size == 0:
                    continue  # demuxer flush packet
                if packet.stream is self._video:
                    self._on_video(packet)
                else:
                    self._on_audio(packet)
        except av.FFmpegError as exc:
            raise FeedError(f"the source dropped: {_describe(exc)}", retry=True) from None
        raise FeedError("the source ended the stream", retry=True)

    def _on_video(self, packet: Any) -> None:
        if self._transcoder is not None:
            try:
                encoded = self._transcoder.process(packet)
            except TranscodeError as exc:
                raise FeedError(str(exc), retry=False) from None
            for data, pts_s in encoded:
                self._send_video(data, pts_s, len(data))
            return
        pts_s = _seconds(packet)
        if pts_s is not None:
            self._send_video(bytes(packet), pts_s, packet.size)

    def _send_video(self, data: bytes, pts_s: float, size: int) -> None:
        assert self._reader is not None
        try:
            nals = self._reader.nal_units(data)
        except H264Error as exc:
            logger.warning("skipping a malformed H.264 access unit: %s", exc)
            self._need_keyframe = True
            return
        keyframe = any(nal_type(n) == NAL_IDR for n in nals)
        if self._need_keyframe and not keyframe:
            self._keyframe.set()  # a transcoder makes one now; a camera's comes in its GOP
            return  # after a drop, deltas would only show garbage until the next IDR
        frame = Frame("video", packetize(nals, self._spec.mtu), pts_s, size, keyframe)
        self._need_keyframe = not self._emit(frame)

    def _on_audio(self, packet: Any) -> None:
        assert self._chain is not None
        try:
            encoded = self._chain.process(packet)
        except AudioError as exc:
            raise FeedError(str(exc), retry=False) from None
        for payload, pts_s in encoded:
            self._emit(Frame("audio", [payload], pts_s, len(payload)))


def _seconds(packet: Any) -> float | None:
    value = packet.pts if packet.pts is not None else packet.dts
    if value is None or packet.time_base is None:
        return None
    return float(value * packet.time_base)


def _long_name(stream: Any) -> str:
    codec = stream.codec_context.codec
    return (getattr(codec, "long_name", None) or stream.codec_context.name).split(" / ")[0]


def _describe(exc: BaseException) -> str:
    text = getattr(exc, "strerror", None) or str(exc)
    if "Immediate exit requested" in text or "Exit requested" in text:
        return "timed out"
    return text


def _redact(url: str) -> str:
    """The URL without credentials (camera URLs often carry user:password@)."""
    scheme, sep, rest = url.partition("://")
    if not sep:
        return url
    host, slash, path = rest.partition("/")
    if "@" in host:
        host = "***@" + host.rsplit("@", 1)[1]
    return f"{scheme}://{host}{slash}{path}"
