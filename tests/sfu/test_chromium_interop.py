"""Real Chromium peers through RoomMedia: page.evaluate is the signalling channel.

Checks what only a browser can tell: that it accepts our answers and offers, decodes
the forwarded VP8 and opus, and sees our RTCP (its remote-outbound stats come from our
sender reports, its remote-inbound stats from our receiver reports).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest
from playwright.async_api import Browser, Page, async_playwright

CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
    "--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream",
    "--allow-loopback-in-peer-connection", "--disable-features=WebRtcHideLocalIpsWithMdns",
    "--autoplay-policy=no-user-gesture-required",
]

GATHER = """
async function gathered(pc) {
  if (pc.iceGatheringState !== 'complete') {
    await new Promise(r => pc.addEventListener('icegatheringstatechange',
      () => pc.iceGatheringState === 'complete' && r()));
  }
  return pc.localDescription.sdp;
}
"""

PUBLISH = GATHER + """
const stream = await navigator.mediaDevices.getUserMedia(
  {audio: true, video: {width: 320, height: 240, frameRate: 15}});
const pc = new RTCPeerConnection();
window.pc = pc;
for (const track of stream.getTracks()) {
  pc.addTransceiver(track, {direction: 'sendonly', streams: [stream]});
}
await pc.setLocalDescription();
const sdp = await gathered(pc);
return {sdp, sources: Object.fromEntries(pc.getTransceivers().map(
  t => [t.mid, t.sender.track.kind === 'audio' ? 'microphone' : 'camera']))};
"""

SUBSCRIBE = GATHER + """
if (!window.pc) {
  window.pc = new RTCPeerConnection();
  // Chromium decodes remote audio only while something plays it.
  window.pc.ontrack = (event) => {
    const element = document.createElement(event.track.kind);
    element.srcObject = new MediaStream([event.track]);
    element.autoplay = true;
    document.body.appendChild(element);
  };
}
await window.pc.setRemoteDescription({type: 'offer', sdp: offer});
await window.pc.setLocalDescription();
return await gathered(window.pc);
"""

STATS = """async () => {
  const out = [];
  (await window.pc.getStats()).forEach(s => out.push(s));
  return out;
}"""


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    async with async_playwright() as playwright:
        chromium = await playwright.chromium.launch(executable_path="/usr/bin/chromium",
                                                    args=CHROMIUM_ARGS)
        yield chromium
        await chromium.close()


async def secure_page(browser: Browser) -> Page:
    """A page on http://localhost (a secure context, so getUserMedia exists), served by
    Playwright's router: no web server involved."""
    page = await (await browser.new_context()).new_page()
    await page.route("http://localhost/", lambda route: route.fulfill(
        body="<!doctype html><title>sfu</title>", content_type="text/html"))
    await page.goto("http://localhost/")
    return page


async def run(page: Page, body: str, **args: Any) -> Any:
    names = ", ".join(args)
    return await page.evaluate(f"async ({{{names}}}) => {{ {body} }}", args)


async def stats(page: Page, type_: str, kind: str) -> list[dict[str, Any]]:
    return [s for s in await page.evaluate(STATS) if s["type"] == type_ and s.get("kind") == kind]


async def poll(page: Page, check, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not await check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}: {await page.evaluate(STATS)}")
        await asyncio.sleep(0.25)


async def test_chromium_to_chromium_through_the_sfu(room, browser):
    alice = await secure_page(browser)
    bob = await secure_page(browser)
    published = await run(alice, PUBLISH)
    answer = await room.publish("p_alice", "Alice", published["sdp"], published["sources"])
    await alice.evaluate("sdp => window.pc.setRemoteDescription({type: 'answer', sdp})", answer)
    assert sorted(t.kind for t in room.tracks()) == ["audio", "video"]
    offer = await room.subscribe_offer("p_bob")
    await room.subscribe_answer("p_bob", await run(bob, SUBSCRIBE, offer=offer.sdp))

    async def decoding() -> bool:
        video = await stats(bob, "inbound-rtp", "video")
        audio = await stats(bob, "inbound-rtp", "audio")
        return (bool(video) and video[0].get("framesDecoded", 0) > 30
                and bool(audio) and audio[0].get("totalAudioEnergy", 0) > 0)

    await poll(bob, decoding, 15, "Bob to decode Alice's video and audio")

    async def reports() -> bool:
        seen = {(s["type"], s.get("kind")) for s in await bob.evaluate(STATS)}
        up = {(s["type"], s.get("kind")) for s in await alice.evaluate(STATS)}
        return ({("remote-outbound-rtp", "video"), ("remote-outbound-rtp", "audio")} <= seen
                and ("remote-inbound-rtp", "video") in up)

    await poll(bob, reports, 10, "sender reports at Bob and receiver reports at Alice")
    [video] = await stats(bob, "inbound-rtp", "video")
    assert video["frameWidth"] == 320 and video.get("packetsLost", 0) == 0
    [inbound] = await stats(alice, "remote-inbound-rtp", "video")
    assert inbound.get("packetsLost", 0) == 0 and "roundTripTime" in inbound


async def publish_from(page: Page, room, pid: str) -> None:
    published = await run(page, PUBLISH)
    answer = await room.publish(pid, pid, published["sdp"], published["sources"])
    await page.evaluate("sdp => window.pc.setRemoteDescription({type: 'answer', sdp})", answer)


async def resubscribe(page: Page, room, pid: str):
    offer = await room.subscribe_offer(pid)
    await room.subscribe_answer(pid, await run(page, SUBSCRIBE, offer=offer.sdp))
    return offer


async def test_chromium_keeps_decoding_when_its_transceiver_changes_publisher(room, browser):
    """Alice leaves, Carol arrives: Bob's idle video transceiver is reused, and his
    Chromium decodes Carol's frames on the same SSRC (continuous sequence numbers and
    VP8 picture ids)."""
    alice, bob, carol = [await secure_page(browser) for _ in range(3)]
    await publish_from(alice, room, "p_alice")
    offer = await resubscribe(bob, room, "p_bob")
    video_mid = next(mid for mid, t in offer.tracks.items() if t.kind == "video")

    async def decoded() -> int:
        video = await stats(bob, "inbound-rtp", "video")
        return video[0].get("framesDecoded", 0) if video else 0

    async def at_least(n: int) -> bool:
        return await decoded() >= n

    await poll(bob, lambda: at_least(20), 15, "Alice's frames")
    await room.remove_participant("p_alice")
    assert (await resubscribe(bob, room, "p_bob")).tracks == {}
    await asyncio.sleep(0.5)
    before = await decoded()
    await publish_from(carol, room, "p_carol")
    offer = await resubscribe(bob, room, "p_bob")
    assert offer.tracks[video_mid].participant_id == "p_carol"
    await poll(bob, lambda: at_least(before + 30), 15, "Carol's frames on the same transceiver")
    [video] = await stats(bob, "inbound-rtp", "video")
    assert video["keyFramesDecoded"] >= 2 and video.get("packetsLost", 0) == 0
