"""`server.event_loop`: the key is strict, and `commandpost serve` on uvloop serves a real
call (WHIP publish, WHEP playback through the SFU) while /healthz shows which loop runs."""

from __future__ import annotations

import asyncio
import json
import urllib.request
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiortc import RTCPeerConnection, RTCSessionDescription
from rtc_peer import LOOPBACK, SyntheticCamera, ToneMicrophone, new_pc
from sfu.aiortc_bridge import restrict_ice_addresses

from signaling.config import ConfigError, load_config

SDP = {"Content-Type": "application/sdp"}


def health(server: Any) -> dict:
    """GET /healthz of a `RunningServer` (tests/conftest.py)."""
    with urllib.request.urlopen(f"{server.base_url}/healthz", timeout=5) as response:
        return json.loads(response.read())


def test_event_loop_key_parses_and_refuses_bad_values(tmp_path: Path) -> None:
    assert load_config(None, env={}).server.event_loop == "uvloop"
    path = tmp_path / "config.toml"
    path.write_text('[server]\nevent_loop = "asyncio"\n', encoding="utf-8")
    assert load_config(path, env={}).server.event_loop == "asyncio"
    env = {"COMMANDPOST_SERVER_EVENT_LOOP": "uvloop"}
    assert load_config(path, env=env).server.event_loop == "uvloop"
    path.write_text('[server]\nevent_loop = "trio"\n', encoding="utf-8")
    with pytest.raises(ConfigError, match=r"\[server\] event_loop: 'trio' is not one of "
                       r"asyncio, uvloop"):
        load_config(path, env={})
    path.write_text('[server]\nevent_loop = 1\n', encoding="utf-8")
    with pytest.raises(ConfigError, match=r"\[server\] event_loop: expected a string"):
        load_config(path, env={})
    with pytest.raises(ConfigError, match="COMMANDPOST_SERVER_EVENT_LOOP: 'UVLOOP' is not one"):
        load_config(None, env={"COMMANDPOST_SERVER_EVENT_LOOP": "UVLOOP"})


def test_default_server_runs_uvloop_and_asyncio_can_be_chosen(
        server: Any, redis_url: str, start_commandpost) -> None:
    assert health(server)["event_loop"] == "uvloop"
    chosen = start_commandpost(redis_url, {"COMMANDPOST_SERVER_EVENT_LOOP": "asyncio"})
    assert health(chosen)["event_loop"] == "asyncio"


async def offer_of(pc: RTCPeerConnection) -> str:
    restrict_ice_addresses(pc, LOOPBACK)
    await pc.setLocalDescription(await pc.createOffer())
    return pc.localDescription.sdp


async def post_sdp(http: aiohttp.ClientSession, url: str, token: str, sdp: str) -> str:
    headers = SDP | {"Authorization": f"Bearer {token}"}
    async with http.post(url, data=sdp.encode(), headers=headers) as response:
        body = await response.text()
        assert response.status == 201, body
        return body


async def receive_frames(pc: RTCPeerConnection, kind: str, n: int) -> None:
    """Decode `n` frames of the first `kind` track the server sends."""
    track_ready: asyncio.Future = asyncio.get_running_loop().create_future()
    pc.on("track", lambda track: track.kind == kind and not track_ready.done()
          and track_ready.set_result(track))
    track = await asyncio.wait_for(track_ready, 10)
    for _ in range(n):
        await asyncio.wait_for(track.recv(), 5)


async def published_video(http: aiohttp.ClientSession, server: Any,
                          room: dict) -> dict:
    """The room's video track, once the publisher's media has made the SFU list it."""
    url = f"{server.base_url}/api/rooms/{room['room_id']}"
    headers = {"Authorization": f"Bearer {room['host_token']}"}
    for _ in range(100):
        async with http.get(url, headers=headers) as response:
            info = await response.json()
        video = [t for t in info.get("tracks", []) if t["kind"] == "video"]
        if video:
            return video[0]
        await asyncio.sleep(0.1)
    raise AssertionError(f"no video track listed: {info}")


async def test_serve_on_uvloop_forwards_media(redis_url: str, start_commandpost) -> None:
    server = await asyncio.to_thread(start_commandpost, redis_url,
                                     {"COMMANDPOST_SERVER_EVENT_LOOP": "uvloop"})
    assert health(server)["event_loop"] == "uvloop"
    room = await asyncio.to_thread(server.create_room)
    room_id = room["room_id"]
    publisher, player = new_pc(), new_pc()
    try:
        async with aiohttp.ClientSession() as http:
            publisher.addTransceiver(ToneMicrophone(), direction="sendonly")
            publisher.addTransceiver(SyntheticCamera(), direction="sendonly")
            answer = await post_sdp(http, f"{server.base_url}/whip/{room_id}",
                                    server.mint_token(room_id, "cam", ["publish"]),
                                    await offer_of(publisher))
            await publisher.setRemoteDescription(RTCSessionDescription(answer, "answer"))
            video = await published_video(http, server, room)
            player.addTransceiver("video", direction="recvonly")
            receiving = asyncio.ensure_future(receive_frames(player, "video", 20))
            answer = await post_sdp(http, f"{server.base_url}/whep/{room_id}/"
                                    f"{video['track_id']}",
                                    server.mint_token(room_id, "wall", ["subscribe"]),
                                    await offer_of(player))
            await player.setRemoteDescription(RTCSessionDescription(answer, "answer"))
            await asyncio.wait_for(receiving, 20)
        assert health(server)["event_loop"] == "uvloop"
    finally:
        await publisher.close()
        await player.close()
