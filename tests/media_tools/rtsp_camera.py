#!/usr/bin/python3
"""A simulated IP camera: Debian's GStreamer RTSP server on 127.0.0.1.

Run with the system python (python3-gi, gir1.2-gst-rtsp-server-1.0), not the venv:
    /usr/bin/python3 tests/media_tools/rtsp_camera.py --file clip.mp4 [--port 0] [--path /cam]
    /usr/bin/python3 tests/media_tools/rtsp_camera.py --live [--codec h264|h265]
--file serves an MP4 (H.264 or H.265 video, optional AAC audio) without re-encoding it,
in real time, from its start for every client; --live encodes an endless test pattern
and tone. Prints "READY rtsp://127.0.0.1:<port><path>" once it listens; stops on SIGTERM.
"""

import argparse
import signal
import sys

import gi

gi.require_version("Gst", "1.0")
gi.require_version("GstRtspServer", "1.0")
from gi.repository import GLib, Gst, GstRtspServer  # noqa: E402


def file_launch(path: str, codec: str, audio: bool) -> str:
    video = ("h265parse config-interval=-1 ! rtph265pay name=pay0 pt=96" if codec == "h265"
             else "h264parse config-interval=-1 ! rtph264pay name=pay0 pt=96")
    launch = f"( filesrc location={path} ! qtdemux name=d d.video_0 ! queue ! {video}"
    if audio:
        launch += " d.audio_0 ! queue ! aacparse ! rtpmp4gpay name=pay1 pt=97"
    return launch + " )"


def live_launch(codec: str, audio: bool, width: int, height: int, fps: int) -> str:
    caps = f"video/x-raw,width={width},height={height},framerate={fps}/1"
    if codec == "h265":
        enc = ("x265enc speed-preset=ultrafast tune=zerolatency key-int-max=30 ! "
               "h265parse config-interval=-1 ! rtph265pay name=pay0 pt=96")
    else:
        enc = ("x264enc speed-preset=ultrafast tune=zerolatency key-int-max=30 ! "
               "video/x-h264,profile=constrained-baseline ! "
               "h264parse config-interval=-1 ! rtph264pay name=pay0 pt=96")
    launch = f"( videotestsrc is-live=true pattern=ball ! {caps} ! videoconvert ! {enc}"
    if audio:
        launch += (" audiotestsrc is-live=true wave=sine freq=440 ! audioconvert ! "
                   "audioresample ! avenc_aac ! aacparse ! rtpmp4gpay name=pay1 pt=97")
    return launch + " )"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--file")
    parser.add_argument("--live", action="store_true")
    parser.add_argument("--codec", choices=("h264", "h265"), default="h264")
    parser.add_argument("--no-audio", action="store_true")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--path", default="/cam")
    parser.add_argument("--size", default="640x360")
    parser.add_argument("--fps", type=int, default=25)
    args = parser.parse_args()
    if bool(args.file) == args.live:
        parser.error("give exactly one of --file and --live")
    Gst.init(None)
    width, height = (int(v) for v in args.size.split("x"))
    launch = (file_launch(args.file, args.codec, not args.no_audio) if args.file
              else live_launch(args.codec, not args.no_audio, width, height, args.fps))
    server = GstRtspServer.RTSPServer()
    server.set_address("127.0.0.1")
    server.set_service(str(args.port))
    factory = GstRtspServer.RTSPMediaFactory()
    factory.set_launch(launch)
    factory.set_shared(bool(args.live))
    server.get_mount_points().add_factory(args.path, factory)
    if server.attach(None) == 0:
        print(f"ERROR cannot listen on 127.0.0.1:{args.port}", flush=True)
        return 1
    loop = GLib.MainLoop()
    GLib.unix_signal_add(GLib.PRIORITY_DEFAULT, signal.SIGTERM, loop.quit)
    GLib.unix_signal_add(GLib.PRIORITY_DEFAULT, signal.SIGINT, loop.quit)
    print(f"READY rtsp://127.0.0.1:{server.get_bound_port()}{args.path}", flush=True)
    loop.run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
