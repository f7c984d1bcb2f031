"""Photo reports: upload (multipart), Redis Stream + photo file, listing, photo by signed URL or
token, the `report` broadcast, and every refusal (too big, not an image, bad token, bad form)."""

from __future__ import annotations

import fractions
from typing import Any

import aiohttp
import av
import numpy as np
import pytest
from local_node import LocalServer

from signaling.store import reports_key
from signaling.tokens import mint_token


def encode(codec: str, pix_fmt: str) -> bytes:
    """A real 32x24 picture, made the way a camera would (PyAV's encoders)."""
    pixels = np.zeros((24, 32, 3), dtype=np.uint8)
    pixels[:, :16] = (200, 30, 30)
    frame = av.VideoFrame.from_ndarray(pixels, format="rgb24").reformat(format=pix_fmt)
    context = av.CodecContext.create(codec, "w")
    context.width, context.height, context.pix_fmt = 32, 24, pix_fmt
    context.time_base = fractions.Fraction(1, 25)
    return bytes(context.encode(frame)[0])


JPEG = encode("mjpeg", "yuvj420p")
PNG = encode("png", "rgb24")


def form(photo: bytes | None = JPEG, filename: str = "p.jpg", **fields: str) -> aiohttp.FormData:
    data = aiohttp.FormData(default_to_multipart=True)
    if photo is not None:
        data.add_field("photo", photo, filename=filename, content_type="image/jpeg")
    for name, value in fields.items():
        data.add_field(name, value)
    return data


async def post(local: LocalServer, room_id: str, token: str | None, data: Any
               ) -> tuple[int, Any]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    status, body, _ = await local.request("POST", f"/api/rooms/{room_id}/reports",
                                          data=data, headers=headers)
    return status, body


async def test_report_is_stored_listed_broadcast_and_its_photo_served(local: LocalServer
                                                                      ) -> None:
    room = await local.create_room()
    wall, _ = await local.joined_client(room, "Wall")
    field, joined = await local.joined_client(room, "Unit 7")
    room_id = room["room_id"]
    status, report = await post(local, room_id, joined["token"], form(
        note="  水管破裂, water main burst  ", lat="31.2304", lon="121.4737", accuracy_m="8"))
    assert status == 201, report
    assert report["participant_id"] == joined["participant_id"] and report["name"] == "Unit 7"
    assert report["note"] == "水管破裂, water main burst"
    assert (report["lat"], report["lon"], report["accuracy_m"]) == (31.2304, 121.4737, 8.0)
    assert report["report_id"].startswith("rp_") and report["room_id"] == room_id
    pushed = await wall.recv("report")
    assert pushed["report"] == report
    # Dispatch reads the stream: one entry with flat fields.
    [(_, fields)] = await local.redis.xrange(reports_key(room_id))
    assert fields["report_id"] == report["report_id"] and fields["photo_type"] == "jpg"
    status, listing, _ = await local.request(
        "GET", f"/api/rooms/{room_id}/reports", headers={"Authorization": f"Bearer {joined['token']}"})
    assert status == 200 and [r["report_id"] for r in listing["reports"]] == [report["report_id"]]
    # The signed URL works without a token (an <img> on the wall page) ...
    async with local.http.get(local.base_url + report["photo_url"]) as response:
        assert response.status == 200 and response.content_type == "image/jpeg"
        assert await response.read() == JPEG
    # ... and so does a bearer token without a signature.
    plain = report["photo_url"].split("?")[0]
    async with local.http.get(local.base_url + plain,
                              headers={"Authorization": f"Bearer {room['host_token']}"}) as r:
        assert r.status == 200 and await r.read() == JPEG


async def test_png_and_a_report_without_position(local: LocalServer) -> None:
    room = await local.create_room()
    status, report = await post(local, room["room_id"], room["host_token"], form(PNG, "x.png"))
    assert status == 201, report
    assert report["lat"] is None and report["participant_id"] is None and report["note"] == ""
    async with local.http.get(local.base_url + report["photo_url"]) as response:
        assert response.content_type == "image/png" and await response.read() == PNG


async def test_photo_over_the_limit_is_413_and_nothing_kept(start_local) -> None:
    local = await start_local({"COMMANDPOST_REPORTS_MAX_PHOTO_BYTES": "2048"})
    room = await local.create_room()
    big = JPEG + bytes(3000)
    status, body = await post(local, room["room_id"], room["host_token"], form(big))
    assert status == 413 and body["error"] == "too_large", body
    assert "2048" in body["message"]
    # Over the limit by more than the form overhead: refused from Content-Length alone.
    status, body = await post(local, room["room_id"], room["host_token"],
                              form(JPEG + bytes(200_000)))
    assert status == 413, body
    assert await local.redis.xlen(reports_key(room["room_id"])) == 0
    assert not any((local.node.services.identity.data_dir / "reports").rglob("rp_*"))
    status, _ = await post(local, room["room_id"], room["host_token"], form(JPEG))
    assert status == 201


