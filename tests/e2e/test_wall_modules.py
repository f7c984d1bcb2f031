"""The wall's pure modules (wall-layout.js, wall-geo.js) run in Chromium: slot arrangement
with pins, moves and spotlight; map projection, fitting, scale bar and tile coverage. Plus
the wall opened with a token (hidden, 4K screen) and in Chinese."""

from __future__ import annotations

import math
import time

import pytest
from wall_helpers import Sources

pytestmark = pytest.mark.slow


@pytest.fixture
def page(server, people):
    page = people("Modules").page
    page.goto(server.base_url + "/static/favicon.svg")
    return page


def run(page, module: str, body: str):
    return page.evaluate(f"""async () => {{
        const m = await import('/static/js/{module}');
        {body}
    }}""")


def test_layout_arrangement_pins_moves_and_spotlight(page):
    result = run(page, "wall-layout.js", """
        const keys = ['a:camera', 'b:camera', 'c:camera', 'd:camera', 'e:camera', 'f:feed'];
        const out = {};
        const l = new m.WallLayout({tiles: 4});
        l.learn(keys);
        out.initial = l.arrange(keys);
        l.togglePin('c:camera', keys);                      // pinned at slot 2
        out.pins = {...l.pins};
        out.afterLeave = l.arrange(keys.filter(k => k !== 'a:camera'));
        out.moved = l.move('d:camera', -1, keys) && l.arrange(keys);
        out.dropEmpty = new m.WallLayout({tiles: 4, pins: {'x:camera': 3}}).arrange(['x:camera', 'y:camera']);
        l.setSpotlight('e:camera');
        out.spot = l.spotlightView(keys);
        out.spotAbsent = l.spotlightView(keys.filter(k => k !== 'e:camera'));
        out.json = JSON.stringify(m.WallLayout.fromJSON(JSON.parse(JSON.stringify(l.toJSON()))).toJSON()) === JSON.stringify(l.toJSON());
        out.sanitised = new m.WallLayout({tiles: 5, order: ['ok:camera', 'bad key'], pins: {'ok:camera': 99}, spotlight: 7}).toJSON();
        const many = new m.WallLayout();
        many.learn(Array.from({length: 70}, (_, i) => `p${i}:camera`));
        out.remembered = many.order.length;
        return out;""")
    assert result["initial"] == ["a:camera", "b:camera", "c:camera", "d:camera", "e:camera", "f:feed"]
    assert result["pins"] == {"c:camera": 2}
    assert result["afterLeave"] == ["b:camera", "d:camera", "c:camera", "e:camera", "f:feed"]
    assert result["moved"] == ["a:camera", "d:camera", "c:camera", "b:camera", "e:camera", "f:feed"], "d steps over the pinned c"
    assert result["dropEmpty"] == ["y:camera", None, None, "x:camera"]
    assert result["spot"] == {"main": "e:camera", "strip": ["a:camera", "d:camera", "c:camera"]}
    assert result["spotAbsent"] is None and result["json"] is True
    assert result["sanitised"] == {"tiles": 4, "order": ["ok:camera"], "pins": {}, "spotlight": None,
                                   "map": True}
    assert result["remembered"] == 64


def test_geo_projection_fit_scale_and_tiles(page):
    result = run(page, "wall-geo.js", """
        const out = {};
        out.origin = m.project(0, 0, 0);
        out.corner = m.project(85.05112878, -180, 1);
        const back = m.unproject(...Object.values(m.project(31.2304, 121.4737, 15)), 15);
        out.back = [back.lat, back.lon];
        out.mpp = m.metresPerPixel(0, 0);
        out.nice = [m.niceDistance(0.7), m.niceDistance(37), m.niceDistance(180), m.niceDistance(4999)];
        out.text = [m.distanceText(500), m.distanceText(2000), m.distanceText(1500)];
        out.bar = m.scaleBar(31.23, 15, 120);
        const pad = {left: 0, right: 0, top: 0, bottom: 0};
        const pts = [{lat: 31.2304, lon: 121.4737}, {lat: 31.2400, lon: 121.4900}];
        out.fit = m.fitView(pts, 800, 600, {pad});
        out.fitInt = m.fitView(pts, 800, 600, {pad, integer: true}).zoom;
        out.single = m.fitView([pts[0]], 800, 600, {maxZoom: 12}).zoom;
        out.none = m.fitView([], 800, 600);
        const ends = pts.map(p => m.project(p.lat, p.lon, out.fit.zoom));
        out.spanX = Math.abs(ends[1].x - ends[0].x);
        out.spanY = Math.abs(ends[1].y - ends[0].y);
        out.grid = [m.gridStep(0.02), m.gridStep(360), m.stepDecimals(0.005), m.stepDecimals(5)];
        out.format = [m.formatLatLon(31.2304, 121.4737), m.formatLatLon(-33.8688, -70.6693, 2)];
        out.tiles = m.tilesFor({lat: 0, lon: 0}, 1, 512, 512).map(t => [t.z, t.x, t.y, t.left, t.top]);
        out.wrap = m.tilesFor({lat: 0, lon: 179.9}, 2, 256, 256).map(t => t.x);
        out.url = m.tileUrl('http://t/{z}/{x}/{y}.png', {z: 3, x: 4, y: 5});
        return out;""")
    assert result["origin"] == {"x": 128, "y": 128}
    assert result["corner"]["x"] == 0 and abs(result["corner"]["y"]) < 1e-6
    assert result["back"][0] == pytest.approx(31.2304, abs=1e-9)
    assert result["back"][1] == pytest.approx(121.4737, abs=1e-9)
    assert result["mpp"] == pytest.approx(156543.03, rel=1e-6)
    assert result["nice"] == [0.5, 20, 100, 2000]
    assert result["text"] == ["500 m", "2 km", "1.5 km"]
    bar = result["bar"]
    assert bar["px"] <= 120 and bar["metres"] == bar["metres"] and bar["text"].endswith("m")
    assert bar["metres"] / bar["px"] == pytest.approx(
        2 * math.pi * 6378137 * math.cos(math.radians(31.23)) / (256 * 2 ** 15), rel=0.01)
    # Fitted exactly: the wider side of the points' box fills the panel.
    assert max(result["spanX"] / 800, result["spanY"] / 600) == pytest.approx(1, rel=1e-6)
    assert result["fitInt"] == math.floor(result["fit"]["zoom"])
    assert result["single"] == 12 and result["none"]["zoom"] == 1
    assert result["grid"] == [0.005, 100, 3, 0]
    assert result["format"] == ["31.23040°N 121.47370°E", "33.87°S 70.67°W"]
    assert sorted(result["tiles"]) == [[1, 0, 0, 0, 0], [1, 0, 1, 0, 256], [1, 1, 0, 256, 0],
                                       [1, 1, 1, 256, 256]]
    assert sorted(set(result["wrap"])) == [0, 3], "tiles wrap around the antimeridian"
    assert result["url"] == "http://t/3/4/5.png"


