"""FLV tag bodies as RTMP carries them (video and audio messages), legacy and Enhanced
RTMP headers: which codec, configuration records, and the coded data with its times."""

from __future__ import annotations

from dataclasses import dataclass

AVC_CODEC_ID = 7
LEGACY_HEVC_CODEC_ID = 12  # a widespread non-standard extension
VIDEO_NAMES = {2: "Sorenson H.263", 3: "Screen video", 4: "On2 VP6", 5: "On2 VP6 alpha",
               6: "Screen video 2", LEGACY_HEVC_CODEC_ID: "H.265 (HEVC)"}
FOURCC_NAMES = {b"hvc1": "H.265 (HEVC)", b"av01": "AV1", b"vp09": "VP9", b"vp08": "VP8"}
AUDIO_AAC, AUDIO_MP3, AUDIO_ALAW, AUDIO_MULAW, AUDIO_EX = 10, 2, 7, 8, 9
AUDIO_CODECS = {AUDIO_AAC: "aac", AUDIO_MP3: "mp3", AUDIO_ALAW: "pcm_alaw",
                AUDIO_MULAW: "pcm_mulaw"}
EX_AUDIO_CODECS = {b"Opus": "opus", b"mp4a": "aac", b".mp3": "mp3"}


class FlvError(ValueError):
    """A malformed or unsupported FLV tag body."""


@dataclass(frozen=True)
class VideoTag:
    codec: str  # "h264" or a human name of something we cannot forward
    config: bool  # an AVCDecoderConfigurationRecord rather than coded data
    keyframe: bool
    cts: int  # composition time offset, ms (pts = dts + cts)
    data: bytes


@dataclass(frozen=True)
class AudioTag:
    codec: str  # PyAV decoder name: "aac", "mp3", "pcm_alaw", "opus", ...
    config: bool  # an AudioSpecificConfig / Opus header rather than coded data
    data: bytes
    rate: int = 0
    channels: int = 0


def parse_video(body: bytes) -> VideoTag | None:
    """None for tags that carry no picture (end of sequence, video info frames)."""
    if len(body) < 1:
        raise FlvError("empty video tag")
    first = body[0]
    frame_type = (first >> 4) & 0x07
    if first & 0x80:
        return _parse_enhanced_video(body, frame_type)
    codec_id = first & 0x0F
    if codec_id != AVC_CODEC_ID:
        name = VIDEO_NAMES.get(codec_id, f"FLV video codec {codec_id}")
        return VideoTag(name, False, False, 0, b"")
    if frame_type == 5 or len(body) < 5:
        return None
    packet_type = body[1]
    if packet_type == 2:
        return None
    cts = _signed24(body[2:5])
    return VideoTag("h264", packet_type == 0, frame_type == 1, cts, body[5:])


def _parse_enhanced_video(body: bytes, frame_type: int) -> VideoTag | None:
    if len(body) < 5:
        raise FlvError("Enhanced RTMP video tag shorter than its header")
    packet_type = body[0] & 0x0F
    fourcc = bytes(body[1:5])
    if fourcc != b"avc1":
        name = FOURCC_NAMES.get(fourcc, f"video codec {fourcc.decode('latin-1')!r}")
        return VideoTag(name, False, False, 0, b"")
    if frame_type == 5 or packet_type in (2, 4, 5):  # sequence end, metadata, MPEG-2 TS
        return None
    if packet_type == 0:
        return VideoTag("h264", True, False, 0, body[5:])
    if packet_type == 1:
        if len(body) < 8:
            raise FlvError("Enhanced RTMP coded frame shorter than its header")
        return VideoTag("h264", False, frame_type == 1, _signed24(body[5:8]), body[8:])
    if packet_type == 3:
        return VideoTag("h264", False, frame_type == 1, 0, body[5:])
    return None


def parse_audio(body: bytes) -> AudioTag | None:
    if len(body) < 1:
        raise FlvError("empty audio tag")
    sound_format = body[0] >> 4
    if sound_format == AUDIO_EX:
        return _parse_enhanced_audio(body)
    codec = AUDIO_CODECS.get(sound_format)
    if codec is None:
        return AudioTag(f"FLV audio format {sound_format}", False, b"")
    if sound_format == AUDIO_AAC:
        if len(body) < 2:
            raise FlvError("AAC audio tag shorter than its header")
        return AudioTag("aac", body[1] == 0, body[2:])
    rate = 8000 if sound_format in (AUDIO_ALAW, AUDIO_MULAW) else \
        (5512, 11025, 22050, 44100)[(body[0] >> 2) & 0x03]
    return AudioTag(codec, False, body[1:], rate, 2 if body[0] & 0x01 else 1)


def _parse_enhanced_audio(body: bytes) -> AudioTag | None:
    if len(body) < 5:
        raise FlvError("Enhanced RTMP audio tag shorter than its header")
    packet_type = body[0] & 0x0F
    fourcc = bytes(body[1:5])
    codec = EX_AUDIO_CODECS.get(fourcc)
    if codec is None:
        return AudioTag(f"audio codec {fourcc.decode('latin-1')!r}", False, b"")
    if packet_type == 0:
        return AudioTag(codec, True, body[5:])
    if packet_type == 1:
        return AudioTag(codec, False, body[5:])
    return None  # sequence end, multichannel config, multitrack: not used here


def _signed24(raw: bytes) -> int:
    value = int.from_bytes(raw, "big")
    return value - (1 << 24) if value & 0x800000 else value
