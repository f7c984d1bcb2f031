"""A subscriber whose downlink cannot carry video is told so: the server pauses its video
(audio goes on) and the page shows the notice, in the page's language (Chromium, real
server; the estimate is pinned low through [sfu] bwe_* so the "link" is narrow for sure)."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.slow

NARROW = {"COMMANDPOST_SFU_BWE_START_BPS": "60000", "COMMANDPOST_SFU_BWE_MIN_BPS": "60000",
          "COMMANDPOST_SFU_BWE_MAX_BPS": "60000"}
NOTICE = "#bandwidth-notice"


def received(person, sender: str, kind: str) -> int:
    return sum(r["bytesReceived"] for r in person.inbound()
               if r["participantId"] == sender and r["kind"] == kind)


def test_narrow_downlink_is_audio_only_with_a_notice(redis_url, start_commandpost, people):
    server = start_commandpost(redis_url, NARROW)
    room = server.create_room("E2E bandwidth")
    alice, bob = people("Alice"), people("Bob", locale="zh-CN")
    alice_id = alice.join(room["join_url"])
    bob.join(room["join_url"])
    bob.wait_until(f"!document.querySelector('{NOTICE}').hidden", "the bandwidth notice", 15)
    assert bob.js(f"document.querySelector('{NOTICE}').textContent") == \
        "网络带宽不足，视频已暂停，语音继续。"
    assert bob.js("commandpost.bandwidth") == {"estimateBps": 60000,
                                                       "videoPaused": True}
    audio = received(bob, alice_id, "audio")
    bob.wait_for(lambda: received(bob, alice_id, "audio") > audio + 5_000, "audio goes on", 10)
    video = received(bob, alice_id, "video")
    bob.page.wait_for_timeout(1500)
    assert received(bob, alice_id, "video") - video < 3_000, "video flows on a narrow link"
    # Alice's own downlink is just as narrow; her page says it in English.
    alice.wait_until(f"!document.querySelector('{NOTICE}').hidden", "Alice's notice", 10)
    assert alice.js(f"document.querySelector('{NOTICE}').textContent") == \
        "Video paused: your connection is too slow. Audio continues."
