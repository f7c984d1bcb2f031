"""The native send path (sfu/_fastsend.c) writes exactly what the Python path writes.

Each copy is decrypted by a receiving libsrtp session keyed like the sender's and
compared byte for byte with `patched_copy` (the Python twin), over real UDP sockets on
127.0.0.1 and ::1; then a room forwards real media both ways.
"""

from __future__ import annotations

import dataclasses
import os
import random
import socket

import pytest
from pylibsrtp import Policy, Session

from sfu import RoomMedia, native_send
from sfu.rtp_rewriter import patched_copy
from sfu_media import EncodedVideoTrack, encoded_frames
from sfu_peers import Publisher, Subscriber, wait_for
from conftest import LOOPBACK_SETTINGS


def test_the_native_path_is_built():
    """`make test` installs a C compiler, so the extension must be there (not skipped)."""
    assert native_send.available() == (True, "")


class Link:
    """A sender session + socket and a receiver session + socket, one key."""

    def __init__(self, host: str = "127.0.0.1") -> None:
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        key = os.urandom(30)
        self.tx = Session(Policy(key=key, ssrc_type=Policy.SSRC_ANY_OUTBOUND))
        self.rx = Session(Policy(key=key, ssrc_type=Policy.SSRC_ANY_INBOUND))
        self.sink = socket.socket(family, socket.SOCK_DGRAM)
        self.sink.bind((host, 0))
        self.sink.settimeout(2)
        self.out = socket.socket(family, socket.SOCK_DGRAM)
        self.out.setblocking(False)
        self.route = native_send.route(self.out.fileno(), host, self.sink.getsockname()[1],
                                       self.tx)
        assert self.route is not None

    def received(self) -> bytes:
        return self.rx.unprotect(self.sink.recv(4096))

    def close(self) -> None:
        self.sink.close()
        self.out.close()


def packet(rng: random.Random, payload_len: int, extension: bool) -> tuple[bytes, int]:
    """A serialised RTP packet (optionally with a one-byte header extension block) and
    its header length."""
    header = bytes([0x90 if extension else 0x80, rng.randrange(128)]) + rng.randbytes(10)
    if extension:
        header += b"\xbe\xde\x00\x01" + bytes([0x30, rng.randrange(256), 0, 0])
    return header + rng.randbytes(payload_len), len(header)


@pytest.mark.parametrize("host", ["127.0.0.1", "::1"])
def test_native_copies_equal_the_python_copies(host):
    rng = random.Random(7)
    link = Link(host)
    try:
        for seq in range(300):
            data, header_len = packet(rng, rng.randrange(4, 1200), rng.random() < 0.5)
            bits = rng.choice([0, 7, 15])
            pid_at = -1 if not bits else rng.randrange(0, 2)
            tl0_at = rng.choice([-1, 2, 3])
            args = (header_len, rng.randrange(128), (1000 + seq) & 0xFFFF,
                    rng.randrange(1 << 32), rng.randrange(1 << 32), pid_at, bits,
                    rng.randrange(1 << 15), tl0_at, rng.randrange(256))
            assert link.route.send(data, *args) is True
            assert link.received() == patched_copy(data, *args), f"copy {seq} differs"
        assert (link.route.sent, link.route.dropped, link.route.failed) == (300, 0, 0)
    finally:
        link.close()


def test_send_raw_protects_the_packet_as_given():
    link = Link()
    try:
        data, _ = packet(random.Random(1), 900, True)
        assert link.route.send_raw(data) is True
        assert link.received() == data
    finally:
        link.close()


def test_bad_calls_raise_clear_errors_and_send_nothing():
    link = Link()
    try:
        data, header_len = packet(random.Random(2), 100, False)
        header = (header_len, 96, 1, 2, 3, -1, 0, 0, -1, 0)
        assert link.route.send(bytes(2000), *header) is False  # dropped, counted
        assert link.route.send_raw(bytes(1601)) is False
        assert link.route.oversized == 2
        with pytest.raises(ValueError, match="RTP packet of 5 bytes"):
            link.route.send_raw(b"\x80" * 5)
        with pytest.raises(ValueError, match="header length"):
            link.route.send(data, len(data) + 1, *header[1:])
        with pytest.raises(ValueError, match="picture id outside"):
            link.route.send(data, header_len, 96, 1, 2, 3, 100, 15, 5, -1, 0)
        with pytest.raises(TypeError, match="11 arguments"):
            link.route.send(data, header_len)
        with pytest.raises(TypeError):
            link.route.send("text", *header)
        assert link.route.sent == 0
        link.sink.settimeout(0.2)
        with pytest.raises(socket.timeout):
            link.sink.recv(4096)
    finally:
        link.close()


def test_a_closed_socket_fails_the_send_without_raising():
    link = Link()
    link.out.close()  # the fd is gone (no other socket is opened in between)
    try:
        data, header_len = packet(random.Random(3), 100, False)
        assert link.route.send(data, header_len, 96, 1, 2, 3, -1, 0, 0, -1, 0) is False
        assert link.route.failed == 1
    finally:
        link.sink.close()


def test_routes_need_a_numeric_address_and_a_session():
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    session = Session(Policy(key=os.urandom(30), ssrc_type=Policy.SSRC_ANY_OUTBOUND))
    try:
        assert native_send.route(sock.fileno(), "localhost", 5000, session) is None
        assert native_send.route(sock.fileno(), "127.0.0.1", 0, session) is None
        assert native_send.route(sock.fileno(), "127.0.0.1", 5000, None) is None
        assert native_send.route(sock.fileno(), "127.0.0.1", 5000, session) is not None
    finally:
        sock.close()


@pytest.mark.parametrize("native", [True, False])
async def test_a_room_forwards_identical_frames_either_way(native):
    """Real aiortc peers: the subscriber's video arrives through the path asked for and
    its frames are the published ones."""
    room = RoomMedia("r_native", dataclasses.replace(LOOPBACK_SETTINGS, native_send=native))
    frames = encoded_frames("vp8")
    alice = Publisher(room, "p_alice")
    alice.add(EncodedVideoTrack(frames), "camera")
    bob = Subscriber(room, "p_bob")
    try:
        await alice.publish()
        await bob.sync()
        stream = bob.stream(bob.mid_of("video"))
        await wait_for(lambda: len(stream.frames("VP8")) >= 30, 10, "30 frames")
        received = [data for _, data in stream.frames("VP8")]
        [down] = [s.down for s in room._subscribers["p_bob"].slots if s.kind == "video"]
        assert (down.writer.native is not None) == native
        if native:
            assert down.writer.native.sent >= down.packets_sent > 0
    finally:
        await alice.close()
        await bob.close()
        await room.close()
    start = frames.index(received[0])
    assert received == [frames[(start + i) % len(frames)] for i in range(len(received))]
