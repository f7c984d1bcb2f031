"""An RTMP publisher's FLV messages as feed events: one SourceInfo once the streams are
known, then video Frames (H.264 packetised on the loop, cheap and in order) and audio
Frames (transcoded to Opus on the feed's own worker thread).

The SourceInfo waits for the configuration records the metadata announces (or for
START_WAIT_S after the first media message), so the feed's tracks appear together;
messages meanwhile are held.
"""

from __future__ import annotations

import concurrent.futures
import logging
import time
from collections.abc import Callable
from dataclasses import replace
from fractions import Fraction
from typing import Any

import av

from sfu.ingest import amf0
from sfu.ingest.audio import AudioChain, AudioError
from sfu.ingest.demux import UNSUPPORTED_VIDEO, FeedError, Frame, SourceInfo
from sfu.ingest.flv import AudioTag, FlvError, VideoTag, parse_audio, parse_video
from sfu.ingest.h264 import NAL_IDR, AccessUnitReader, H264Error, nal_type, parse_extradata
from sfu.ingest.packetizer import packetize
from sfu.ingest.rtmp_chunks import AUDIO, DATA_AMF0, DATA_AMF3, VIDEO, Message
from sfu.h264_sps import SpsError, picture_size

logger = logging.getLogger(__name__)

START_WAIT_S = 2.0
MAX_HELD = 500
MAX_AUDIO_BACKLOG = 100
MS = Fraction(1, 1000)


