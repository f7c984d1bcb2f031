"""Feed registration bodies: which URLs may be pulled (a security boundary) and exact errors."""

from __future__ import annotations

import pytest

from signaling.errors import SignalingError
from signaling.feed_spec import check_rtsp_url, parse_feed_request, redact_url

GOOD_URLS = [
    "rtsp://192.0.2.10:554/stream1",
    "RTSP://camera.local/h264?channel=1&subtype=0",
    "rtsps://gate-cam.example.org:322/live",
    "rtsp://admin:p%40ss@192.0.2.10/Streaming/Channels/101",
    "rtsp://[2001:db8::7]:8554/cam",
]


@pytest.mark.parametrize("url", GOOD_URLS)
def test_rtsp_urls_that_pass(url: str) -> None:
    assert check_rtsp_url(url) == url


BAD_URLS = [
    ("file:///etc/passwd", "url scheme 'file' is not allowed"),
    ("http://192.0.2.10/stream.mjpg", "url scheme 'http' is not allowed"),
    ("concat:rtsp://a/x|file:///etc/passwd", "url scheme 'concat' is not allowed"),
    ("subfile,,start,0,end,0,,:rtsp://a/", "url scheme 'subfile,,start,0,end,0,,' is not"),
    ("crypto+rtsp://a/", "url scheme 'crypto+rtsp' is not allowed"),
    ("rtsp:/etc/passwd", "url scheme 'rtsp' is not allowed"),
    ("/etc/passwd", "url scheme '/etc/passwd' is not allowed"),
    ("rtsp://cam/a b", "url contains characters"),
    ("rtsp://cam/a|file:/etc/passwd", "url contains characters"),
    ("rtsp://cam/\x00", "url contains characters"),
    ("rtsp://kamera/通道1", "url contains characters"),
    ("rtsp:///stream", "url has no host"),
    ("rtsp://user@/stream", "url has no host"),
    ("rtsp://cam:99999/x", "url is malformed: Port out of range 0-65535"),
    ("rtsp://cam:0/x", "url port must be 1-65535"),
    ("rtsp://cam/x#frag", "url must not have a #fragment"),
    ("rtsp://ca_m/x", "url host 'ca_m' is not a valid host"),
    ("rtsp://[zz::1]/x", "url is malformed: 'zz::1' does not appear to be an IPv4 or IPv6"),
    ("rtsp://" + "a" * 2050, "url is longer than 2048 characters"),
    ("", "an rtsp feed needs url"),
    (None, "an rtsp feed needs url"),
    (42, "an rtsp feed needs url"),
]


@pytest.mark.parametrize(("url", "message"), BAD_URLS)
def test_rtsp_urls_refused_with_a_precise_message(url: object, message: str) -> None:
    with pytest.raises(SignalingError) as info:
        check_rtsp_url(url)
    assert info.value.code == "bad_request"
    assert info.value.message.startswith(message), info.value.message


def test_request_bodies() -> None:
    feed = parse_feed_request({"kind": "rtsp", "url": GOOD_URLS[0], "name": "  Gate   camera ",
                               "location": {"lat": 31.23, "lon": 121.47}})
    assert (feed.kind, feed.name, feed.url) == ("rtsp", "Gate camera", GOOD_URLS[0])
    assert feed.location is not None and feed.location.to_json() == {"lat": 31.23, "lon": 121.47}
    assert parse_feed_request({"kind": "rtmp"}).name == "RTMP feed"
    assert parse_feed_request({"kind": "whip", "name": "无人机 7"}).name == "无人机 7"
    refused = [
        ({}, "kind must be one of rtsp, rtmp, whip, got None"),
        ({"kind": "hls"}, "kind must be one of rtsp, rtmp, whip, got 'hls'"),
        ({"kind": "rtmp", "url": "rtmp://x/y"}, "a rtmp feed takes no url"),
        ({"kind": "whip", "name": 7}, "name must be a string"),
        ({"kind": "whip", "name": "x" * 201}, "name is longer than 200 characters"),
        ({"kind": "whip", "location": [1, 2]}, "location must be an object"),
        ({"kind": "whip", "location": {"lat": 91, "lon": 0}}, "location.lat must be a number"),
        ({"kind": "whip", "location": {"lat": 0, "lon": "E"}}, "location.lon must be a number"),
        ({"kind": "whip", "location": {"lat": True, "lon": 0}}, "location.lat must be a number"),
    ]
    for body, message in refused:
        with pytest.raises(SignalingError) as info:
            parse_feed_request(body)
        assert info.value.message.startswith(message), (body, info.value.message)


def test_passwords_are_redacted_for_display() -> None:
    assert redact_url("rtsp://admin:secret@192.0.2.10:554/s") == "rtsp://admin:***@192.0.2.10:554/s"
    assert redact_url("rtsp://192.0.2.10/s") == "rtsp://192.0.2.10/s"
    assert redact_url("rtsp://viewer@cam/s") == "rtsp://viewer@cam/s"
