"""A phone-sized screen (390x844) holds the lobby and the meeting without sideways scrolling."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.slow

PHONE = {"width": 390, "height": 844}
MIN_TOUCH_PX = 44

LAYOUT_PROBLEMS = """(minTouch) => {
    const width = window.innerWidth;
    const problems = [];
    if (document.documentElement.scrollWidth > width) problems.push(`page is ${document.documentElement.scrollWidth}px wide`);
    for (const el of document.querySelectorAll('button, select, input, .tile')) {
        if (!el.offsetParent) continue;  // hidden
        const box = el.getBoundingClientRect();
        const label = el.dataset.tool || el.id || el.className;
        if (box.left < -0.5 || box.right > width + 0.5) problems.push(`${label} spans ${box.left}..${box.right}`);
        if (el.matches('button, select, input') && box.height < minTouch) problems.push(`${label} is ${box.height}px tall`);
    }
    return problems;
}"""


def test_phone_sized_meeting_fits_the_screen(server, people, artifacts):
    room = server.create_room("E2E phone")
    desk = people("Desk")
    desk_id = desk.join(room["join_url"])
    phone = people("Phone", viewport=PHONE, is_mobile=True, has_touch=True)
    phone.open(room["join_url"])
    assert phone.js(LAYOUT_PROBLEMS, MIN_TOUCH_PX) == [], "lobby does not fit a phone"
    phone.join()
    phone.wait_for(lambda: phone.media_by_sender().get(desk_id, {}).get("frames", 0) > 0, "the other camera", 20)
    phone.wait_until("commandpost.tiles().filter(t => t.videoWidth > 0).length >= 2", "two tiles showing video", 10)
    assert phone.js(LAYOUT_PROBLEMS, MIN_TOUCH_PX) == [], "meeting does not fit a phone"
    toolbar = phone.page.locator("#toolbar").bounding_box()
    assert toolbar["y"] + toolbar["height"] <= PHONE["height"] + 0.5, "toolbar is below the screen"
    phone.page.screenshot(path=str(artifacts / "phone.png"))
