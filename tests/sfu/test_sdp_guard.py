"""The SDP guard refuses, with a precise message, every offer aiortc would choke on."""

from __future__ import annotations

import pytest
from aiortc import RTCPeerConnection, RTCSessionDescription
from aiortc.sdp import SessionDescription

from sdp_samples import CHROME_OFFER, FINGERPRINT, mutate, remove_all
from sfu import SdpError
from sfu import aiortc_bridge as bridge
from sfu.sdp_guard import check_answer_sections, check_same_sections, check_sdp

LIMITS = {"max_bytes": 65536, "max_m_sections": 16}
RTPMAP_FORM = "'<payload type> <encoding>/<clock rate>[/<channels>]'"


def guard(sdp: object, what: str = "offer"):
    return check_sdp(sdp, what=what, **LIMITS)


def line_case(old: str, new: str, message: str, aiortc_error: type | None):
    sdp, number = mutate(old, new)
    return pytest.param(sdp, f"line {number}: {message}", aiortc_error, id=new[:28])


# (bad SDP, exact message, what aiortc's parser raises on it)
PARSER_CASES = [
    line_case("a=setup:actpass", "a=setup:holdconn",
              "a=setup must be actpass, active or passive, got 'holdconn'", KeyError),
    line_case("a=setup:actpass", "a=setup",
              "a=setup needs a value: actpass, active or passive", KeyError),
    line_case("a=group:BUNDLE 0 1", "a=group",
              "a=group needs a value: '<semantics> <mid> ...'", AttributeError),
    line_case("a=msid-semantic: WMS stream1", "a=msid-semantic",
              "a=msid-semantic needs a value: 'WMS <id> ...'", AttributeError),
    line_case("a=rtpmap:96 VP8/90000", "a=rtpmap:96 VP8",
              f"a=rtpmap must be {RTPMAP_FORM}, got '96 VP8'", IndexError),
    line_case("a=rtpmap:96 VP8/90000", "a=rtpmap:96VP8/90000",
              f"a=rtpmap must be {RTPMAP_FORM}, got '96VP8/90000'", ValueError),
    line_case("a=rtpmap:96 VP8/90000", "a=rtpmap",
              f"a=rtpmap needs a value: {RTPMAP_FORM}", AttributeError),
    line_case("a=rtcp-fb:96 nack", "a=rtcp-fb:96",
              "a=rtcp-fb must be '<payload type|*> <type> [<parameter>]', got '96'", IndexError),
    line_case("a=fmtp:97 apt=96", "a=fmtp:97 apt=x",
              "fmtp apt must be an integer, got 'x'", ValueError),
    line_case("a=fmtp:97 apt=96", "a=fmtp:97",
              "a=fmtp must be '<payload type> <parameters>', got '97'", ValueError),
    line_case("a=fmtp:97 apt=96", "a=fmtp",
              "a=fmtp needs a value: '<payload type> <parameters>'", AttributeError),
    line_case("a=ssrc:2001 cname:abc", "a=ssrc:2001 cname",
              "a=ssrc must be '<ssrc> <attribute>:<value>', got '2001 cname'", ValueError),
    line_case("a=ssrc:2001 cname:abc", "a=ssrc:99999999999 cname:abc",
              "a=ssrc must be '<ssrc> <attribute>:<value>', got '99999999999 cname:abc'", None),
    line_case("a=ssrc-group:FID 2001 2002", "a=ssrc-group:FID 2001 x",
              "a=ssrc-group ssrc must be an integer, got 'x'", ValueError),
    line_case("c=IN IP4 0.0.0.0", "c=IN IP4",
              "c= must be 'IN IP4|IP6 <address>', got 'IN IP4'", AssertionError),
    line_case("m=video 9 UDP/TLS/RTP/SAVPF 96 97 102 103", "m=video nine UDP/TLS/RTP/SAVPF 96",
              "m= must be 'm=<media> <port> <proto> <fmt> ...', "
              "got 'm=video nine UDP/TLS/RTP/SAVPF 96'", AssertionError),
    line_case("m=video 9 UDP/TLS/RTP/SAVPF 96 97 102 103", "m=video 9 UDP/TLS/RTP/SAVPF 96 300",
              "payload type 300 is out of range 0-127", AssertionError),
    line_case("m=video 9 UDP/TLS/RTP/SAVPF 96 97 102 103", "m=video 9 UDP/TLS/RTP/SAVPF 96 x",
              "payload type must be an integer, got 'x'", ValueError),
    line_case("m=video 9 UDP/TLS/RTP/SAVPF 96 97 102 103", "m=video 9 UDP/TLS/RTP/SAVPF 96 73",
              "payload type 73 is reserved (72-76 clash with RTCP)", AssertionError),
    line_case("a=candidate:1 1 udp 2122260223 127.0.0.1 54321 typ host generation 0 network-id 1",
              "a=candidate:1 1 udp 2122260223",
              "a=candidate must be '<foundation> <component> <transport> <priority> <address> "
              "<port> typ <type> ...', got '1 1 udp 2122260223'", AssertionError),
    line_case("a=candidate:1 1 udp 2122260223 127.0.0.1 54321 typ host generation 0 network-id 1",
              "a=candidate:1 1 udp 2122260223 127.0.0.1 port typ host",
              "candidate port must be an integer, got 'port'", ValueError),
    line_case("a=extmap:1 urn:ietf:params:rtp-hdrext:ssrc-audio-level", "a=extmap:1",
              "a=extmap must be '<id>[/<direction>] <uri>', got '1'", ValueError),
    line_case("a=extmap:1 urn:ietf:params:rtp-hdrext:ssrc-audio-level",
              "a=extmap:1/x/y urn:ietf:params:rtp-hdrext:ssrc-audio-level",
              "a=extmap id must be 1-255 with an optional /direction, got '1/x/y'", ValueError),
    line_case(f"a=fingerprint:sha-256 {FINGERPRINT}", "a=fingerprint:sha-256",
              "a=fingerprint must be '<hash-function> <hex:hex:...>', got 'sha-256'", ValueError),
    line_case("a=rtcp:9 IN IP4 0.0.0.0", "a=rtcp",
              "a=rtcp needs a value: '<port> [IN IP4 <address>]'", AttributeError),
    line_case("a=rtcp-rsize", "a=max-message-size:lots",
              "a=max-message-size must be an integer, got 'lots'", ValueError),
    line_case("a=rtcp-rsize", "a=sctp-port",
              "a=sctp-port needs a value: an integer", TypeError),
    line_case("a=mid:1", "a=mid", "a=mid needs a value: a token of 1 to 32 characters", None),
    line_case("m=video 9 UDP/TLS/RTP/SAVPF 96 97 102 103", "m=video -1 UDP/TLS/RTP/SAVPF 96 97 102 103",
              "m= must be 'm=<media> <port> <proto> <fmt> ...', got 'm=video -1 UDP/TLS/RTP/SAVPF 96 97 102 1...'",
              None),
    line_case("v=0", "v=x", "expected 'v=0', got 'v=x'", ValueError),
    line_case("a=rtcp-rsize", "rtcp-rsize", "expected '<letter>=<value>', got 'rtcp-rsize'", None),
    line_case("a=rtcp-rsize", "a=simulcast:send f;h,l",
              "a=simulcast alternatives 'h,l' are not supported; list one rid per stream", None),
    line_case("a=rtcp-rsize", "a=rid:x!y send",
              "a=rid id must be 1 to 16 letters, digits, '-' or '_', got 'x!y'", None),
    line_case("m=video 9 UDP/TLS/RTP/SAVPF 96 97 102 103", "m=application 9 UDP/DTLS/SCTP x",
              "media 'application' is not supported (audio and video only)", None),
]