class RtmpMediaSource:
    def __init__(self, deliver: Callable[[Any], None], emit_threadsafe: Callable[[Any], bool],
                 fail: Callable[[FeedError], None], mtu: int) -> None:
        self._deliver = deliver  # on the loop
        self._emit = emit_threadsafe  # from the audio worker
        self._fail = fail
        self._mtu = mtu
        self._metadata: dict[str, Any] = {}
        self._first_media_at: float | None = None
        self._held: list[Message] = []
        self._info: SourceInfo | None = None
        self._reader: AccessUnitReader | None = None
        self._audio_codec: str | None = None
        self._chain: AudioChain | None = None
        self._audio_seen = False
        self._audio_submitted = 0  # written on the loop
        self._audio_finished = 0  # written by the worker
        self._need_keyframe = True
        self._failed = False
        self._worker = concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="feed-audio")

    # --- MediaSink -------------------------------------------------------------------

    def on_message(self, message: Message) -> None:
        if self._failed:
            return
        try:
            self._handle(message)
        except FeedError as exc:
            self._failed = True
            self._fail(exc)

    def on_end(self, reason: str) -> None:
        self._worker.shutdown(wait=False, cancel_futures=True)
        if not self._failed:
            self._fail(FeedError(reason, retry=True))

    # --- message handling --------------------------------------------------------------

    def _handle(self, message: Message) -> None:
        if message.type_id in (DATA_AMF0, DATA_AMF3):
            self._on_data(message)
            return
        if self._info is None:
            if self._first_media_at is None:
                self._first_media_at = time.monotonic()
            self._learn(message)
            if not self._ready():
                if len(self._held) < MAX_HELD:
                    self._held.append(message)
                return
            self._start()
        self._media(message)

    def _on_data(self, message: Message) -> None:
        payload = message.payload[1:] if message.type_id == DATA_AMF3 else message.payload
        try:
            values = amf0.decode_all(payload)
        except amf0.AmfError:
            return  # metadata is a hint; a publisher sending junk there still streams
        for value in values:
            if isinstance(value, dict):
                self._metadata = value

    def _learn(self, message: Message) -> None:
        """Before the start: read configuration records, reject what cannot work."""
        try:
            if message.type_id == VIDEO:
                tag = parse_video(message.payload)
                if tag is not None:
                    self._check_video(tag)
                    if tag.config:
                        self._video_config(tag)
            elif message.type_id == AUDIO:
                tag = parse_audio(message.payload)
                if tag is not None and not self._audio_seen:
                    self._audio_config(tag)
        except FlvError as exc:
            raise FeedError(f"bad RTMP media: {exc}", retry=True) from None

    def _ready(self) -> bool:
        meta = self._metadata
        video_known = self._reader is not None or not meta.get("videocodecid")
        audio_known = self._audio_seen or not meta.get("audiocodecid")
        # A publisher slow to start (ffmpeg reading its input) must not lose its audio
        # track: the wait counts from the first media message, not from the publish.
        assert self._first_media_at is not None
        waited = time.monotonic() - self._first_media_at >= START_WAIT_S
        have_any = self._reader is not None or self._audio_codec is not None
        return have_any and ((video_known and audio_known and bool(meta)) or waited)

    def _start(self) -> None:
        meta = self._metadata
        width, height = _dimension(meta.get("width")), _dimension(meta.get("height"))
        if self._reader is not None and self._reader.sps is not None:
            try:
                width, height = picture_size(self._reader.sps)  # what the decoder will show
            except SpsError:
                pass
        self._info = SourceInfo(
            video_codec="h264" if self._reader is not None else None,
            audio_codec=self._audio_codec, width=width, height=height,
            profile_level_id=self._reader.profile_level_id if self._reader else None)
        self._deliver(self._info)
        held, self._held = self._held, []
        for message in held:
            self._media(message)

    def _media(self, message: Message) -> None:
        try:
            if message.type_id == VIDEO:
                tag = parse_video(message.payload)
                if tag is not None:
                    self._check_video(tag)
                    self._video(tag, message.timestamp)
            elif message.type_id == AUDIO:
                tag = parse_audio(message.payload)
                if tag is not None and not self._audio_seen:
                    self._late_audio(tag)
                elif tag is not None and tag.codec == self._audio_codec and not tag.config:
                    self._audio(tag, message.timestamp)
        except FlvError as exc:
            logger.info("skipping a bad RTMP media message: %s", exc)

    def _late_audio(self, tag: AudioTag) -> None:
        """Audio that starts after the feed did: its track joins the video's."""
        self._audio_config(tag)
        if self._audio_codec is not None and self._info is not None:
            self._info = replace(self._info, audio_codec=self._audio_codec)
            self._deliver(self._info)

    # --- video -------------------------------------------------------------------------

    def _check_video(self, tag: VideoTag) -> None:
        if tag.codec != "h264":
            message = UNSUPPORTED_VIDEO.get("hevc") if "HEVC" in tag.codec else None
            raise FeedError(message or f"{tag.codec} video is not supported; "
                            "configure the encoder for H.264", retry=False)

    def _video_config(self, tag: VideoTag) -> None:
        try:
            fmt = parse_extradata(tag.data)
        except H264Error as exc:
            raise FeedError(f"bad H.264 configuration record: {exc}", retry=True) from None
        if fmt.avcc_length_size is None:
            raise FeedError("the H.264 configuration record is not an avcC", retry=True)
        self._reader = AccessUnitReader(fmt)

    def _video(self, tag: VideoTag, dts_ms: int) -> None:
        if tag.config:
            if self._reader is not None:
                self._video_config(tag)
            return
        if self._reader is None or self._info is None or self._info.video_codec is None:
            return
        try:
            nals = self._reader.nal_units(tag.data)
        except H264Error as exc:
            logger.info("skipping a malformed H.264 frame: %s", exc)
            self._need_keyframe = True
            return
        keyframe = any(nal_type(n) == NAL_IDR for n in nals)
        if self._need_keyframe and not keyframe:
            return
        self._need_keyframe = False
        pts_s = (dts_ms + tag.cts) / 1000
        self._deliver(Frame("video", packetize(nals, self._mtu), pts_s, len(tag.data), keyframe))

    # --- audio -------------------------------------------------------------------------

    def _audio_config(self, tag: AudioTag) -> None:
        if tag.codec not in ("aac", "mp3", "pcm_alaw", "pcm_mulaw", "opus"):
            logger.warning("RTMP feed audio %s is not supported; forwarding video only",
                           tag.codec)
            self._audio_seen = True
            return
        if tag.codec in ("aac", "opus") and not tag.config:
            return  # wait for the configuration record
        try:
            decoder = None if tag.codec == "opus" else av.CodecContext.create(tag.codec, "r")
        except av.FFmpegError as exc:
            raise FeedError(f"no {tag.codec} decoder: {exc}", retry=False) from None
        if decoder is not None:
            if tag.config:
                decoder.extradata = tag.data
            if tag.rate:
                decoder.sample_rate = tag.rate
                decoder.layout = "stereo" if tag.channels == 2 else "mono"
        self._chain = AudioChain(tag.codec, decoder, MS)
        self._audio_codec = tag.codec
        self._audio_seen = True

    def _audio(self, tag: AudioTag, ms: int) -> None:
        chain = self._chain
        if chain is None or self._info is None:
            return
        if self._audio_submitted - self._audio_finished >= MAX_AUDIO_BACKLOG:
            return  # the worker is behind: drop rather than queue without bound
        packet = av.Packet(tag.data)
        packet.pts = packet.dts = ms
        packet.time_base = MS
        try:
            self._worker.submit(self._transcode, chain, packet)
        except RuntimeError:
            return  # shut down: the publisher is gone
        self._audio_submitted += 1

    def _transcode(self, chain: AudioChain, packet: Any) -> None:
        try:
            encoded = chain.process(packet)
        except AudioError as exc:
            logger.warning("RTMP feed audio: %s", exc)
            return
        finally:
            self._audio_finished += 1
        for payload, pts_s in encoded:
            self._emit(Frame("audio", [payload], pts_s, len(payload)))


def _dimension(value: Any) -> int | None:
    if isinstance(value, (int, float)) and 0 < value < 100000:
        return int(value)
    return None
