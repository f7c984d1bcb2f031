"""Headless Chromium participants for end-to-end tests.

One Chromium (Debian's /usr/bin/chromium, never a Playwright download) serves the whole
session; every participant is its own browser context, so each has its own fake camera,
microphone, storage and cookies. Waits are bounded polls that fail with what the page saw.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, Playwright, sync_playwright

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--use-fake-device-for-media-stream",
    "--use-fake-ui-for-media-stream",
    "--allow-loopback-in-peer-connection",
    "--autoplay-policy=no-user-gesture-required",
    # Without media permission Chromium offers only mDNS names (x.local) and no loopback
    # candidate; the server's only address is 127.0.0.1 and aiortc would have to resolve the
    # names by multicast. --use-fake-ui-for-media-stream happens to lift the hiding too (seen
    # with Chromium 156); this flag makes it explicit for every page.
    "--disable-features=WebRtcHideLocalIpsWithMdns",
]
REPO = Path(__file__).resolve().parents[2]
ARTIFACTS = Path(os.environ.get("COMMANDPOST_ARTIFACTS", REPO / "test-artifacts")) / "e2e"
DESKTOP = {"width": 1280, "height": 720}
PHONE = {"width": 390, "height": 844}


class Participant:
    """One person in a browser context: opens pages, joins, and reads window.commandpost."""

    def __init__(self, name: str, context: BrowserContext, page: Page) -> None:
        self.name = name
        self.context = context
        self.page = page
        self.console: list[str] = []
        page.on("console", lambda msg: self.console.append(f"{msg.type}: {msg.text}"))
        page.on("pageerror", lambda err: self.console.append(f"pageerror: {err}"))

    def open(self, url: str) -> None:
        self.page.goto(url)
        self.page.wait_for_selector("#prejoin-form[data-ready=true]", state="attached", timeout=10_000)

    def join(self, url: str | None = None, timeout_s: float = 15) -> str:
        """Enter the name, press join, wait for `joined`; returns the participant id."""
        if url is not None:
            self.open(url)
        self.page.fill("#name", self.name)
        self.page.click("#join-button")
        self.wait_until("commandpost.state === 'joined' ? commandpost.participantId : null",
                        f"{self.name} joined", timeout_s)
        return self.participant_id

    @property
    def participant_id(self) -> str:
        return self.page.evaluate("commandpost.participantId")

    def js(self, expression: str, arg: Any = None) -> Any:
        """Evaluate an expression or (async) function in the page."""
        return self.page.evaluate(expression, arg)

    def inbound(self) -> list[dict[str, Any]]:
        return self.page.evaluate("commandpost.inbound()")

    def media_by_sender(self) -> dict[str, dict[str, float]]:
        """Per remote participant, from the subscribe connection's getStats: camera frames
        decoded, screen frames decoded and total audio energy received."""
        totals: dict[str, dict[str, float]] = {}
        for row in self.inbound():
            if row["participantId"] is None:
                continue
            entry = totals.setdefault(row["participantId"], {"frames": 0, "screen_frames": 0, "energy": 0.0})
            if row["kind"] == "video":
                entry["screen_frames" if row["source"] == "screen" else "frames"] += row["framesDecoded"]
            else:
                entry["energy"] += row["totalAudioEnergy"]
        return totals

    def tiles(self) -> list[dict[str, Any]]:
        return self.page.evaluate("commandpost.tiles()")

    def wait_until(self, expression: str, what: str, timeout_s: float = 10, arg: Any = None,
                   interval_s: float = 0.1) -> Any:
        """Poll until the expression is truthy; fail saying what we waited for and what was seen."""
        deadline = time.monotonic() + timeout_s
        value = None
        while time.monotonic() < deadline:
            value = self.page.evaluate(expression, arg)
            if value:
                return value
            time.sleep(interval_s)
        raise AssertionError(f"{self.name}: {what} not within {timeout_s} s; last value {value!r}; "
                             f"page state: {self.debug_state()}")

    def wait_for(self, check: Callable[[], Any], what: str, timeout_s: float = 10,
                 interval_s: float = 0.2) -> Any:
        """Poll a Python check (which may read the page) until truthy."""
        deadline = time.monotonic() + timeout_s
        value = None
        while time.monotonic() < deadline:
            value = check()
            if value:
                return value
            time.sleep(interval_s)
        raise AssertionError(f"{self.name}: {what} not within {timeout_s} s; last value {value!r}; "
                             f"page state: {self.debug_state()}")

    def debug_state(self) -> str:
        try:
            state = self.page.evaluate("""async () => window.commandpost ? {
                state: commandpost.state, id: commandpost.participantId, tiles: commandpost.tiles(),
                inbound: await commandpost.inbound(), toasts: commandpost.toasts(),
                pub: commandpost.publishPc && commandpost.publishPc.connectionState,
                sub: commandpost.subscribePc && commandpost.subscribePc.connectionState,
                metrics: commandpost.metrics } : 'no window.commandpost'""")
        except Exception as err:  # the page may be gone; say so instead of hiding the real failure
            return f"<unavailable: {err}>"
        return json.dumps(state, ensure_ascii=False)[:4000]


@pytest.fixture(scope="session")
def pw() -> Iterator[Playwright]:
    with sync_playwright() as pw:
        yield pw


@pytest.fixture(scope="session")
def browser(pw: Playwright) -> Iterator[Browser]:
    if not os.path.exists(CHROMIUM):
        raise RuntimeError(f"{CHROMIUM} not found: run `make test`, which installs Debian's chromium")
    browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
    yield browser
    browser.close()


@pytest.fixture
def artifacts(request: pytest.FixtureRequest) -> Path:
    path = ARTIFACTS / request.node.name
    path.mkdir(parents=True, exist_ok=True)
    return path


@pytest.fixture
def people(browser: Browser, request: pytest.FixtureRequest, artifacts: Path) -> Iterator[Callable[..., Participant]]:
    """Factory: people(name, locale="en-US", viewport=DESKTOP, grant=(), **context_options)
    -> Participant; camera and microphone are always granted, `grant` adds permissions."""
    made: list[Participant] = []

    def make(name: str, locale: str = "en-US", viewport: dict[str, int] | None = None,
             grant: tuple[str, ...] = (), **options: Any) -> Participant:
        context = browser.new_context(locale=locale, viewport=viewport or DESKTOP,
                                      permissions=["camera", "microphone", *grant], **options)
        person = Participant(name, context, context.new_page())
        made.append(person)
        return person

    yield make
    report = getattr(request.node, "rep_call", None)
    for index, person in enumerate(made):
        if report is not None and report.failed:
            save_failure(person, artifacts / f"{index}-{person.name}")
        person.context.close()


def save_failure(person: Participant, stem: Path) -> None:
    try:
        person.page.screenshot(path=f"{stem}.png")
    except Exception:  # a closed page has no screenshot; the console log is still useful
        pass
    stem.with_suffix(".log").write_text("\n".join(person.console) + "\n\n" + person.debug_state() + "\n")


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]):
    report = yield
    setattr(item, f"rep_{report.when}", report)
    return report