def test_wall_with_a_hidden_token_on_a_4k_screen_in_chinese(server, people):
    room = server.create_room("E2E wall token")
    sources = Sources(server, room)
    try:
        sources.add("无人机 1")
        desk = people("Desk")
        desk.join(room["join_url"])
        token = server.mint_token(room["room_id"], "operator-7", ["join", "subscribe", "hidden"])
        wall = people("Wall", locale="zh-CN", viewport={"width": 3840, "height": 2160})
        wall.page.goto(f"{server.base_url}/wall#token={token}")
        wall.wait_until("window.commandpost && commandpost.state === 'joined' && commandpost.layoutSource()", "wall joined", 15)
        assert "token" not in wall.page.url, "the token stays out of the address bar"
        tile = wall.wait_for(lambda: next((t for t in wall.tiles() if t["name"] == "无人机 1"
                                           and t["state"] == "live"), None), "drone live", 15)
        assert "直播中" in tile["label"] and "秒前的画面" in tile["label"]
        assert tile["width"] > 1200, "a 2x2 tile on a 4K wall is large"
        assert wall.page.text_content(".wall-title") == "指挥大屏"
        # Hidden: the meeting does not list the wall.
        time.sleep(1)
        assert all(t["participantId"] != wall.js("commandpost.participantId") for t in desk.tiles())
        assert wall.js("commandpost.layoutSource()") == "default"
        wall.page.keyboard.press("1")
        wall.wait_until("commandpost.layoutSaves().saves > 0", "layout saved with the token")
        wall.page.click("#lang-switch")
        assert "Live" in next(t for t in wall.tiles() if t["name"] == "无人机 1")["label"]
    finally:
        sources.close()


def test_the_operator_names_themself_once_and_a_bad_link_says_so(server, people):
    room = server.create_room("E2E wall start")
    wall = people("Wall", viewport={"width": 1920, "height": 1080})
    wall.page.goto(f"{server.base_url}/wall/{room['share_code']}")
    wall.page.wait_for_selector("#start-form[data-ready=true]", timeout=10_000)
    wall.page.click("#start-button")
    assert wall.page.text_content("#start-error") == "Please enter your name"
    wall.page.fill("#operator", "Duty officer Zhao")
    wall.page.click("#start-button")
    wall.wait_until("window.commandpost && commandpost.state === 'joined' && commandpost.layoutSource()",
                    "wall joined", 15)
    assert wall.js("commandpost.operator") == "Duty officer Zhao"
    wall.page.reload()  # remembered: no question this time
    wall.wait_until("window.commandpost && commandpost.state === 'joined' && commandpost.layoutSource()",
                    "wall joined again", 15)
    assert wall.page.is_hidden("#start") and wall.js("commandpost.operator") == "Duty officer Zhao"

    wall.page.goto(f"{server.base_url}/wall/NoSuchCode99")
    wall.wait_until("document.body.dataset.view === 'ended'", "the ended view", 10)
    assert wall.page.text_content("#ended-title") == "Could not open the wall"
    assert wall.page.text_content("#ended-detail") == "This link or token is not valid"
    wall.page.goto(f"{server.base_url}/wall")
    wall.page.wait_for_selector("#start-form[data-ready=true]", timeout=10_000)
    assert "needs a wall link" in wall.page.text_content("#start-error")
    assert wall.page.is_disabled("#start-button")


def test_the_landing_page_gives_the_wall_link(server, people):
    page = people("Host").page
    page.goto(server.base_url + "/")
    page.fill("#room-name", "Flood response")
    page.click("#create-button")
    page.wait_for_selector("#created:not([hidden])", timeout=10_000)
    join, wall = page.input_value("#join-link"), page.input_value("#wall-link")
    code = join.rsplit("/", 1)[1]
    assert wall == f"{server.base_url}/wall/{code}"
    assert page.text_content("#wall-link-label") == "Operators open the command wall on a large screen:"
    page.goto(wall + "?operator=Op")
    page.wait_for_function("window.commandpost && commandpost.state === 'joined'", timeout=15_000)
