"""End to end: a real call recorded by a `commandpost worker recorder` process; when the
recording stops the same worker builds the composite, which the REST API lists (with its
SHA-256, chain intact) and serves with range support. Two publishers with their own camera
colour and voice pitch, so the composite's tiles and mix can be checked."""

from __future__ import annotations

import asyncio
import fractions
import hashlib
import math
from pathlib import Path

import av
import numpy as np
import pytest
from aiortc import AudioStreamTrack, RTCSessionDescription, VideoStreamTrack
from composite_helpers import read_audio, read_frame_at, tone_level

from rec_helpers import RecorderProcess, ffprobe, wait_until
from rtc_peer import LOOPBACK, MediaPeer, new_pc
from sfu.aiortc_bridge import restrict_ice_addresses

CALL_S = 6.0
W, H = 640, 360
RED, BLUE = (40, 40, 200), (200, 60, 40)  # BGR


class ColourCamera(VideoStreamTrack):
    def __init__(self, bgr: tuple[int, int, int]) -> None:
        super().__init__()
        self._image = np.full((180, 320, 3), bgr, dtype=np.uint8)

    async def recv(self) -> av.VideoFrame:
        pts, time_base = await self.next_timestamp()
        frame = av.VideoFrame.from_ndarray(self._image, format="bgr24")
        frame.pts, frame.time_base = pts, time_base
        return frame


class PitchMicrophone(AudioStreamTrack):
    def __init__(self, hz: float) -> None:
        super().__init__()
        self.hz = hz

    async def recv(self) -> av.AudioFrame:
        frame = await super().recv()
        t = np.arange(frame.pts, frame.pts + frame.samples) / frame.sample_rate
        tone = (np.sin(2 * math.pi * self.hz * t) * 8000).astype(np.int16)
        data = np.repeat(tone, 2).reshape(1, -1) if frame.layout.name == "stereo" \
            else tone.reshape(1, -1)
        out = av.AudioFrame.from_ndarray(data, format="s16", layout=frame.layout.name)
        out.sample_rate, out.pts = frame.sample_rate, frame.pts
        out.time_base = fractions.Fraction(1, frame.sample_rate)
        return out


async def publish(peer: MediaPeer, bgr: tuple[int, int, int], hz: float) -> None:
    peer.pub = new_pc()
    peer.pub.addTransceiver(PitchMicrophone(hz), direction="sendonly")
    peer.pub.addTransceiver(ColourCamera(bgr), direction="sendonly")
    restrict_ice_addresses(peer.pub, LOOPBACK)
    await peer.pub.setLocalDescription(await peer.pub.createOffer())
    mids = [t.mid for t in peer.pub.getTransceivers()]
    await peer.ws.send({"type": "publish", "sdp": peer.pub.localDescription.sdp,
                        "sources": {mids[0]: "microphone", mids[1]: "camera"}})
    answer = await peer.ws.recv("answer", timeout=10)
    await peer.pub.setRemoteDescription(RTCSessionDescription(answer["sdp"], "answer"))


def near(image: np.ndarray, x: int, y: int, bgr: tuple[int, int, int]) -> bool:
    patch = image[y - 6:y + 6, x - 6:x + 6].reshape(-1, 3).mean(axis=0)
    return bool(np.abs(patch - np.array(bgr)).max() < 35)


@pytest.mark.slow
async def test_recorded_call_becomes_a_composite(rec_node, rec_dir: Path, recorders,
                                                 tmp_path: Path) -> None:
    server = rec_node
    room = await server.create_room()
    auth = {"Authorization": f"Bearer {room['host_token']}"}
    alice_ws, _ = await server.joined_client(room, "张伟", host=True)
    bob_ws, _ = await server.joined_client(room, "Bob")
    alice, bob = MediaPeer(alice_ws), MediaPeer(bob_ws)
    await publish(alice, RED, 440.0)
    await publish(bob, BLUE, 1000.0)
    RecorderProcess.start(recorders, server, rec_dir, tmp_path, {
        "COMMANDPOST_RECORDER_COMPOSITE_WIDTH": str(W),
        "COMMANDPOST_RECORDER_COMPOSITE_HEIGHT": str(H),
        "COMMANDPOST_RECORDER_COMPOSITE_FPS": "10",
        "COMMANDPOST_RECORDER_COMPOSITE_AUTO": "true"})  # rec_helpers turns it off
    status, body, _ = await server.request("POST", f"/api/rooms/{room['room_id']}/recordings",
                                           headers=auth)
    assert status == 201, body
    rid = body["recording_id"]
    await alice_ws.recv("recording", timeout=30, state="recording")
    await asyncio.sleep(CALL_S)
    status, body, _ = await server.request("POST", f"/api/recordings/{rid}/stop", headers=auth)
    assert status == 202, body
    await alice_ws.recv("recording", timeout=30, state="stopped")
    await alice.close()
    await bob.close()

    async def composed() -> dict | None:
        _, state, _ = await server.request("GET", f"/api/recordings/{rid}/composite",
                                           headers=auth)
        assert state["state"] != "failed", state
        return state if state["state"] == "done" else None

    try:
        state = await wait_until(composed, 180, "the composite", interval=0.5)
    except AssertionError:
        _, last, _ = await server.request("GET", f"/api/recordings/{rid}/composite",
                                          headers=auth)
        raise AssertionError(f"composite {last}; worker log:\n{recorders[0].log()[-3000:]}")
    status, info, _ = await server.request("GET", f"/api/recordings/{rid}", headers=auth)
    assert info["custody"]["chain_ok"], info["custody"]
    entry = next(f for f in info["files"] if f["kind"] == "composite")
    assert entry["name"] == state["file"]
    tracks = [f for f in info["files"] if f["kind"] in ("audio", "video")]
    assert len(tracks) == 4, tracks
    span_s = (max(f["end_ms"] for f in tracks) - min(f["start_ms"] for f in tracks)) / 1000

    url = f"{server.base_url}/api/recordings/{rid}/files/{entry['name']}"
    async with server.http.get(url, headers=auth | {"Range": "bytes=0-99"}) as response:
        assert response.status == 206 and response.headers["Content-Type"] == "video/mp4"
        assert len(await response.read()) == 100
    async with server.http.get(url, headers=auth) as response:
        assert response.status == 200
        data = await response.read()
    assert hashlib.sha256(data).hexdigest() == entry["sha256"]
    out = tmp_path / "composite.mp4"
    out.write_bytes(data)

    probe = ffprobe(out)
    assert [s["codec_name"] for s in probe["streams"]] == ["h264", "aac"]
    assert abs(float(probe["format"]["duration"]) - span_s) < 0.5, (probe["format"], span_s)
    image = read_frame_at(out, span_s / 2)
    stage, strip = (W * 3 // 8, H // 2), ((W * 3 // 4 + W) // 2, H // 2)  # one beside
    placed = {colour: [near(image, *spot, colour) for spot in (stage, strip)]
              for colour in (RED, BLUE)}
    assert sorted(placed.values()) == [[False, True], [True, False]], placed
    samples = read_audio(out)
    middle = (span_s / 2 - 1.0, span_s / 2 + 1.0)
    assert tone_level(samples, 440.0, *middle) > 0.05
    assert tone_level(samples, 1000.0, *middle) > 0.05
