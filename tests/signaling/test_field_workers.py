"""Locations and photo reports through the front of `commandpost serve` with two workers
(the production default is one worker per core): REST and uploads reach the worker hosting
the room, whose members hear the `report`; the `joined` token and signed photo URLs are good
on every worker."""

from __future__ import annotations

import aiohttp
import pytest

from signal_client import WsClient
from test_reports import JPEG

pytestmark = pytest.mark.timeout(120)


async def check_room(http: aiohttp.ClientSession, base_url: str, room: dict,
                     clients: list[WsClient]) -> str:
    """Everything once in `room`; returns the node (worker) hosting it. The clients stay
    connected (so the next room goes to another worker) until the caller closes them."""
    room_id = room["room_id"]
    wall = await WsClient.connect(base_url)
    field = await WsClient.connect(base_url)
    clients += [wall, field]
    await wall.join(code=room["share_code"], name="Wall")
    joined = await field.join(code=room["share_code"], name="Unit")
    pid = joined["participant_id"]
    await field.send({"type": "location", "lat": 30.5, "lon": 114.3})
    assert (await wall.recv("location", participant_id=pid))["lat"] == 30.5
    auth = {"Authorization": f"Bearer {joined['token']}"}
    async with http.get(f"{base_url}/api/rooms/{room_id}/locations", headers=auth) as r:
        assert r.status == 200
        assert [loc["participant_id"] for loc in (await r.json())["locations"]] == [pid]
    form = aiohttp.FormData()
    form.add_field("photo", JPEG, filename="p.jpg", content_type="image/jpeg")
    form.add_field("note", "through the front")
    async with http.post(f"{base_url}/api/rooms/{room_id}/reports", data=form,
                         headers=auth) as r:
        report = await r.json()
        assert r.status == 201, report
    assert report["participant_id"] == pid
    assert (await wall.recv("report", timeout=5))["report"]["report_id"] == report["report_id"]
    async with http.get(base_url + report["photo_url"]) as r:
        assert r.status == 200 and await r.read() == JPEG
    async with http.get(f"{base_url}/api/rooms/{room_id}", headers=auth) as r:
        return (await r.json())["node"]


async def test_locations_and_reports_through_the_front(redis_url, start_commandpost) -> None:
    server = start_commandpost(redis_url, {"COMMANDPOST_SERVER_WORKERS": "2"})
    nodes = set()
    clients: list[WsClient] = []
    try:
        async with aiohttp.ClientSession() as http:
            for index in range(2):
                room = server.create_room(f"Field {index}")
                nodes.add(await check_room(http, server.base_url, room, clients))
    finally:
        for client in clients:
            await client.close()
    assert len(nodes) >= 2, f"all rooms landed on one worker: {nodes}"
