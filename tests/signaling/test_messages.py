"""Message shapes, SDP guard and rate limiting, as units (no network)."""

from __future__ import annotations

import pytest

from signaling import messages
from signaling.errors import SignalingError
from signaling.media import check_sdp, sources_from_sdp
from signaling.ratelimit import AbuseMeter, TokenBucket


def refused(text: str) -> SignalingError:
    with pytest.raises(SignalingError) as info:
        messages.validate(messages.decode(text))
    return info.value


@pytest.mark.parametrize("text, code, words", [
    ("{not json", "bad_json", "not valid JSON"),
    ("[1, 2]", "bad_json", "JSON object"),
    ('"join"', "bad_json", "JSON object"),
    ("{}", "bad_message", "no string 'type'"),
    ('{"type": 5}', "bad_message", "no string 'type'"),
    ('{"type": "dance"}', "bad_message", "unknown message type 'dance'"),
    ('{"type": "join", "name": "x"}', "bad_message", "exactly one of 'token' or 'code'"),
    ('{"type": "join", "code": "a", "token": "b"}', "bad_message", "exactly one"),
    ('{"type": "join", "code": 12345}', "bad_message", "'code' must be a string"),
    ('{"type": "publish"}', "bad_message", "missing field 'sdp'"),
    ('{"type": "publish", "sdp": "v=0", "sources": []}', "bad_message", "must be an object"),
    ('{"type": "publish", "sdp": "v=0", "sources": {"0": "tv"}}', "bad_message", "camera"),
    ('{"type": "mute", "participant_id": "p", "kind": "smell"}', "bad_message", "'audio'"),
    ('{"type": "lock", "locked": "yes"}', "bad_message", "true or false"),
    ('{"type": "ping", "t": true}', "bad_message", "must be a number"),
    ("[" * 100000 + "]" * 100000, "bad_json", "JSON"),
])
def test_bad_messages_get_precise_errors(text: str, code: str, words: str) -> None:
    error = refused(text)
    assert error.code == code
    assert words in error.message


def test_good_messages_keep_known_fields_only() -> None:
    msg = messages.validate(messages.decode(
        '{"type": "join", "code": "abcdefghij", "name": "A", "future": 1}'))
    assert msg == {"type": "join", "code": "abcdefghij", "name": "A"}
    assert messages.validate({"type": "ping"}) == {"type": "ping"}
    assert messages.validate({"type": "state", "audio": False}) == {"type": "state",
                                                                    "audio": False}


def test_sdp_guard() -> None:
    good = "v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\n"
    check_sdp(good, 65536, 16)
    bomb = good + "m=audio 9 UDP/TLS/RTP/SAVPF 111\r\n" * 499
    with pytest.raises(SignalingError, match="offer has 500 m-sections, limit is 16"):
        check_sdp(bomb, 65536, 16)
    with pytest.raises(SignalingError, match="is 70000 bytes, limit is 65536"):
        check_sdp("v=0\r\n" + "a" * 69995, 65536, 16)
    with pytest.raises(SignalingError, match="not SDP"):
        check_sdp("hello", 65536, 16)
    with pytest.raises(SignalingError, match="no m-sections"):
        check_sdp("v=0\r\n", 65536, 16)


def test_whip_sources_follow_media_kinds() -> None:
    sdp = ("v=0\r\nm=audio 9 X 111\r\na=mid:a0\r\nm=video 9 X 96\r\na=mid:v1\r\n"
           "m=video 9 X 96\r\na=mid:v2\r\nm=application 9 X\r\na=mid:d\r\n")
    assert sources_from_sdp(sdp) == {"a0": "microphone", "v1": "camera", "v2": "screen"}


def test_token_bucket_allows_burst_then_rate() -> None:
    now = [0.0]
    bucket = TokenBucket(rate=2, burst=3, clock=lambda: now[0])
    assert [bucket.take() for _ in range(4)] == [True, True, True, False]
    now[0] += 0.5
    assert bucket.take() and not bucket.take()
    now[0] += 10
    assert sum(bucket.take() for _ in range(10)) == 3


def test_abuse_meter_forgets_old_strikes() -> None:
    now = [0.0]
    meter = AbuseMeter(limit=2, window_s=10, clock=lambda: now[0])
    assert not meter.strike() and not meter.strike()
    now[0] = 11
    assert not meter.strike() and not meter.strike()
    assert meter.strike()
