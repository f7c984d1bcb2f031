"""The RTMP listener's parsers on their own: AMF0, the chunk stream, FLV tag bodies, with
the malformed input a hostile or broken publisher sends."""

from __future__ import annotations

import asyncio
import struct

import av
import pytest

from media_tools.clips import make_clip
from sfu.ingest import amf0
from sfu.ingest.demux import SourceInfo
from sfu.ingest.flv import parse_audio, parse_video
from sfu.ingest.rtmp_chunks import (AUDIO, DATA_AMF0, MAX_MESSAGE_SIZE, VIDEO, ChunkReader,
                                    Message, RtmpError)
from sfu.ingest.rtmp_source import RtmpMediaSource


def test_amf0_round_trips_what_publishers_send():
    data = amf0.encode("connect", 1, {"app": "k3y", "tcUrl": "rtmp://h/k3y", "fpad": False,
                                      "audioCodecs": 3191.0, "nothing": None})
    assert amf0.decode_all(data) == ["connect", 1.0, {
        "app": "k3y", "tcUrl": "rtmp://h/k3y", "fpad": False, "audioCodecs": 3191.0,
        "nothing": None}]


def test_amf0_reads_ecma_and_strict_arrays():
    ecma = bytes([amf0.ECMA_ARRAY]) + struct.pack(">I", 1) + b"\x00\x05width" \
        + amf0.encode(640) + b"\x00\x00\x09"
    strict = bytes([amf0.STRICT_ARRAY]) + struct.pack(">I", 2) + amf0.encode(1, "a")
    assert amf0.decode_all(ecma + strict) == [{"width": 640.0}, [1.0, "a"]]


@pytest.mark.parametrize("data, message", [
    (b"\x02\x00\x10abc", "ends at byte"),
    (b"\x00\x40\x59", "ends at byte"),
    (b"\x11\x00", "unsupported AMF0 type 0x11"),
    (bytes([amf0.STRICT_ARRAY]) + struct.pack(">I", 1 << 30), "array of"),
    (b"\x0a\x00\x00\x00\x01" * 40, "nested deeper"),
    (b"\x03\x00\x01a", "ends at byte"),
])
def test_malformed_amf0_raises_a_precise_error(data, message):
    with pytest.raises(amf0.AmfError, match=message):
        amf0.decode_all(data)


def chunks_of(payload: bytes, type_id: int, timestamp: int, chunk_size: int,
              csid: int = 4) -> bytes:
    """One message as a publisher sends it: a type-0 header, then type-3 continuations."""
    stamp = min(timestamp, 0xFFFFFF)
    out = bytes([csid]) + stamp.to_bytes(3, "big") + len(payload).to_bytes(3, "big")
    out += bytes([type_id]) + struct.pack("<I", 1)
    extended = struct.pack(">I", timestamp) if stamp == 0xFFFFFF else b""
    out += extended
    for pos in range(0, len(payload), chunk_size):
        if pos:
            out += bytes([0xC0 | csid]) + extended
        out += payload[pos:pos + chunk_size]
    return out


async def read_messages(data: bytes, count: int) -> list:
    reader = asyncio.StreamReader()
    reader.feed_data(data)
    reader.feed_eof()
    chunks = ChunkReader(reader)
    return [await chunks.read_message() for _ in range(count)]


async def test_chunk_stream_reassembles_across_chunk_size_changes():
    video = bytes(range(256)) * 3
    set_size = bytes([2]) + b"\x00\x00\x00" + (4).to_bytes(3, "big") + b"\x01" \
        + struct.pack("<I", 0) + struct.pack(">I", 300)
    data = chunks_of(video, 9, 40, 128) + set_size + chunks_of(video, 9, 0x1000000, 300)
    first, second = await read_messages(data, 2)
    assert (first.type_id, first.stream_id, first.timestamp, first.payload) == (9, 1, 40, video)
    assert (second.timestamp, second.payload) == (0x1000000, video)


