"""Settings, track JSON, codec choices and 1:1 NAT candidates."""

from __future__ import annotations

import pytest

from sfu import SfuSettings, TrackInfo
from sfu.codecs import CodecSpec, forwardable, output_codec, primary_codec, rtx_payload_type
from sfu.sdp_candidates import add_public_candidates


def test_settings_defaults_and_lists():
    settings = SfuSettings(ice_host_addresses=["127.0.0.1"], ice_public_addresses=["203.0.113.7"])
    assert settings.ice_host_addresses == ("127.0.0.1",)
    assert settings.packet_history_ms == 1000 and settings.max_m_sections == 16


@pytest.mark.parametrize("kwargs, message", [
    ({"packet_history_ms": 500}, "packet_history_ms is 500, minimum is 1000"),
    ({"ice_host_addresses": ("localhost",)}, "ice_host_addresses: 'localhost' is not an IP address"),
    ({"ice_public_addresses": "1.2.3.4"}, "ice_public_addresses must be a list of IP addresses"),
    ({"keyframe_min_interval_s": 0}, "keyframe_min_interval_s must be > 0"),
    ({"max_m_sections": 0}, "max_m_sections is 0, minimum is 1"),
])
def test_settings_are_checked(kwargs, message):
    with pytest.raises(ValueError) as caught:
        SfuSettings(**kwargs)
    assert str(caught.value) == message


def test_track_json_matches_the_protocol():
    info = TrackInfo("t_1", "p_11aa", "Bob", "audio", "microphone", "opus")
    assert info.to_json() == {"track_id": "t_1", "participant_id": "p_11aa", "name": "Bob",
                              "kind": "audio", "source": "microphone", "codec": "opus"}


VP8 = CodecSpec(96, "video/VP8", 90000)
RTX = CodecSpec(97, "video/rtx", 90000, parameters={"apt": 96})
H264_PM0 = CodecSpec(100, "video/H264", 90000,
                     parameters={"packetization-mode": "0", "profile-level-id": "42e01f"})
H264 = CodecSpec(102, "video/H264", 90000,
                 parameters={"packetization-mode": "1", "profile-level-id": "42e01f"})
H264_BASE = CodecSpec(104, "video/H264", 90000,
                      parameters={"packetization-mode": "1", "profile-level-id": "42001f"})


def test_codec_choices():
    assert not forwardable(H264_PM0) and forwardable(H264)
    assert not forwardable(CodecSpec(9, "audio/G722", 8000))
    assert primary_codec([H264_PM0, H264, VP8]) == H264
    assert rtx_payload_type([VP8, RTX], 96) == 97 and rtx_payload_type([VP8, RTX], 102) is None
    assert output_codec(H264, [VP8, RTX, H264_BASE, H264]) == H264  # same profile first
    assert output_codec(H264, [VP8, H264_BASE]) == H264_BASE
    assert output_codec(VP8, [H264]) is None
    assert VP8.label == "VP8" and CodecSpec(111, "audio/opus", 48000, 2).label == "opus"


def test_public_addresses_are_added_next_to_host_candidates():
    sdp = ("m=audio 50000 UDP/TLS/RTP/SAVPF 96\r\n"
           "a=candidate:abc 1 udp 2130706431 10.0.0.5 50000 typ host\r\n"
           "a=candidate:def 1 udp 1694498815 198.51.100.1 40000 typ srflx raddr 10.0.0.5 rport 50000\r\n")
    out = add_public_candidates(sdp, ("203.0.113.7",))
    assert out.split("\r\n")[1:4] == [
        "a=candidate:abc 1 udp 2130706431 10.0.0.5 50000 typ host",
        "a=candidate:abcp0 1 udp 2130706430 203.0.113.7 50000 typ host",
        "a=candidate:def 1 udp 1694498815 198.51.100.1 40000 typ srflx raddr 10.0.0.5 rport 50000",
    ]
    assert add_public_candidates(sdp, ()) == sdp