@pytest.mark.parametrize("data, expect", [
    (form(b"GIF89a" + bytes(100)), "not a JPEG or PNG"),
    (form(b"<svg xmlns='http://www.w3.org/2000/svg'/>"), "not a JPEG or PNG"),
    (form(None, note="no picture"), "no photo"),
    (form(note="x" * 2001), "note is longer than 2000"),
    (form(lat="91", lon="0"), "'lat' must be between -90 and 90"),
    (form(lat="nan", lon="0"), "'lat' must be a finite number"),
    (form(lat="31"), "both 'lat' and 'lon'"),
    (form(lat="north", lon="0"), "'lat' must be a number"),
    (form(colour="red"), "unexpected form field 'colour'"),
    ({"note": "urlencoded"}, "multipart/form-data"),
])
async def test_bad_reports_are_400(local: LocalServer, data: Any, expect: str) -> None:
    room = await local.create_room()
    status, body = await post(local, room["room_id"], room["host_token"], data)
    assert status == 400 and expect in body["message"], body
    assert await local.redis.xlen(reports_key(room["room_id"])) == 0


async def test_report_auth(local: LocalServer) -> None:
    room = await local.create_room()
    room_id = room["room_id"]
    forged = local.token(room_id, "p_x", ["join", "publish"]) + "x"
    foreign = mint_token("a-secret-of-another-server-0123456789", room_id, "p_x", ["publish"], 600)
    for token in (None, forged, foreign, "not-a-jwt"):
        status, body = await post(local, room_id, token, form())
        assert status == 401 and body["error"] == "auth_failed", body
    viewer = local.token(room_id, "viewer", ["join", "subscribe"])
    status, body = await post(local, room_id, viewer, form())
    assert status == 403 and body["error"] == "forbidden"
    other = await local.create_room()
    status, body = await post(local, room_id, other["host_token"], form())
    assert status == 403 and body["error"] == "wrong_room"
    status, body = await post(local, "r_nosuchroom", local.token("r_nosuchroom", "h", ["publish"]),
                              form())
    assert status == 404 and body["error"] == "room_not_found"
    data_only = local.token(room_id, "sensor", ["publish_data"])
    status, report = await post(local, room_id, data_only, form())
    assert status == 201
    path = f"/api/rooms/{room_id}/reports/{report['report_id']}/photo"
    for query in ("", "?exp=99999999999&sig=forged", "?exp=1&sig=" + report["photo_url"][-24:]):
        status, body, _ = await local.request("GET", path + query)
        assert status == 401, (query, body)
    status, body, _ = await local.request("GET", f"/api/rooms/{room_id}/reports")
    assert status == 401
    # A signature for one report does not open another.
    _, second = await post(local, room_id, data_only, form(PNG))
    sig = report["photo_url"].split("?")[1]
    status, _, _ = await local.request(
        "GET", f"/api/rooms/{room_id}/reports/{second['report_id']}/photo?{sig}")
    assert status == 401


async def test_unknown_photo_is_404(local: LocalServer) -> None:
    room = await local.create_room()
    auth = {"Authorization": f"Bearer {room['host_token']}"}
    for report_id in ("rp_0123456789abcdef", "..%2F..%2Fsecret", "rp_x"):
        status, body, _ = await local.request(
            "GET", f"/api/rooms/{room['room_id']}/reports/{report_id}/photo", headers=auth)
        assert status == 404, (report_id, body)


async def test_reports_per_room_are_limited(start_local) -> None:
    local = await start_local({"COMMANDPOST_REPORTS_MAX_PER_ROOM": "2"})
    room = await local.create_room()
    other = await local.create_room()
    for _ in range(2):
        status, _ = await post(local, room["room_id"], room["host_token"], form())
        assert status == 201
    status, body = await post(local, room["room_id"], room["host_token"], form())
    assert status == 409 and body["error"] == "limit_reached" and "2 reports" in body["message"]
    assert await local.redis.xlen(reports_key(room["room_id"])) == 2
    photos = local.node.services.identity.data_dir / "reports" / room["room_id"]
    assert len(list(photos.iterdir())) == 2
    status, _ = await post(local, other["room_id"], other["host_token"], form())
    assert status == 201, "another room is not affected"


@pytest.mark.parametrize("content_type, body, expect", [
    ("multipart/form-data", b"garbage", "boundary"),
    ("multipart/form-data; boundary=XX", b"garbage", "starting boundary"),
    ("multipart/form-data; boundary=XX",
     b"--XX\r\nContent-Disposition: form-data\r\n\r\nabc\r\n--XX--\r\n", "unexpected form field"),
    ("multipart/form-data; boundary=XX",  # cut off in the middle of the photo
     b"--XX\r\nContent-Disposition: form-data; name=photo\r\n\r\n\xff\xd8\xffabc", "malformed"),
])
async def test_malformed_multipart_is_400(local: LocalServer, content_type: str, body: bytes,
                                          expect: str) -> None:
    room = await local.create_room()
    status, answer, _ = await local.request(
        "POST", f"/api/rooms/{room['room_id']}/reports", data=body,
        headers={"Authorization": f"Bearer {room['host_token']}", "Content-Type": content_type})
    assert status == 400 and expect in answer["message"], answer
    assert await local.redis.xlen(reports_key(room["room_id"])) == 0