@pytest.mark.parametrize("sdp, message, aiortc_error", PARSER_CASES)
def test_guard_refuses_what_the_parser_chokes_on(sdp, message, aiortc_error):
    with pytest.raises(SdpError) as caught:
        guard(sdp)
    assert str(caught.value) == message
    if aiortc_error is not None:
        with pytest.raises(aiortc_error):
            SessionDescription.parse(sdp)


def test_fmtp_without_rtpmap_is_refused_before_aiortc_raises_stop_iteration():
    sdp, _ = mutate("a=fmtp:97 apt=96", "a=fmtp:55 apt=96")
    with pytest.raises(SdpError, match=r"^m-section 1 \(video\): a=fmtp for payload type 55 "
                                       r"has no a=rtpmap$"):
        guard(sdp)
    with pytest.raises(StopIteration):
        SessionDescription.parse(sdp)


# Offers aiortc parses but then fails on inside setRemoteDescription/createAnswer.
SEMANTIC_CASES = [
    pytest.param(remove_all("a=ice-ufrag"), "m-section 0 (audio): a=ice-ufrag is missing",
                 ValueError, id="no-ufrag"),
    pytest.param(remove_all("a=setup"), "m-section 0 (audio): a=setup is missing",
                 AttributeError, id="no-setup"),
    pytest.param(remove_all("a=sendonly"), "m-section 0 (audio): needs exactly one of "
                 "a=sendrecv, a=sendonly, a=recvonly, a=inactive, found 0",
                 ValueError, id="no-direction"),
    pytest.param(remove_all("a=rtcp-mux"), "m-section 0 (audio): a=rtcp-mux is required",
                 ValueError, id="no-rtcp-mux"),
]


@pytest.mark.parametrize("sdp, message, aiortc_error", SEMANTIC_CASES)
async def test_guard_refuses_what_aiortc_fails_on_later(sdp, message, aiortc_error):
    with pytest.raises(SdpError) as caught:
        guard(sdp)
    assert str(caught.value) == message
    pc = RTCPeerConnection()
    try:
        with pytest.raises(aiortc_error):
            await pc.setRemoteDescription(RTCSessionDescription(sdp, "offer"))
            await pc.setLocalDescription(await pc.createAnswer())
    finally:
        await pc.close()


