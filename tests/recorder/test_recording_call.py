"""A real call recorded by a recorder worker process: two aiortc publishers (VP8 + Opus,
and H.264 + Opus), a late joiner who shares her screen and leaves, a host mute; files
checked with ffprobe, decoded, and compared byte for byte with what the publishers'
encoders produced; the REST API and the room's `recording` messages on the same call."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path

import av
from aiortc import RTCRtpSender

from rec_helpers import (RecorderProcess, annexb, captured_frames, decode_all, demuxed, ffprobe,
                         sent_span, sha256, unique_camera)
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
    async def publish_h264(peer: MediaPeer, h264: bool = True,
                           sources: tuple[str, ...] = ("microphone", "camera")) -> None:
        """MediaPeer.publish, with H.264 preferred for the video (and a choice of sources:
        "screen" alone is a screen share)."""
        from aiortc import RTCSessionDescription
        from rtc_peer import LOOPBACK, ToneMicrophone, new_pc
        from sfu.aiortc_bridge import restrict_ice_addresses

        peer.pub = new_pc()
        for source in sources:
            track = ToneMicrophone() if source == "microphone" else unique_camera()
            peer.pub.addTransceiver(track, direction="sendonly")
        if h264:
            prefer_h264(peer)
        restrict_ice_addresses(peer.pub, LOOPBACK)
        await peer.pub.setLocalDescription(await peer.pub.createOffer())
        mids = [t.mid for t in peer.pub.getTransceivers()]
        await peer.ws.send({"type": "publish", "sdp": peer.pub.localDescription.sdp,
                            "sources": dict(zip(mids, sources))})
        answer = await peer.ws.recv("answer", timeout=10)
        await peer.pub.setRemoteDescription(RTCSessionDescription(answer["sdp"], "answer"))


async def test_two_publishers_recorded_without_transcoding(rec_node, rec_dir: Path,
                                                           recorders, tmp_path: Path) -> None:
    server = rec_node
    room = await server.create_room()
    auth = {"Authorization": f"Bearer {room['host_token']}"}
    RecorderProcess.start(recorders, server, rec_dir, tmp_path)  # starts while we set up
    with captured_frames() as sent:
        alice_ws, alice = await server.joined_client(room, "Alice", host=True)
        bob_ws, bob = await server.joined_client(room, "鲍勃")
        alice_peer, bob_peer = MediaPeer(alice_ws), MediaPeer(bob_ws)
        await H264Peer.publish_h264(alice_peer, h264=False)
        await H264Peer.publish_h264(bob_peer)
        status, body, _ = await server.request("POST", f"/api/rooms/{room['room_id']}/recordings",
                                               headers=auth)
        assert status == 201, body
        rid = body["recording_id"]
        started = await alice_ws.recv("recording", timeout=30, state="recording")
        assert started["recording_id"] == rid and started["active"] is True
        t0 = time.monotonic()
        # A late joiner learns that the room is being recorded.
        carol_ws, carol = await server.joined_client(room, "Carol")
        late = await carol_ws.recv("recording", timeout=10)
        assert late["recording_id"] == rid and late["active"] is True
        await asyncio.sleep(1.5)
        # Carol shares her screen for a while, then leaves: a file of its own.
        carol_peer = MediaPeer(carol_ws)
        await H264Peer.publish_h264(carol_peer, h264=False, sources=("screen",))
        carol_on, carol_on_unix = time.monotonic(), time.time()
        # The host mutes Bob's microphone; two seconds later Bob turns it back on.
        await alice_ws.send({"type": "mute", "participant_id": bob["participant_id"],
                             "kind": "audio"})
        await bob_ws.recv("muted", timeout=5)
        await asyncio.sleep(2.0)
        await bob_ws.send({"type": "state", "audio": True})
        await asyncio.sleep(2.0)
        await carol_peer.close()
        await carol_ws.close()
        carol_off = time.monotonic()
        await asyncio.sleep(max(0.0, CALL_S - (time.monotonic() - t0)))
        status, body, _ = await server.request("POST", f"/api/recordings/{rid}/stop",
                                               headers=auth)
        assert status == 202, body
        stopped = await bob_ws.recv("recording", timeout=30, state="stopped")
        assert stopped["active"] is False
        await alice_peer.close()
        await bob_peer.close()

    status, info, _ = await server.request("GET", f"/api/recordings/{rid}", headers=auth)
    assert status == 200, info
    assert info["state"] == "stopped" and info["custody"]["chain_ok"], info["custody"]
    files = {(f["participant_id"], f["kind"]): f for f in info["files"]}
    expected = {(alice["participant_id"], "audio"), (alice["participant_id"], "video"),
                (bob["participant_id"], "audio"), (bob["participant_id"], "video"),
                (carol["participant_id"], "video")}
    assert set(files) == expected, info["files"]
    screen = files.pop((carol["participant_id"], "video"))
    assert screen["source"] == "screen" and screen["codec"] == "vp8"
    # Her file lies within the time she shared (a new track first needs a renegotiation
    # and a keyframe), and spans what her encoder sent.
    shared_from = carol_on_unix - info["started_at"]
    assert shared_from - 0.5 < screen["start_ms"] / 1000 < screen["end_ms"] / 1000 < \
        shared_from + (carol_off - carol_on) + 0.5, (screen, shared_from)
    packets = demuxed(rec_dir / rid / screen["name"])
    hashes = [sha256(data) for _, data, _ in packets]
    assert set(hashes) <= {h for h, _ in sent["vp8"]}
    assert abs((packets[-1][0] - packets[0][0]) / 1000 - sent_span(sent["vp8"], hashes)) < 0.5
    decode_all(rec_dir / rid / screen["name"])
    # Bob's muted microphone is a gap in his audio file, which goes on afterwards.
    bob_audio = demuxed(rec_dir / rid / files[(bob["participant_id"], "audio")]["name"])
    steps = [b[0] - a[0] for a, b in zip(bob_audio, bob_audio[1:])]
    assert 1500 < max(steps) < 3000, max(steps)
    assert bob_audio[-1][0] - bob_audio[steps.index(max(steps)) + 1][0] > 3000
    assert files[(bob["participant_id"], "video")]["codec"] == "h264"
    assert files[(alice["participant_id"], "video")]["codec"] == "vp8"
    assert files[(bob["participant_id"], "audio")]["participant_name"] == "鲍勃"
    for entry in files.values():
        path = rec_dir / rid / entry["name"]
        probe = ffprobe(path)
        stream = probe["streams"][0]
        assert stream["codec_name"] == entry["codec"]
        start = float(probe["format"].get("start_time", 0))
        duration = float(probe["format"]["duration"]) - start
        assert abs(start - entry["start_ms"] / 1000) < 0.05, (start, entry)
        assert abs(entry["duration_ms"] / 1000 - duration) < 0.1, entry
        assert duration > CALL_S - 3
        assert abs(entry["duration_ms"] / 1000 - duration) < 0.1, entry
        assert entry["sha256"] == sha256_file(path) and entry["bytes"] == path.stat().st_size
        decode_all(path)
    # No transcoding: every recorded video frame is one the publisher's encoder produced.
    for key, codec in (((alice["participant_id"], "video"), "vp8"),
                       ((bob["participant_id"], "video"), "h264")):
        packets = demuxed(rec_dir / rid / files[key]["name"])
        assert len(packets) > CALL_S * 20, len(packets)
        hashes = [sha256(annexb(data) if codec == "h264" else data) for _, data, _ in packets]
        assert set(hashes) <= {h for h, _ in sent[codec]}, \
            f"{codec}: frames differ from what was sent"
        assert packets[0][2], "a file starts at a keyframe"
        if codec == "h264":  # the codec private holds the sender's own SPS
            units = annexb(packets[0][1]).split(b"\x00\x00\x00\x01")
            sps = next(u for u in units if u and u[0] & 0x1F == 7)
            with av.open(str(rec_dir / rid / files[key]["name"])) as container:
                assert sps in container.streams[0].codec_context.extradata
        # Real time: the file spans what the sender's clock spanned, first to last frame.
        real_s = sent_span(sent[codec], hashes)
        span_s = (packets[-1][0] - packets[0][0]) / 1000
        assert abs(span_s - real_s) < 0.5, (codec, span_s, real_s)
        # ...and the same person's audio ends with it (and starts no later: video waits
        # for its first keyframe).
        audio = files[(key[0], "audio")]
        assert abs(audio["end_ms"] - files[key]["end_ms"]) < 500, (audio, files[key])
        assert audio["start_ms"] <= files[key]["start_ms"] + 100, (audio, files[key])
    # Downloads support HTTP ranges (players seek) and are audited.
    video = files[(alice["participant_id"], "video")]
    for _ in range(2):
        async with server.http.get(
                f"{server.base_url}/api/recordings/{rid}/files/{video['name']}",
                headers=auth | {"Range": "bytes=100-1123"}) as response:
            assert response.status == 206
            assert response.headers["Content-Range"].startswith("bytes 100-1123/")
            assert response.headers["Content-Type"] == "video/webm"
            assert await response.read() == \
                (rec_dir / rid / video["name"]).read_bytes()[100:1124]
    status, listed, _ = await server.request("GET", f"/api/recordings/{rid}", headers=auth)
    downloads = [a for a in listed["audit"] if a["action"] == "downloaded"]
    assert len(downloads) == 2 and downloads[0]["detail"] == {
        "name": video["name"], "range": "bytes=100-1123"}
    # Custody: an altered manifest entry is detected.
    manifest_path = rec_dir / rid / "manifest.json"
    manifest = json.loads(manifest_path.read_text())
    manifest["chain"][0]["end_ms"] += 1000
    manifest_path.write_text(json.dumps(manifest))
    status, tampered, _ = await server.request("GET", f"/api/recordings/{rid}", headers=auth)
    assert tampered["custody"]["chain_ok"] is False
    assert tampered["custody"]["problem"] == "entry 0 was altered"
    # Tracks of the two publishers line up on the shared clock.
    starts = [f["start_ms"] for f in files.values()]
    assert max(starts) - min(starts) < 1500, starts
    assert [a["action"] for a in info["audit"]][:3] == ["started", "stopped", "finished"]
