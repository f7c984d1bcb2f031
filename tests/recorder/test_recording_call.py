"""A real call recorded by a recorder worker process: two aiortc publishers (VP8 + Opus,
and H.264 + Opus), files checked with ffprobe, ffmpeg and byte for byte against what the
publishers' encoders produced; the REST API and the room's `recording` messages on the
same call."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

from aiortc import RTCRtpSender

from rec_helpers import (RecorderProcess, annexb, captured_frames, decode_all, demuxed, ffprobe,
                         sha256, wait_until)
from recorder.manifest import sha256_file
from rtc_peer import MediaPeer

CALL_S = 10.0


def prefer_h264(peer: MediaPeer) -> None:
    """Make the publisher's video transceiver send H.264 (aiortc prefers VP8)."""
    assert peer.pub is not None
    caps = RTCRtpSender.getCapabilities("video")
    h264 = [c for c in caps.codecs if c.mimeType == "video/H264"]
    for transceiver in peer.pub.getTransceivers():
        if transceiver.kind == "video":
            transceiver.setCodecPreferences(h264)


class H264Peer:
    @staticmethod
    async def publish_h264(peer: MediaPeer) -> None:
        """MediaPeer.publish, with H.264 preferred for the camera."""
        from aiortc import RTCSessionDescription
        from rtc_peer import LOOPBACK, SyntheticCamera, ToneMicrophone, new_pc
        from sfu.aiortc_bridge import restrict_ice_addresses

        peer.pub = new_pc()
        peer.pub.addTransceiver(ToneMicrophone(), direction="sendonly")
        peer.pub.addTransceiver(SyntheticCamera(), direction="sendonly")
        prefer_h264(peer)
        restrict_ice_addresses(peer.pub, LOOPBACK)
        await peer.pub.setLocalDescription(await peer.pub.createOffer())
        mids = [t.mid for t in peer.pub.getTransceivers()]
        await peer.ws.send({"type": "publish", "sdp": peer.pub.localDescription.sdp,
                            "sources": {mids[0]: "microphone", mids[1]: "camera"}})
        answer = await peer.ws.recv("answer", timeout=10)
        await peer.pub.setRemoteDescription(RTCSessionDescription(answer["sdp"], "answer"))


async def test_two_publishers_recorded_without_transcoding(rec_node, rec_dir: Path,
                                                           recorders, tmp_path: Path) -> None:
    server = rec_node
    room = await server.create_room()
    auth = {"Authorization": f"Bearer {room['host_token']}"}
    with captured_frames() as sent:
        alice_ws, alice = await server.joined_client(room, "Alice", host=True)
        bob_ws, bob = await server.joined_client(room, "鲍勃")
        alice_peer, bob_peer = MediaPeer(alice_ws), MediaPeer(bob_ws)
        await alice_peer.publish()
        await H264Peer.publish_h264(bob_peer)
        RecorderProcess.start(recorders, server, rec_dir, tmp_path)
        status, body, _ = await server.request("POST", f"/api/rooms/{room['room_id']}/recordings",
                                               headers=auth)
        assert status == 201, body
        rid = body["recording_id"]
        started = await alice_ws.recv("recording", timeout=30, state="recording")
        assert started["recording_id"] == rid and started["active"] is True
        t0 = time.monotonic()
        # A late joiner learns that the room is being recorded.
        carol_ws, _ = await server.joined_client(room, "Carol")
        late = await carol_ws.recv("recording", timeout=10)
        assert late["recording_id"] == rid and late["active"] is True
        await asyncio.sleep(CALL_S)
        status, body, _ = await server.request("POST", f"/api/recordings/{rid}/stop",
                                               headers=auth)
        assert status == 202, body
        stop_wall = time.monotonic()
        stopped = await carol_ws.recv("recording", timeout=30, state="stopped")
        assert stopped["active"] is False
        await alice_peer.close()
        await bob_peer.close()

    status, info, _ = await server.request("GET", f"/api/recordings/{rid}", headers=auth)
    assert status == 200, info
    assert info["state"] == "stopped" and info["custody"]["chain_ok"], info["custody"]
    files = {(f["participant_id"], f["kind"]): f for f in info["files"]}
    expected = {(alice["participant_id"], "audio"), (alice["participant_id"], "video"),
                (bob["participant_id"], "audio"), (bob["participant_id"], "video")}
    assert set(files) == expected, info["files"]
    assert files[(bob["participant_id"], "video")]["codec"] == "h264"
    assert files[(alice["participant_id"], "video")]["codec"] == "vp8"
    assert files[(bob["participant_id"], "audio")]["participant_name"] == "鲍勃"
    real_s = stop_wall - t0
    for entry in info["files"]:
        path = rec_dir / rid / entry["name"]
        probe = ffprobe(path)
        stream = probe["streams"][0]
        assert stream["codec_name"] == entry["codec"]
        start = float(probe["format"].get("start_time", 0))
        duration = float(probe["format"]["duration"]) - start
        assert abs(duration - real_s) < 0.5 + 0.0, (entry["name"], duration, real_s)
        assert abs(entry["duration_ms"] / 1000 - duration) < 0.1, entry
        assert entry["sha256"] == sha256_file(path) and entry["bytes"] == path.stat().st_size
        decode_all(path)
    # No transcoding: every recorded video frame is one the publisher's encoder produced.
    for key, codec in (((alice["participant_id"], "video"), "vp8"),
                       ((bob["participant_id"], "video"), "h264")):
        packets = demuxed(rec_dir / rid / files[key]["name"])
        assert len(packets) > CALL_S * 20, len(packets)
        hashes = [sha256(annexb(data) if codec == "h264" else data) for _, data, _ in packets]
        assert set(hashes) <= sent[codec], f"{codec}: frames differ from what was sent"
        assert packets[0][2], "a file starts at a keyframe"
    # Tracks of the two publishers line up on the shared clock.
    starts = [f["start_ms"] for f in info["files"]]
    assert max(starts) - min(starts) < 1500, starts
    assert [a["action"] for a in info["audit"]][:3] == ["started", "stopped", "finished"]
