"""Device feeds into a room, with real devices played by real tools: a GStreamer RTSP
camera and an ffmpeg RTMP push, received by an aiortc subscriber."""

from __future__ import annotations

import asyncio
import dataclasses
import os
import signal
import time
from pathlib import Path

import av
import pytest

from ingest_helpers import (FAST, FEED_ROOM_SETTINGS, RecordingRunner, assert_frames_come_from, opus_tone_level,
                            received_nal_units)
from media_tools.cameras import RtspCamera, free_port
from media_tools.clips import annexb_nal_units, make_clip
from sfu.ingest.h264 import NAL_SPS, nal_type
from sfu.rtcp_events import SenderReport
from sfu.rtcp_stats import NTP_EPOCH_OFFSET
from sfu_peers import Subscriber, wait_for
from sfu_whep import WhepPlayer

pytestmark = pytest.mark.timeout(120)


ROOM_SETTINGS = FEED_ROOM_SETTINGS


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_clip(tmp_path_factory.mktemp("feeds") / "cam.mp4", seconds=20, gop=25)


@pytest.fixture(scope="module")
def hevc_clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_clip(tmp_path_factory.mktemp("feeds") / "hevc.mp4", seconds=12, codec="hevc")


@pytest.fixture
def cameras():
    started: list[RtspCamera] = []

    def start(**kwargs) -> RtspCamera:
        camera = RtspCamera(**kwargs)
        camera.start()
        started.append(camera)
        return camera

    yield start
    for camera in started:
        camera.stop()


def sender_report_wall_clock(stream) -> float:
    reports = [e for e in stream.rtcp if isinstance(e, SenderReport)]
    assert reports, "no sender report for the feed track"
    return reports[-1].ntp / (1 << 32) - NTP_EPOCH_OFFSET


async def test_rtsp_camera_reaches_subscribers_without_reencoding(room, clip, cameras):
    camera = cameras(file=clip)
    runner = RecordingRunner(room, "cam1", camera.url)
    bob = Subscriber(room, "p_bob")
    try:
        await runner.start()
        await wait_for(lambda: len(room.tracks()) == 2, 15, "the feed's two tracks")
        assert {(t.participant_id, t.name, t.kind, t.source, t.codec) for t in room.tracks()} == {
            ("feed-cam1", "Camera cam1", "video", "feed", "H264"),
            ("feed-cam1", "Camera cam1", "audio", "feed", "opus")}
        await bob.sync()
        video = bob.stream(bob.mid_of("video"))
        audio = bob.stream(bob.mid_of("audio"))
        await wait_for(lambda: len(video.frames("H264")) >= 60, 20, "60 video frames")
        await wait_for(lambda: any(isinstance(e, SenderReport) for e in video.rtcp)
                       and any(isinstance(e, SenderReport) for e in audio.rtcp), 5, "SRs")
        status = runner.status
        assert status.state == "live" and status.error is None
        assert (status.width, status.height) == (640, 360)
        assert (status.video_codec, status.audio_codec) == ("h264", "aac")
        assert 20_000 < status.bitrate_bps < 5_000_000
        assert time.time() - status.last_frame_at < 1.0
        assert runner.states() == ["connecting", "live"]
        for stream in (video, audio):  # lip sync needs SRs on the wall clock
            assert abs(sender_report_wall_clock(stream) - time.time()) < 3.0
        started = time.monotonic()
        await runner.stop()
        assert time.monotonic() - started < 3.0
        assert room.tracks() == []
    finally:
        await runner.stop()
        await bob.close()
    frames = received_nal_units(video)
    assert nal_type(frames[0][0]) == NAL_SPS, "a subscriber starts at a keyframe with its SPS"
    assert_frames_come_from(frames, annexb_nal_units(clip))
    assert opus_tone_level(audio) > 0.02, "the AAC tone did not arrive as Opus"


async def test_feed_goes_lost_and_comes_back_when_the_camera_restarts(room, cameras):
    camera = cameras(live=True)
    runner = RecordingRunner(room, "cam2", camera.url)
    bob = Subscriber(room, "p_bob")
    try:
        await runner.start()
        await runner.wait_state("live", 15)
        track_ids = [t.track_id for t in room.tracks()]
        await bob.sync()
        video = bob.stream(bob.mid_of("video"))
        await wait_for(lambda: len(video.frames("H264")) >= 10, 15, "frames before")
        camera.stop()
        await runner.wait_state("lost", 10)
        assert runner.status.error
        assert [t.track_id for t in room.tracks()] == track_ids, "tracks stay while lost"
        before = len(video.frames("H264"))
        camera.start()
        started = time.monotonic()
        await runner.wait_state("live", 10)
        await wait_for(lambda: len(video.frames("H264")) >= before + 10, 10, "frames after")
        assert time.monotonic() - started < 10
        assert runner.states() == ["connecting", "live", "lost", "live"]
        assert runner.status.retries >= 1
    finally:
        await runner.stop()
        await bob.close()


