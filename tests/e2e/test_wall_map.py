"""The wall's map panel in Chromium: positions from `location` messages, live updates,
marker -> spotlight, the coordinate view with a scale bar when there is no tile server, and
slippy-map tiles from a local tile server when one is configured."""

from __future__ import annotations

import math
import re
from collections.abc import Iterator

import pytest
from wall_helpers import Sources, TileServer, post_report

pytestmark = pytest.mark.slow
WALL = {"width": 1920, "height": 1080}
PEOPLE_SQUARE = (31.2304, 121.4737)
BUND = (31.2400, 121.4900)


def open_wall(person, base_url: str, room: dict) -> None:
    person.page.goto(f"{base_url}/wall/{room['share_code']}?operator=Operator Li")
    person.wait_until("window.commandpost && commandpost.state === 'joined' && commandpost.layoutSource()", "wall joined", 15)


def markers(person) -> dict[str, dict]:
    return {m["name"]: m for m in person.js("commandpost.map().markers")}


def tile_of(person, name: str) -> dict:
    return next(t for t in person.tiles() if t["name"] == name)


@pytest.fixture
def sources_for() -> Iterator:
    made: list[Sources] = []

    def make(server, room) -> Sources:
        made.append(Sources(server, room))
        return made[-1]

    yield make
    for sources in made:
        sources.close()


def test_coordinate_map_shows_positions_live_with_a_scale(server, people, sources_for):
    room = server.create_room("E2E wall map")
    sources = sources_for(server, room)
    sources.add("Unit 7")
    sources.add("Unit 9", video=False)  # audio-only field unit: still on the map and wall
    sources.locate("Unit 7", *PEOPLE_SQUARE)
    wall = people("Wall", viewport=WALL)
    open_wall(wall, server.base_url, room)
    # Unit 7's position came before the wall joined (joined.locations); Unit 9's comes live.
    wall.wait_for(lambda: "Unit 7" in markers(wall), "Unit 7 on the map", 10)
    sources.locate("Unit 9", *BUND, accuracy_m=25)
    wall.wait_for(lambda: "Unit 9" in markers(wall), "Unit 9 on the map", 10)

    view = wall.js("commandpost.map()")
    assert view["mode"] == "grid" and view["tiles"] == [] and view["gridLines"] >= 4
    assert re.fullmatch(r"\d+(\.\d+)? (m|km)", view["scale"]["text"]), view["scale"]
    assert 30 <= view["scale"]["px"] <= 120
    m7, m9 = markers(wall)["Unit 7"], markers(wall)["Unit 9"]
    assert m7["inside"] and m9["inside"]
    assert m9["x"] > m7["x"] and m9["y"] < m7["y"], "the Bund is north-east of People's Square"
    # The scale agrees with the map: the marker distance in pixels times metres per pixel.
    metres = haversine(PEOPLE_SQUARE, BUND)
    scale_metres = float(view["scale"]["text"].split()[0]) * (
        1000 if view["scale"]["text"].endswith("km") else 1)
    px = math.hypot(m9["x"] - m7["x"], m9["y"] - m7["y"])
    measured = px * scale_metres / view["scale"]["px"]
    assert abs(measured - metres) / metres < 0.05, (measured, metres)

    # Labels carry the position; the audio-only unit has a tile too.
    assert "31.23040°N 121.47370°E" in tile_of(wall, "Unit 7")["label"]
    wall.wait_for(lambda: "31.24000°N 121.49000°E ±25 m" in tile_of(wall, "Unit 9")["label"], "Unit 9 label")
    assert tile_of(wall, "Unit 9")["state"] == "audio"

    # A unit moves: marker and label follow without a reload.
    sources.locate("Unit 7", 31.2450, 121.4950)
    wall.wait_for(lambda: "31.24500°N 121.49500°E" in tile_of(wall, "Unit 7")["label"], "label moved")
    after, m9 = markers(wall)["Unit 7"], markers(wall)["Unit 9"]
    assert after["x"] > m9["x"] and after["y"] < m9["y"], "Unit 7 is now north-east of Unit 9"

    # Clicking a marker spotlights that unit's tile.
    wall.page.click("[data-id='%s'] .map-marker-dot" % after["id"])
    wall.wait_until("document.querySelector('#wall-tiles').dataset.mode === 'spotlight'", "spotlight")
    assert wall.js("commandpost.layout().spotlight") == tile_of(wall, "Unit 7")["key"]
    assert tile_of(wall, "Unit 7")["spotlit"]


