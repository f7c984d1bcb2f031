"""Every page speaks Simplified Chinese and English: the browser picks, the switch overrides."""

from __future__ import annotations

from html.parser import HTMLParser
from pathlib import Path

import pytest

from web import STATIC_DIR

PAGES = ["index.html", "join.html", "wall.html", "field.html"]
TEXT_ATTRIBUTES = {"placeholder", "title", "aria-label", "alt"}


@pytest.mark.slow
def test_chinese_browser_gets_chinese_and_the_switch_is_remembered(server, people):
    person = people("李雷", locale="zh-CN")
    page = person.page
    page.goto(server.base_url + "/")
    assert page.get_attribute("html", "lang") == "zh-CN"
    assert page.text_content("h1") == "发起会议"
    assert page.text_content("#create-button") == "创建会议"
    assert page.get_attribute("#room-name", "placeholder") == "例如：早间例会"
    assert page.text_content("#lang-switch") == "English"

    page.click("#lang-switch")
    assert page.text_content("h1") == "Start a meeting"
    assert page.get_attribute("html", "lang") == "en"
    assert page.text_content("#lang-switch") == "中文"
    page.reload()
    assert page.text_content("h1") == "Start a meeting", "the choice was not remembered"

    room = server.create_room("E2E language")
    person.open(room["join_url"])
    assert page.text_content("#prejoin h1") == "Ready to join?", "the choice did not carry to the join page"
    page.click("#lang-switch")
    assert page.text_content("#prejoin h1") == "准备加入会议"
    person.join()
    assert page.text_content("[data-tool=leave] .tool-label") == "离开"
    assert page.text_content("[data-tool=mic] .tool-label") == "静音"
    page.wait_for_function("document.querySelector('#room-status').textContent.includes('人参会')", timeout=5000)
    own = next(t for t in person.tiles() if t["local"])
    assert own["label"] == "李雷（我）"
    page.click("#lang-switch")
    assert page.text_content("[data-tool=leave] .tool-label") == "Leave"
    assert next(t for t in person.tiles() if t["local"])["label"] == "李雷 (you)"


@pytest.mark.slow
def test_english_browser_gets_english(server, people):
    page = people("Ann", locale="en-GB").page
    page.goto(server.base_url + "/")
    assert page.get_attribute("html", "lang") == "en"
    assert page.text_content("h1") == "Start a meeting"


@pytest.mark.slow
def test_catalogs_have_the_same_keys_and_placeholders(server, people):
    page = people("Checker").page
    page.goto(server.base_url + "/")
    problems = page.evaluate("""async () => {
        const en = (await import('/static/i18n/en.js')).default;
        const zh = (await import('/static/i18n/zh-CN.js')).default;
        const vars = (s) => [...s.matchAll(/\\{(\\w+)\\}/g)].map(m => m[1]).sort().join(',');
        const problems = [];
        for (const key of new Set([...Object.keys(en), ...Object.keys(zh)])) {
            if (!(key in en) || !(key in zh)) problems.push(`${key} missing in ${key in en ? 'zh-CN' : 'en'}`);
            else if (!en[key].trim() || !zh[key].trim()) problems.push(`${key} is empty`);
            else if (vars(en[key]) !== vars(zh[key])) problems.push(`${key} placeholders differ`);
        }
        return problems;
    }""")
    assert problems == []


class TextFinder(HTMLParser):
    """Collects literal text and literal text attributes, which would bypass the catalogs."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[str] = []
        self.skip = 0

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "style"):
            self.skip += 1
        for name, value in attrs:
            if name in TEXT_ATTRIBUTES and value:
                self.found.append(f"<{tag} {name}={value!r}>")

    def handle_endtag(self, tag):
        if tag in ("script", "style"):
            self.skip -= 1

    def handle_data(self, data):
        if not self.skip and data.strip():
            self.found.append(data.strip())


@pytest.mark.parametrize("page", PAGES)
def test_pages_have_no_hard_coded_text(page):
    finder = TextFinder()
    finder.feed(Path(STATIC_DIR, page).read_text(encoding="utf-8"))
    assert finder.found == [], "text must come from web/static/i18n catalogs"