@pytest.mark.parametrize("sdp, message", [
    (remove_all("a=fingerprint"),
     "m-section 0 (audio): needs an a=fingerprint with sha-256, sha-384 or sha-512"),
    (remove_all("a=group:BUNDLE"), "m-section 0 (audio): mid '0' is not in the BUNDLE group; "
     "CommandPost needs every m-section bundled"),
    (mutate("a=mid:1", "a=mid:0")[0], "m-section 1 (video): mid '0' is used twice"),
    (mutate("a=extmap:14 urn:ietf:params:rtp-hdrext:toffset",
            "a=extmap:2 urn:ietf:params:rtp-hdrext:toffset")[0],
     "a=extmap id 2 names two extensions: "
     "'http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time' and "
     "'urn:ietf:params:rtp-hdrext:toffset'"),
])
def test_guard_requires_what_commandpost_needs(sdp, message):
    with pytest.raises(SdpError) as caught:
        guard(sdp)
    assert str(caught.value) == message


@pytest.mark.parametrize("sdp, message", [
    ("x" * 70000, "offer is more than 65536 bytes, limit is 65536"),
    ("v=0\r\n" + "s=\u4f1a\u8bae" * 11000, "offer is 88005 bytes, limit is 65536"),
    (b"v=0\r\n", "offer must be a string, got bytes"),
    ("", "offer is empty"),
    ("hello world", "offer has no m-sections"),
    ("\x00\x01\x02garbage", "offer contains control character U+0000 at offset 0"),
    ("v=0\rm=audio 9 RTP/AVP 0", "offer contains control character U+000D at offset 3"),
    ("v=0\r\nm=audio 9 RTP/AVP 0\u2028a=mid:0", "offer contains control character "
     "U+2028 at offset 24"),
])
def test_guard_bounds_and_garbage(sdp, message):
    with pytest.raises(SdpError) as caught:
        guard(sdp)
    assert str(caught.value) == message


def test_m_section_bomb_is_refused_by_count_before_parsing():
    section = "m=audio 9 UDP/TLS/RTP/SAVPF 0\r\na=mid:{}\r\n"
    bomb = "v=0\r\n" + "".join(section.format(i) for i in range(500))
    assert len(bomb) < 65536
    with pytest.raises(SdpError) as caught:
        guard(bomb)
    assert str(caught.value) == "offer has 500 m-sections, limit is 16"


def test_chrome_offer_passes_and_is_summarised():
    summary = guard(CHROME_OFFER)
    audio, video = summary.media
    assert (audio.kind, audio.mid, audio.direction, audio.ssrcs) == ("audio", "0", "sendonly", (1001,))
    assert (video.mid, video.ssrcs, video.rtx) == ("1", (2001, 2002), {2001: 2002})
    assert summary.bundle == ("0", "1") and audio.sends and not audio.receives
    codecs = bridge.preflight(CHROME_OFFER)
    assert [c.name for c in codecs["1"]][:2] == ["VP8", "rtx"]
    assert codecs["0"][0].name == "opus"


def test_preflight_refuses_an_m_section_without_a_common_codec():
    sdp = CHROME_OFFER.replace("a=rtpmap:96 VP8/90000", "a=rtpmap:96 VP9/90000").replace(
        "a=rtpmap:102 H264/90000", "a=rtpmap:102 AV1/90000")
    guard(sdp)
    with pytest.raises(SdpError) as caught:
        bridge.preflight(sdp)
    assert str(caught.value) == ("m-section 1 (video): no codec in common "
                                 "(offered: AV1, VP9, rtx)")


def test_answer_must_match_the_offer_and_choose_a_dtls_role():
    answer = CHROME_OFFER.replace("a=setup:actpass", "a=setup:active")
    summary = guard(answer, "answer")
    check_answer_sections([("audio", "0"), ("video", "1")], summary)
    with pytest.raises(SdpError) as caught:
        check_answer_sections([("audio", "0")], summary)
    assert str(caught.value) == ("answer m-sections [audio:0, video:1] do not match "
                                 "the offer's [audio:0]")
    with pytest.raises(SdpError) as caught:
        guard(CHROME_OFFER, "answer")
    assert str(caught.value) == ("m-section 0 (audio): a=setup in an answer must be "
                                 "active or passive, got 'actpass'")


def test_reoffer_must_keep_earlier_m_sections():
    first = guard(CHROME_OFFER)
    swapped = CHROME_OFFER.replace("a=mid:1", "a=mid:7").replace("BUNDLE 0 1", "BUNDLE 0 7")
    with pytest.raises(SdpError) as caught:
        check_same_sections(first, guard(swapped))
    assert str(caught.value) == ("m-section 1 changed from video mid '1' to video mid '7'; "
                                 "m-lines cannot be recycled")
    audio_only = CHROME_OFFER.split("m=video")[0].replace("BUNDLE 0 1", "BUNDLE 0")
    with pytest.raises(SdpError) as caught:
        check_same_sections(first, guard(audio_only))
    assert str(caught.value) == ("offer has 1 m-sections, the previous offer had 2; "
                                 "m-sections cannot be removed")
