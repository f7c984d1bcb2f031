"""WHIP ingest and WHEP playback with real aiortc peers and bearer tokens (RFC 9725)."""

from __future__ import annotations

import asyncio

from aiortc import RTCPeerConnection, RTCSessionDescription
from local_node import LocalServer
from rtc_peer import LOOPBACK, MediaPeer, SyntheticCamera, ToneMicrophone, new_pc
from sfu.aiortc_bridge import restrict_ice_addresses

SDP = {"Content-Type": "application/sdp"}


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def offer_of(pc: RTCPeerConnection) -> str:
    restrict_ice_addresses(pc, LOOPBACK)
    await pc.setLocalDescription(await pc.createOffer())
    return pc.localDescription.sdp


async def count_frames(pc: RTCPeerConnection, counts: dict[str, int]) -> None:
    def on_track(track) -> None:
        async def pump() -> None:
            counts.setdefault(track.kind, 0)
            while True:
                try:
                    await track.recv()
                except Exception:
                    return
                counts[track.kind] += 1
        asyncio.ensure_future(pump())
    pc.on("track", on_track)


async def wait_count(counts: dict[str, int], kind: str, n: int, timeout: float = 10) -> None:
    for _ in range(int(timeout / 0.05)):
        if counts.get(kind, 0) >= n:
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"only {counts.get(kind, 0)} {kind} frames")


async def test_whip_publish_then_whep_playback(local: LocalServer) -> None:
    room = await local.create_room()
    room_id = room["room_id"]
    observer, _ = await local.joined_client(room, "Observer")
    watcher = MediaPeer(observer)
    publisher, player = new_pc(), new_pc()
    try:
        publisher.addTransceiver(ToneMicrophone(), direction="sendonly")
        publisher.addTransceiver(SyntheticCamera(), direction="sendonly")
        token = local.token(room_id, "drone-7", ["publish"], name="Drone 7")
        status, answer, headers = await local.request(
            "POST", f"/whip/{room_id}", data=(await offer_of(publisher)).encode(),
            headers=SDP | bearer(token))
        assert status == 201, answer
        assert headers["Content-Type"] == "application/sdp"
        location = headers["Location"]
        assert location.startswith(f"/whip/{room_id}/")
        await publisher.setRemoteDescription(RTCSessionDescription(answer, "answer"))

        joined = await observer.recv("participant_joined")
        drone = joined["participant"]
        assert drone["name"] == "Drone 7"
        await watcher.wait_frames(drone["id"], "video", 10)  # WS subscribers see it too

        status, info, _ = await local.request("GET", f"/api/rooms/{room_id}",
                                              headers=bearer(room["host_token"]))
        video = next(t for t in info["tracks"] if t["kind"] == "video")
        assert (video["name"], video["codec"], video["participant_id"]) == (
            "Drone 7", "VP8", drone["id"])
        # No `layers` channel over WHIP: simulcast layers nobody needs leave its REMB.
        assert local.node.rooms[room_id].media.track(video["track_id"]).layers_by_remb

        counts: dict[str, int] = {}
        await count_frames(player, counts)
        player.addTransceiver("video", direction="recvonly")
        viewer = local.token(room_id, "wall-1", ["subscribe"])
        status, answer, headers = await local.request(
            "POST", f"/whep/{room_id}/{video['track_id']}",
            data=(await offer_of(player)).encode(), headers=SDP | bearer(viewer))
        assert status == 201, answer
        whep_location = headers["Location"]
        await player.setRemoteDescription(RTCSessionDescription(answer, "answer"))
        await wait_count(counts, "video", 10)

        status, _, _ = await local.request("PATCH", whep_location, headers=bearer(viewer))
        assert status == 405
        status, _, _ = await local.request("DELETE", whep_location, headers=bearer(viewer))
        assert status == 200
        status, _, _ = await local.request("PATCH", location, headers=bearer(token))
        assert status == 405
        status, _, _ = await local.request("DELETE", location, headers=bearer(token))
        assert status == 200
        left = await observer.recv("participant_left", participant_id=drone["id"])
        assert left["reason"] == "left"
        status, _, _ = await local.request("DELETE", location, headers=bearer(token))
        assert status == 404
    finally:
        await publisher.close()
        await player.close()
        await watcher.close()


async def test_whip_and_whep_refusals(local: LocalServer) -> None:
    room = await local.create_room()
    room_id = room["room_id"]
    publish = local.token(room_id, "cam", ["publish"])
    pc = new_pc()
    pc.addTransceiver(SyntheticCamera(), direction="sendonly")
    offer = (await offer_of(pc)).encode()
    await pc.close()
    cases = [
        ({}, offer, SDP, 401, "auth_failed"),
        (bearer(local.token(room_id, "g", ["join", "subscribe"])), offer, SDP, 403,
         "forbidden"),
        (bearer(local.token("r_other", "g", ["publish"])), offer, SDP, 403, "wrong_room"),
        (bearer(publish), offer, {"Content-Type": "text/plain"}, 415,
         "unsupported_media_type"),
        (bearer(publish), b"v=0\r\nm=video\r\n", SDP, 400, "bad_sdp"),
        (bearer(publish), b"\xff\xfe", SDP, 400, "bad_sdp"),
        (bearer(publish), b"v=0\r\n" + b"a=x\r\n" * 20000, SDP, 413, "too_large"),
    ]
    for auth, body, ctype, status, code in cases:
        got, text, headers = await local.request("POST", f"/whip/{room_id}", data=body,
                                                 headers=ctype | auth)
        assert (got, text.split(":")[0]) == (status, code), text
        assert text.endswith("\n") and len(text) > len(code) + 3
        assert headers["Access-Control-Allow-Origin"] == "*"
    ghost = local.token("r_ghost", "g", ["publish"])
    got, text, _ = await local.request("POST", "/whip/r_ghost", data=offer,
                                       headers=SDP | bearer(ghost))
    assert (got, text.split(":")[0]) == (404, "room_not_found")
    viewer = local.token(room_id, "v", ["subscribe"])
    got, text, _ = await local.request("POST", f"/whep/{room_id}/t_missing", data=offer,
                                       headers=SDP | bearer(viewer))
    assert (got, text.split(":")[0]) == (404, "track_not_found")
    assert room_id not in local.node.rooms  # nothing was left behind