async def test_type_1_header_adds_its_delta():
    first = chunks_of(b"a" * 10, 8, 1000, 128, csid=6)
    delta = bytes([0x40 | 6]) + (23).to_bytes(3, "big") + (5).to_bytes(3, "big") + b"\x08"
    a, b = await read_messages(first + delta + b"bbbbb", 2)
    assert (a.timestamp, b.timestamp, b.payload) == (1000, 1023, b"bbbbb")


@pytest.mark.parametrize("data, message", [
    (bytes([0x44]) + b"\x00" * 7, "starts with a type 1 header"),
    (bytes([4]) + b"\x00\x00\x00" + (MAX_MESSAGE_SIZE + 1).to_bytes(3, "big") + b"\x09"
     + b"\x00" * 4, "exceeds"),
    (bytes([2]) + b"\x00\x00\x00" + (4).to_bytes(3, "big") + b"\x01" + b"\x00" * 4
     + struct.pack(">I", 0), "chunk size 0"),
])
async def test_broken_chunk_streams_raise_a_precise_error(data, message):
    with pytest.raises(RtmpError, match=message):
        await read_messages(data, 1)


async def test_too_many_chunk_streams_are_refused():
    data = b"".join(chunks_of(b"x" * 200, 9, 0, 128, csid=3 + i) for i in range(60))
    data += b"".join(bytes([0, i]) + b"\x00" * 11 for i in range(10))
    with pytest.raises(RtmpError, match="more than 64 chunk streams"):
        await read_messages(data, 70)


def test_flv_video_tags_name_their_codec():
    config = parse_video(b"\x17\x00\x00\x00\x00" + b"\x01\x64\x00\x1f")
    assert (config.codec, config.config) == ("h264", True)
    frame = parse_video(b"\x27\x01\xff\xff\xfe" + b"\x00\x00\x00\x01\x41")
    assert (frame.codec, frame.keyframe, frame.cts, frame.data) == (
        "h264", False, -2, b"\x00\x00\x00\x01\x41")
    assert parse_video(b"\x1c\x01\x00\x00\x00").codec == "H.265 (HEVC)"
    assert parse_video(b"\x90hvc1\x01\x02\x03").codec == "H.265 (HEVC)"
    assert parse_video(b"\x91avc1\x00\x00\x00\x00\x65").keyframe
    assert parse_video(b"\x12\x00").codec == "Sorenson H.263"


def test_flv_audio_tags_name_their_codec():
    config = parse_audio(b"\xaf\x00\x12\x10")
    assert (config.codec, config.config, config.data) == ("aac", True, b"\x12\x10")
    alaw = parse_audio(b"\x72" + b"\xd5" * 160)
    assert (alaw.codec, alaw.rate, alaw.channels) == ("pcm_alaw", 8000, 1)
    assert parse_audio(b"\x90Opus" + b"\x01").codec == "opus"
    assert parse_audio(b"\xb0\x00").codec == "FLV audio format 11"


def test_audio_that_starts_after_the_video_is_announced_late(tmp_path):
    """Metadata without audio: the feed starts with video alone; an AAC configuration
    that comes later announces the audio track too (a new SourceInfo)."""
    clip = make_clip(tmp_path / "v.mp4", seconds=0.2, audio=None)
    with av.open(str(clip)) as container:
        avcc = container.streams.video[0].codec_context.extradata
    delivered: list = []
    failures: list = []
    source = RtmpMediaSource(delivered.append, lambda frame: True, failures.append, 1200)
    meta = amf0.encode("@setDataFrame", "onMetaData", {"videocodecid": 7.0, "width": 640.0})
    source.on_message(Message(DATA_AMF0, 1, 0, meta))
    source.on_message(Message(VIDEO, 1, 0, b"\x17\x00\x00\x00\x00" + avcc))
    assert [type(d) for d in delivered] == [SourceInfo]
    assert (delivered[0].video_codec, delivered[0].audio_codec) == ("h264", None)
    assert (delivered[0].width, delivered[0].height) == (640, 360)  # from the SPS
    source.on_message(Message(AUDIO, 1, 40, b"\xaf\x00\x12\x10"))
    assert (delivered[-1].video_codec, delivered[-1].audio_codec) == ("h264", "aac")
    source.on_end("the publisher disconnected")
    assert [str(f) for f in failures] == ["the publisher disconnected"]
