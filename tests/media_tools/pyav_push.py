"""Push a clip's video to an RTMP URL by stream copy with PyAV's libavformat, which
writes Enhanced RTMP (H.265 in FLV) that Debian's ffmpeg 5.1 cannot. A separate process:
PyAV holds the GIL while it connects, which would stall an event loop in the same process.

    python tests/media_tools/pyav_push.py clip.mp4 rtmp://127.0.0.1:1935/app/key
"""

import sys
import time

import av


def main(clip: str, url: str) -> int:
    with av.open(clip) as source, av.open(url, "w", format="flv") as sink:
        stream = sink.add_stream_from_template(source.streams.video[0])
        started = time.monotonic()
        for packet in source.demux(source.streams.video[0]):
            if packet.dts is None:
                continue
            delay = float(packet.dts * packet.time_base) - (time.monotonic() - started)
            if delay > 0:
                time.sleep(delay)
            packet.stream = stream
            try:
                sink.mux(packet)
            except av.FFmpegError as exc:
                print(f"push ended: {exc}", file=sys.stderr)
                return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2]))