def test_tile_server_mode_draws_tiles_from_the_configured_server(
        redis_url, start_commandpost, people, sources_for):
    tiles = TileServer()
    try:
        server = start_commandpost(redis_url, {"COMMANDPOST_WALL_MAP_TILE_URL": tiles.template,
                                               "COMMANDPOST_WALL_MAP_MAX_ZOOM": "16",
                                               "COMMANDPOST_WALL_MAP_ATTRIBUTION": "© Test tiles"})
        room = server.create_room("E2E wall tiles")
        sources = sources_for(server, room)
        sources.add("Unit 7", video=False)
        sources.locate("Unit 7", *PEOPLE_SQUARE)
        wall = people("Wall", viewport=WALL)
        open_wall(wall, server.base_url, room)
        wall.wait_for(lambda: "Unit 7" in markers(wall), "Unit 7 on the map", 10)
        wall.wait_until("""[...document.querySelectorAll('.map-tile')].length > 0 &&
            [...document.querySelectorAll('.map-tile')].every(img => img.complete && img.naturalWidth === 256)""",
                        "tiles loaded", 10)
        view = wall.js("commandpost.map()")
        assert view["mode"] == "tiles" and view["zoom"] == 16
        z, x, y = 16, *tile_xy(*PEOPLE_SQUARE, 16)
        assert f"{tiles.template.split('{z}')[0]}{z}/{x}/{y}.png" in view["tiles"]
        assert (z, x, y) in tiles.requested, "the browser did not fetch the marker's tile"
        assert all("/16/" in url for url in view["tiles"]) and len(view["tiles"]) >= 4
        assert wall.js("document.querySelector('.map-attribution').textContent") == "© Test tiles"
        assert re.fullmatch(r"\d+ m", view["scale"]["text"])
    finally:
        tiles.close()


def tile_xy(lat: float, lon: float, zoom: int) -> tuple[int, int]:
    n = 2 ** zoom
    x = int((lon + 180) / 360 * n)
    rad = math.radians(lat)
    y = int((1 - math.log(math.tan(rad) + 1 / math.cos(rad)) / math.pi) / 2 * n)
    return x, y


def haversine(a: tuple[float, float], b: tuple[float, float]) -> float:
    lat1, lon1, lat2, lon2 = map(math.radians, (*a, *b))
    h = math.sin((lat2 - lat1) / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    return 2 * 6371008.8 * math.asin(math.sqrt(h))


def test_photo_reports_appear_on_the_wall_and_the_map(server, people):
    room = server.create_room("E2E wall reports")
    post_report(server, room, "Unit 7", "Water main burst", *PEOPLE_SQUARE)
    wall = people("Wall", viewport=WALL)
    open_wall(wall, server.base_url, room)
    wall.wait_for(lambda: len(wall.js("commandpost.reports()")) == 1, "the earlier report listed", 10)

    post_report(server, room, "Unit 9", "Road blocked by a fallen tree", *BUND)
    post_report(server, room, "Unit 9", "No position with this one")
    reports = wall.wait_for(lambda: (r := wall.js("commandpost.reports()")) and len(r) == 3 and r,
                            "live reports listed", 10)
    assert [r["note"] for r in reports] == ["No position with this one",
                                            "Road blocked by a fallen tree", "Water main burst"]
    assert "Unit 9" in reports[1]["text"] and "31.24000°N 121.49000°E" in reports[1]["text"]
    assert "no position" in reports[0]["text"]
    wall.wait_for(lambda: all(r["photoLoaded"] for r in wall.js("commandpost.reports()")),
                  "report photos loaded", 10)
    assert any("Report from Unit 9: Road blocked" in t["text"] for t in wall.js("commandpost.toasts()"))
    markers = wall.page.eval_on_selector_all(".map-marker-report", "ns => ns.map(n => n.textContent)")
    assert sorted(markers) == ["Road blocked by a fallen tree", "Water main burst"]

    wall.page.click("[data-report-id] .wall-report-photo >> nth=1")
    wall.wait_until("document.querySelector('#report-dialog').open", "photo dialog")
    assert wall.js("document.querySelector('#report-dialog p').textContent") == \
        "Unit 9: Road blocked by a fallen tree"
