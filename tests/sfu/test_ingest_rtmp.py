"""RTMP feeds: ffmpeg (and PyAV's newer libavformat, for Enhanced RTMP H.265) push to our
listener; only the right app and stream key get in, garbage disturbs nothing."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from ingest_helpers import (FEED_ROOM_SETTINGS, RecordingRunner, assert_frames_come_from, opus_tone_level,
                            received_nal_units)
from media_tools.cameras import end_process, free_port, rtmp_push
from media_tools.clips import annexb_nal_units, make_clip
from media_tools import pyav_push
from sfu_peers import Subscriber, wait_for

pytestmark = pytest.mark.timeout(120)
KEY_PATH = "0123456789abcdef0123456789abcdef/feed"
PYAV_PUSH = Path(pyav_push.__file__)


ROOM_SETTINGS = FEED_ROOM_SETTINGS


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_clip(tmp_path_factory.mktemp("rtmp") / "drone.mp4", seconds=20, gop=25)


@pytest.fixture(scope="module")
def hevc_clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_clip(tmp_path_factory.mktemp("rtmp") / "hevc.mp4", seconds=4, codec="hevc")


@pytest.fixture
def pushes():
    started = []

    def push(clip: Path, url: str):
        proc = rtmp_push(clip, url)
        started.append(proc)
        return proc

    yield push
    for proc in started:
        end_process(proc)


def listen_runner(room, feed_id: str = "drone") -> tuple[RecordingRunner, str]:
    url = f"rtmp://127.0.0.1:{free_port()}/{KEY_PATH}"
    return RecordingRunner(room, feed_id, url, listen=True), url


async def test_rtmp_push_reaches_subscribers_without_reencoding(room, clip, pushes):
    runner, url = listen_runner(room)
    bob = Subscriber(room, "p_bob")
    await runner.start()
    pusher = pushes(clip, url)
    try:
        await runner.wait_state("live", 15)
        status = runner.status
        assert (status.video_codec, status.audio_codec) == ("h264", "aac")
        assert (status.width, status.height) == (640, 360)
        assert {(t.participant_id, t.kind, t.source) for t in room.tracks()} == {
            ("feed-drone", "video", "feed"), ("feed-drone", "audio", "feed")}
        await bob.sync()
        video = bob.stream(bob.mid_of("video"))
        audio = bob.stream(bob.mid_of("audio"))
        await wait_for(lambda: len(video.frames("H264")) >= 60, 20, "60 video frames")
        await asyncio.to_thread(end_process, pusher)  # the loop keeps reading meanwhile
        await runner.wait_state("lost", 10)
        before = len(video.frames("H264"))
        pushes(clip, url)  # the listener is still there: a second push brings it back
        await runner.wait_state("live", 15)
        await wait_for(lambda: len(video.frames("H264")) >= before + 10, 10, "frames again")
    finally:
        started = time.monotonic()
        await runner.stop()
        stop_s = time.monotonic() - started
        await bob.close()
    assert stop_s < 3.0
    assert room.tracks() == []
    assert runner.states() == ["connecting", "live", "lost", "live"]
    frames = received_nal_units(video)
    assert_frames_come_from(frames[:before], annexb_nal_units(clip))
    assert_frames_come_from(frames[before:], annexb_nal_units(clip))  # the second push
    assert opus_tone_level(audio) > 0.02, "the AAC tone did not arrive as Opus"


async def test_wrong_key_and_garbage_are_refused_and_disturb_nothing(room, clip, pushes):
    runner, url = listen_runner(room)
    host_port = url.split("/")[2]
    await runner.start()
    try:
        await asyncio.sleep(0.2)
        wrong_app = pushes(clip, f"rtmp://{host_port}/wrongapp/feed")
        wrong_key = pushes(clip, f"rtmp://{host_port}/{KEY_PATH.split('/')[0]}/nope")
        host, port = host_port.split(":")
        for junk in (b"GET / HTTP/1.1\r\nHost: x\r\n\r\n", b"\x03" + os.urandom(5000)):
            _, writer = await asyncio.open_connection(host, int(port))
            writer.write(junk)
            await writer.drain()
            writer.close()
        await wait_for(lambda: wrong_app.poll() is not None and wrong_key.poll() is not None,
                       15, "ffmpeg to give up on the wrong keys")
        assert wrong_app.returncode != 0 and wrong_key.returncode != 0
        assert runner.states() == ["connecting"] and room.tracks() == []
        pushes(clip, url)
        await runner.wait_state("live", 15)
    finally:
        await runner.stop()


async def test_reconnecting_publisher_replaces_the_stale_connection(room, clip, pushes):
    runner, url = listen_runner(room)
    await runner.start()
    try:
        pushes(clip, url)
        await runner.wait_state("live", 15)
        track_ids = sorted(t.track_id for t in room.tracks())
        pushes(clip, url)  # the drone reconnects while its old connection still looks alive
        await wait_for(lambda: runner.status.retries >= 1, 10, "the old session replaced")
        await runner.wait_state("live", 10)
        assert sorted(t.track_id for t in room.tracks()) == track_ids
    finally:
        await runner.stop()


def push_with_pyav(clip: Path, url: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, str(PYAV_PUSH), str(clip), url],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


async def test_h265_push_gets_a_clear_error_and_the_port_stays_open(room, hevc_clip, clip,
                                                                     pushes):
    runner, url = listen_runner(room)
    await runner.start()
    pusher = None
    try:
        await asyncio.sleep(0.2)
        pusher = push_with_pyav(hevc_clip, url)
        await runner.wait_state("error", 15)
        assert runner.status.error == ("H.265 (HEVC) video is not supported; "
                                       "configure the camera for H.264")
        assert room.tracks() == []
        pushes(clip, url)  # the operator fixed the encoder settings
        await runner.wait_state("live", 15)
        assert runner.status.error is None
    finally:
        await runner.stop()
        if pusher is not None:
            await asyncio.to_thread(end_process, pusher)


async def test_stopping_a_feed_nobody_pushes_to_is_prompt_and_frees_the_port(room):
    runner, url = listen_runner(room, "idle")
    port = int(url.split("/")[2].split(":")[1])
    await runner.start()
    await asyncio.sleep(0.3)
    started = time.monotonic()
    await runner.stop()
    assert time.monotonic() - started < 1.0
    assert runner.states() == ["connecting"]
    server = await asyncio.start_server(lambda r, w: None, "127.0.0.1", port)
    server.close()
