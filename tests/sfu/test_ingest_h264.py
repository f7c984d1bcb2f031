"""H.264 from real encoders through our parser and RTP packetiser: the NAL units come
out byte-identical (nothing is re-encoded), and the RTP follows RFC 6184 mode 1."""

from __future__ import annotations

from pathlib import Path

import av
import pytest
from aiortc.codecs.h264 import h264_depayload

from media_tools.clips import annexb_nal_units, make_clip
from sfu.ingest.h264 import (NAL_IDR, NAL_PPS, NAL_SPS, AccessUnitReader, H264Error,
                             nal_type, parse_extradata, split_annexb, split_avcc)
from sfu.ingest.packetizer import FU_A, STAP_A, depacketize, packetize
from sfu.h264_sps import SpsError, picture_size
from sfu.keyframe import h264_keyframe_start

MTU = 1200


@pytest.fixture(scope="module")
def clips(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """An MP4 (AVCC, like FLV/RTMP) and a raw .h264 (Annex-B, like RTSP) of one encode,
    High profile at 1280x720 so I-frames need FU-A."""
    base = tmp_path_factory.mktemp("h264")
    mp4 = make_clip(base / "clip.mp4", seconds=3, audio=None, size="1280x720", gop=30,
                    extra=["-preset", "veryfast", "-profile:v", "high"])
    raw = base / "clip.h264"
    raw.write_bytes(b"".join(b"\x00\x00\x00\x01" + n for n in annexb_nal_units(mp4)))
    return {"avcc": mp4, "annexb": raw}


def packetised_access_units(path: Path) -> list[tuple[list[bytes], list[bytes]]]:
    """(NAL units our reader produced, RTP payloads) for each demuxed access unit."""
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        reader = AccessUnitReader(parse_extradata(stream.codec_context.extradata))
        out = []
        for packet in container.demux(stream):
            if packet.size:
                nals = reader.nal_units(bytes(packet))
                out.append((nals, packetize(nals, MTU)))
    return out


def without_parameter_sets(nals: list[bytes]) -> list[bytes]:
    return [n for n in nals if nal_type(n) not in (NAL_SPS, NAL_PPS)]


def parameter_sets(nals: list[bytes]) -> list[bytes]:
    return [n for n in nals if nal_type(n) in (NAL_SPS, NAL_PPS)]


@pytest.mark.parametrize("framing", ["avcc", "annexb"])
def test_nal_units_survive_packetising_byte_identical(clips, framing):
    """ffmpeg's h264_mp4toannexb puts the parameter sets after the SEI, we put them
    first in the access unit; otherwise the sequences are the same bytes."""
    source = annexb_nal_units(clips["avcc"])
    units = packetised_access_units(clips[framing])
    ours = [n for nals, _ in units for n in nals]
    assert without_parameter_sets(ours) == without_parameter_sets(source)
    assert parameter_sets(ours) == parameter_sets(source)
    through_rtp = [n for _, payloads in units for n in depacketize(payloads)]
    assert through_rtp == ours
    # An independent depacketiser (aiortc's) reads our RTP the same way.
    for nals, payloads in units:
        annexb = b"".join(h264_depayload(p) for p in payloads)
        assert split_annexb(annexb) == nals


def test_rtp_payloads_follow_rfc6184_mode_1(clips):
    units = packetised_access_units(clips["avcc"])
    kinds = [p[0] & 0x1F for _, payloads in units for p in payloads]
    assert all(len(p) <= MTU for _, payloads in units for p in payloads)
    assert STAP_A in kinds and FU_A in kinds
    assert all(k in (1, 5, 6, 7, 8, STAP_A, FU_A) for k in kinds)
    keyframes = [payloads for nals, payloads in units if NAL_IDR in map(nal_type, nals)]
    assert len(keyframes) == 3  # 3 s at 25 fps, GOP 30 ... 90 frames -> IDR 0, 30, 60
    for payloads in keyframes:
        assert payloads[0][0] & 0x1F == STAP_A, "SPS and PPS travel together first"
        assert h264_keyframe_start(payloads[0])
        stap = depacketize(payloads[:1])
        assert [nal_type(n) for n in stap] == [NAL_SPS, NAL_PPS]


def test_idr_without_parameter_sets_gets_them_from_extradata(clips):
    """MP4/FLV carry SPS/PPS only in the extradata; every IDR we send starts with them,
    so a subscriber who joins at any keyframe can decode."""
    with av.open(str(clips["avcc"])) as container:
        stream = container.streams.video[0]
        fmt = parse_extradata(stream.codec_context.extradata)
        assert fmt.avcc_length_size == 4 and fmt.sps and fmt.pps
        raw_idrs = 0
        reader = AccessUnitReader(fmt)
        for packet in container.demux(stream):
            if not packet.size:
                continue
            raw = split_avcc(bytes(packet))
            nals = reader.nal_units(bytes(packet))
            if NAL_IDR in map(nal_type, raw):
                raw_idrs += 1
                assert NAL_SPS not in map(nal_type, raw), "libx264 in MP4 repeats no SPS"
                assert nals[:2] == [fmt.sps[0], fmt.pps[0]]
        assert raw_idrs == 3
    assert reader.profile_level_id is not None and reader.profile_level_id.startswith("64")


def test_small_mtu_fragments_evenly_and_reassembles():
    nal = bytes([0x65]) + bytes(range(256)) * 20
    payloads = packetize([nal], mtu=300)
    assert all(p[0] & 0x1F == FU_A for p in payloads)
    assert payloads[0][1] & 0x80 and payloads[-1][1] & 0x40
    sizes = {len(p) for p in payloads}
    assert max(sizes) - min(sizes) <= 1
    assert depacketize(payloads) == [nal]


@pytest.mark.parametrize("data, message", [
    (b"\x00\x00\x00\x10\x65\x88", "does not fit"),
    (b"\x00\x00", "truncated NAL length"),
])
def test_malformed_avcc_raises_a_precise_error(data, message):
    with pytest.raises(H264Error, match=message):
        split_avcc(data)


@pytest.mark.parametrize("extradata, message", [
    (b"\x01\x64\x00", "too short"),
    (b"\x01\x64\x00\x1f\xff\xe1\x00\x40\x67", "does not fit"),
    (b"\x01\x64\x00\x1f\xfe\xe1\x00\x01\x67\x01", "3-byte NAL lengths"),
])
def test_malformed_avcc_record_raises_a_precise_error(extradata, message):
    with pytest.raises(H264Error, match=message):
        parse_extradata(extradata)


def test_annexb_without_start_code_is_rejected():
    with pytest.raises(H264Error, match="no Annex-B start code"):
        split_annexb(b"\x65\x88\x84")


@pytest.mark.parametrize("size, extra", [
    ("640x360", ["-profile:v", "baseline"]),  # 368 rows coded, 8 cropped
    ("1280x720", ["-preset", "veryfast", "-profile:v", "high"]),
    ("1920x1080", ["-preset", "ultrafast", "-profile:v", "high",
                   "-x264-params", "cqm=jvt"]),  # scaling lists in the SPS; 1088 coded
    ("176x144", ["-pix_fmt", "yuv444p", "-profile:v", "high444"]),
    ("320x240", ["-flags", "+ildct+ilme", "-x264-params", "interlaced=1"]),  # field coding
])
def test_picture_size_comes_from_the_sps(tmp_path, size, extra):
    clip = make_clip(tmp_path / "size.mp4", seconds=0.2, audio=None, size=size, extra=extra)
    with av.open(str(clip)) as container:
        fmt = parse_extradata(container.streams.video[0].codec_context.extradata)
    width, height = (int(v) for v in size.split("x"))
    assert picture_size(fmt.sps[0]) == (width, height)


@pytest.mark.parametrize("sps, message", [
    (b"\x67\x64", "ends early"),
    (b"\x67\x42\xc0\x1e" + b"\x00" * 8, "longer than 32 bits"),
])
def test_malformed_sps_raises_a_precise_error(sps, message):
    with pytest.raises(SpsError, match=message):
        picture_size(sps)
