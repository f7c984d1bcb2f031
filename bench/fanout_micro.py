"""CPU of the SFU's own per-packet path, in one process, insensitive to other load.

    python -m bench.fanout_micro [--subscribers 10] [--packets 20000] [--repeats 5]
                                 [--send native|python|none]

One published VP8 track with S down tracks, fed synthetic RTP packets (a keyframe, then
deltas, 1,100-byte payloads with a VP8 descriptor) through `PublishedTrack.receive`, as
the transport's fast path delivers them. Each down track's copy is really SRTP-protected
and sent with `sendto` on its own UDP socket towards a loopback sink that never reads
(so the kernel's work per datagram is in the figure too): by the native route
(sfu/_fastsend.c, the default) or by the Python fallback (--send python); with
--send none the copies end before SRTP, which isolates the Python that decides. The figure is process CPU time
(`time.process_time`) per forwarded copy: other processes on the machine slow the run
down but barely change it. What it leaves out: receiving (UDP, SRTP unprotect, RTP
parse), RTCP, timers, signalling; `python -m bench` measures all of that.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import statistics
import sys
import time

from aiortc import rtp
from pylibsrtp import Policy, Session

from sfu import native_send
from sfu.codecs import CodecSpec
from sfu.down_track import DownTrack
from sfu.published_track import PublishedTrack
from sfu.rtp_rewriter import patched_copy
from sfu.settings import SfuSettings
from sfu.tracks import TrackInfo

VP8 = CodecSpec(96, "video/VP8", 90000, feedback=(("nack", None), ("nack", "pli")))
ABS_SEND_TIME = "http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time"
PAYLOAD_BYTES = 1100
PACKETS_PER_FRAME = 5


def _payload(picture_id: int, first: bool, keyframe: bool) -> bytes:
    descriptor = bytes([0x90 if first else 0x80, 0x80, 0x80 | (picture_id >> 8) & 0x7F,
                        picture_id & 0xFF])
    header = bytes([0x10 if keyframe else 0x11]) if first else b"\x00"
    if keyframe and first:  # start code and a 1280x720 size, as a keyframe carries
        header += b"\x00\x00\x9d\x01\x2a\x00\x05\xd0\x02"
    return descriptor + header + bytes(PAYLOAD_BYTES - len(descriptor) - len(header))


def packets(count: int) -> list[rtp.RtpPacket]:
    out = []
    for i in range(count):
        frame, index = divmod(i, PACKETS_PER_FRAME)
        packet = rtp.RtpPacket(payload_type=96, sequence_number=i & 0xFFFF,
                               timestamp=(frame * 3000) & 0xFFFFFFFF, ssrc=1234,
                               marker=int(index == PACKETS_PER_FRAME - 1),
                               payload=_payload(frame & 0x7FFF, index == 0, frame == 0))
        out.append(packet)
    return out


class _Writer:
    """A down track's writer towards a loopback sink: the SFU's native route, or the
    Python path (patched copy, pylibsrtp, sendto), or nothing (--no-send)."""

    def __init__(self, sink: tuple[str, int], mode: str) -> None:
        key = os.urandom(30)
        self.session = Session(policy=Policy(key=key, ssrc_type=Policy.SSRC_ANY_OUTBOUND))
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.setblocking(False)
        self.native = None
        if mode == "native":
            self.native = native_send.route(self.sock.fileno(), sink[0], sink[1],
                                            self.session)
            if self.native is None:
                raise SystemExit(f"no native send path: {native_send.available()[1]}")
        self.sink, self.mode = sink, mode

    def send(self, data: bytes) -> bool:
        if self.mode != "none":
            try:
                self.sock.sendto(self.session.protect(data), self.sink)
            except BlockingIOError:
                pass
        return True

    def write(self, data: bytes, *header: int) -> bool:
        if self.native is not None:
            self.native.send(data, *header)
            return True
        return self.send(patched_copy(data, *header))


async def run(subscribers: int, count: int, mode: str) -> float:
    """Microseconds of CPU per forwarded copy (a coroutine: keyframe requests need a loop)."""
    sink = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sink.bind(("127.0.0.1", 0))
    info = TrackInfo("t_bench", "p_bench", "bench", "video", "camera", "VP8")
    track = PublishedTrack(info, VP8, None, SfuSettings(), lambda data: None, 1, 1234)
    sockets = [sink]
    for n in range(subscribers):
        down = DownTrack("video", 10_000 + n, 20_000 + n, None, "bench")
        writer = _Writer(sink.getsockname(), mode)
        down._send, down._write = writer.send, writer.write
        sockets.append(writer.sock)
        down.configure([VP8], {ABS_SEND_TIME: 3})
        down.attach(track)
        down.set_ready()
    batch = packets(count)
    started = time.process_time()
    for packet in batch:
        track.receive(packet)
    used = time.process_time() - started
    sent = sum(d.packets_sent for d in track.downs)
    for sock in sockets:
        sock.close()
    return 1e6 * used / max(1, sent)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.fanout_micro", description=__doc__)
    parser.add_argument("--subscribers", type=int, default=10)
    parser.add_argument("--packets", type=int, default=20_000)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--send", choices=("native", "python", "none"), default="native",
                        help="native: sfu/_fastsend.c (the default path); python: the "
                             "fallback; none: stop before SRTP and sendto")
    args = parser.parse_args(argv)
    results = [asyncio.run(run(args.subscribers, args.packets, args.send))
               for _ in range(args.repeats)]
    print(f"S={args.subscribers} send={args.send}: "
          f"median {statistics.median(results):.2f} us CPU per forwarded copy "
          f"(runs: {', '.join(f'{r:.2f}' for r in results)})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