async def test_a_frozen_camera_counts_as_lost_after_the_read_timeout(room, cameras):
    """No FIN, no RST (a cable pulled, a camera hung): the read timeout ends the wait."""
    camera = cameras(live=True, audio=False)
    runner = RecordingRunner(room, "frozen", camera.url)
    try:
        await runner.start()
        await runner.wait_state("live", 15)
        os.kill(camera.proc.pid, signal.SIGSTOP)
        frozen_at = time.monotonic()
        try:
            await runner.wait_state("lost", 15)
            took = time.monotonic() - frozen_at
            assert took < FAST.read_timeout_s + 5, f"lost only after {took:.1f} s"
            assert runner.status.error == "the source dropped: timed out", runner.status.error
        finally:
            os.kill(camera.proc.pid, signal.SIGCONT)
        await runner.wait_state("live", 15)
    finally:
        started = time.monotonic()
        await runner.stop()
        assert time.monotonic() - started < 3.0


async def test_unreachable_camera_retries_without_disturbing_another_feed(room, cameras):
    camera = cameras(live=True, audio=False)
    good = RecordingRunner(room, "good", camera.url)
    dead = RecordingRunner(room, "dead", f"rtsp://admin:s3cret@127.0.0.1:{free_port()}/cam")
    bob = Subscriber(room, "p_bob")
    try:
        await good.start()
        await good.wait_state("live", 15)
        await bob.sync()
        video = bob.stream(bob.mid_of("video"))
        await wait_for(lambda: len(video.frames("H264")) >= 5, 10, "frames")
        await dead.start()
        await wait_for(lambda: dead.status.retries >= 3, 10, "three retries")
        assert dead.states() == ["connecting", "lost"]
        assert "Connection refused" in dead.status.error
        assert "s3cret" not in dead.status.error and "rtsp://***@127.0.0.1:" in dead.status.error
        assert dead.status.last_frame_at is None
        before = len(video.frames("H264"))
        await wait_for(lambda: len(video.frames("H264")) >= before + 25, 5, "frames flowing")
        assert {t.participant_id for t in room.tracks()} == {"feed-good"}
        assert good.states() == ["connecting", "live"]
    finally:
        await dead.stop()
        await good.stop()
        await bob.close()


async def test_h265_camera_gets_a_clear_error_and_no_tracks(room, hevc_clip, cameras):
    camera = cameras(file=hevc_clip, codec="h265")
    runner = RecordingRunner(room, "hevc", camera.url)
    try:
        await runner.start()
        await runner.wait_state("error", 15)
        assert runner.status.error == ("H.265 (HEVC) video is not supported; "
                                       "configure the camera for H.264")
        assert runner.states() == ["connecting", "error"]
        assert room.tracks() == []
    finally:
        await runner.stop()


async def test_feed_tracks_play_over_whep(room, clip, cameras):
    camera = cameras(file=clip)
    runner = RecordingRunner(room, "whep", camera.url)
    player = WhepPlayer(room, ("video", "audio"))
    streams = player.streams
    try:
        await runner.start()
        await runner.wait_state("live", 15)
        session_id = await player.play([t.track_id for t in room.tracks()])
        await wait_for(lambda: len(streams["video"].frames("H264")) >= 30, 15, "WHEP video")
        await wait_for(lambda: len(streams["audio"].packets) >= 50, 5, "WHEP audio")
        assert await room.stop_session(session_id)
    finally:
        await runner.stop()
        await player.close()
    frames = received_nal_units(streams["video"])
    assert nal_type(frames[0][0]) == NAL_SPS
    assert_frames_come_from(frames, annexb_nal_units(clip))


async def test_h265_camera_is_transcoded_when_configured(room, hevc_clip, cameras):
    """[feeds] transcode_h265: the picture arrives as H.264 a browser decodes, and a late
    joiner gets an IDR on its PLI instead of waiting for the 5 s GOP."""
    camera = cameras(file=hevc_clip, codec="h265")
    settings = dataclasses.replace(FAST, transcode_h265=True, transcode_bitrate_bps=500_000)
    runner = RecordingRunner(room, "h265", camera.url, settings=settings)
    bob = Subscriber(room, "p_bob")
    try:
        await runner.start()
        await runner.wait_state("live", 15)
        assert (runner.status.video_codec, runner.status.width) == ("hevc", 640)
        await asyncio.sleep(1.0)  # past the first IDR; the next natural one is 4 s away
        joined = time.time()
        await bob.sync()
        video = bob.stream(bob.mid_of("video"))
        await wait_for(lambda: len(video.frames("H264")) >= 10, 15, "transcoded frames")
        assert video.arrivals[0] - joined < 3.0, "the late joiner waited for the GOP"
    finally:
        await runner.stop()
        await bob.close()
    decoder = av.CodecContext.create("h264", "r")
    pictures = [f for _, data in video.frames("H264") for f in decoder.decode(av.Packet(data))]
    assert pictures and (pictures[0].width, pictures[0].height) == (640, 360)
