"""Simulcast offers: a real Chromium offer is accepted and answered so that Chromium sends
its layers; anything we cannot receive is refused with a precise message."""

from __future__ import annotations

import pytest

from sdp_samples import CHROME_OFFER, CHROMIUM_SIMULCAST_OFFER, mutate
from sfu import SdpError
from sfu.sdp_guard import check_sdp
from sfu.sdp_simulcast import answer_with_rids

LIMITS = {"max_bytes": 65536, "max_m_sections": 16}


def guard(sdp: str, what: str = "offer"):
    return check_sdp(sdp, what=what, **LIMITS)


def simulcast_offer(old: str, new: str | None) -> str:
    return mutate(old, new, CHROMIUM_SIMULCAST_OFFER)[0]


def test_chromium_simulcast_offer_is_summarised_with_its_rids():
    audio, video = guard(CHROMIUM_SIMULCAST_OFFER).media
    assert (video.kind, video.rids, video.ssrcs, video.simulcast) == ("video", ("q", "h", "f"), (), True)
    assert audio.rids == () and not audio.simulcast


def test_rid_restrictions_give_a_first_size():
    sdp = CHROMIUM_SIMULCAST_OFFER.replace("a=rid:h send", "a=rid:h send max-width=640;max-height=360")
    video = guard(sdp).media[1]
    assert video.rid_sizes == {"h": (640, 360)}


def test_legacy_sim_group_gives_layers_by_ssrc():
    sdp = CHROME_OFFER.replace("a=ssrc-group:FID 2001 2002",
                               "a=ssrc-group:SIM 2001 2003\r\na=ssrc-group:FID 2001 2002\r\n"
                               "a=ssrc-group:FID 2003 2004")
    video = guard(sdp).media[1]
    assert video.sim_ssrcs == (2001, 2003) and video.rtx == {2001: 2002, 2003: 2004}


BAD = [
    pytest.param("a=simulcast:send q;h;f", "a=simulcast:send q;h;f;x",
                 "m-section 1 (video): a=simulcast lists 4 streams, limit is 3", id="four"),
    pytest.param("a=simulcast:send q;h;f", "a=simulcast:send q;h;z",
                 "m-section 1 (video): a=simulcast rid 'z' has no 'a=rid:z send' line", id="undeclared"),
    pytest.param("a=simulcast:send q;h;f", "a=simulcast:send q;h;q",
                 "m-section 1 (video): a=simulcast lists a rid twice", id="twice"),
    pytest.param("a=rid:h send", "a=rid:q send",
                 "m-section 1 (video): a=rid 'q' is declared twice", id="declared-twice"),
    pytest.param("a=rid:f send", "a=rid:f recv",
                 "m-section 1 (video): a=rid:f recv: receiving simulcast is not supported", id="recv-rid"),
    pytest.param("a=simulcast:send q;h;f", "a=simulcast:send q;h;f recv f",
                 "m-section 1 (video): receiving simulcast (a=simulcast:recv) is not supported",
                 id="recv"),
    pytest.param("a=simulcast:send q;h;f", None,
                 "m-section 1 (video): 3 a=rid lines without a=simulcast", id="no-simulcast"),
    pytest.param("a=simulcast:send q;h;f", "a=simulcast:send",
                 "line 170: a=simulcast must be 'send|recv <rid>;<rid>... [send|recv <rid>;...]', "
                 "got 'send'", id="no-list"),
    pytest.param("a=rid:q send", "a=rid:q",
                 "line 167: a=rid must be '<id> send|recv [<restriction>;...]', got 'q'", id="rid-form"),
    pytest.param("a=rid:q send", "a=rid:q send max-width=<320>",
                 "line 167: a=rid restriction must be '<name>[=<value>]', got 'max-width=<320>'",
                 id="restriction"),
    pytest.param("a=rid:q send", "a=rid:abcdefghijklmnopq send",
                 "line 167: a=rid id must be 1 to 16 letters, digits, '-' or '_', "
                 "got 'abcdefghijklmnopq'", id="long-rid"),
]


@pytest.mark.parametrize("old, new, message", BAD)
def test_simulcast_we_cannot_receive_is_refused(old, new, message):
    with pytest.raises(SdpError) as caught:
        guard(simulcast_offer(old, new))
    assert str(caught.value) == message


def test_simulcast_without_the_rid_or_mid_extension_is_refused():
    for uri in ("sdes:rtp-stream-id", "sdes:mid"):
        sdp = CHROMIUM_SIMULCAST_OFFER.replace(f"urn:ietf:params:rtp-hdrext:{uri}\r\n",
                                               "urn:example:nothing\r\n")
        with pytest.raises(SdpError) as caught:
            guard(sdp)
        assert str(caught.value) == (f"m-section 1 (video): simulcast needs the "
                                     f"urn:ietf:params:rtp-hdrext:{uri} header extension (a=extmap)")


def test_simulcast_on_audio_or_in_an_answer_is_refused():
    audio = CHROMIUM_SIMULCAST_OFFER.replace("a=rtcp-xr:rcvr-rtt=all", "a=rid:a send", 1)
    with pytest.raises(SdpError, match=r"^m-section 0 \(audio\): simulcast is only supported "
                                       r"for video$"):
        guard(audio)
    answer = CHROMIUM_SIMULCAST_OFFER.replace("a=setup:actpass", "a=setup:active")
    with pytest.raises(SdpError, match=r"^m-section 1 \(video\): simulcast in an answer is "
                                       r"not supported"):
        guard(answer, "answer")


def test_sim_group_bounds():
    four = CHROME_OFFER.replace("a=ssrc-group:FID 2001 2002", "a=ssrc-group:SIM 1 2 3 4")
    with pytest.raises(SdpError, match="a=ssrc-group:SIM lists 4 streams, limit is 3$"):
        guard(four)
    mixed = CHROMIUM_SIMULCAST_OFFER.replace("a=rid:q send", "a=ssrc-group:SIM 1 2\r\na=rid:q send")
    with pytest.raises(SdpError, match="a=ssrc-group:SIM together with a=simulcast/a=rid$"):
        guard(mixed)


def test_answer_gets_rid_and_simulcast_lines_in_the_right_m_section():
    answer = "v=0\r\nm=audio 9 X 111\r\na=mid:0\r\nm=video 9 X 96\r\na=mid:1\r\na=sendrecv\r\n"
    patched = answer_with_rids(answer, {"1": ("q", "h", "f")})
    assert patched == ("v=0\r\nm=audio 9 X 111\r\na=mid:0\r\nm=video 9 X 96\r\na=mid:1\r\n"
                       "a=sendrecv\r\na=rid:q recv\r\na=rid:h recv\r\na=rid:f recv\r\n"
                       "a=simulcast:recv q;h;f\r\n")
    first = answer_with_rids(answer, {"0": ("a",)})
    assert "a=mid:0\r\na=rid:a recv\r\na=simulcast:recv a\r\nm=video" in first
    assert answer_with_rids(answer, {}) == answer
