"""The RTMP handshake and chunk stream (the RTMP specification, sections 5.2-5.4): reading
whole messages out of interleaved chunks, and writing our few replies.

Limits keep a hostile peer from growing memory: message size, number of chunk streams,
chunk size.
"""

from __future__ import annotations

import asyncio
import os
import struct
import time
from dataclasses import dataclass

HANDSHAKE_SIZE = 1536
RTMP_VERSION = 3
DEFAULT_CHUNK_SIZE = 128
MAX_CHUNK_SIZE = 1 << 20
MAX_MESSAGE_SIZE = 8 << 20
MAX_CHUNK_STREAMS = 64

SET_CHUNK_SIZE, ABORT, ACK, USER_CONTROL, WINDOW_ACK_SIZE, PEER_BANDWIDTH = 1, 2, 3, 4, 5, 6
AUDIO, VIDEO, DATA_AMF3, COMMAND_AMF3, DATA_AMF0, COMMAND_AMF0 = 8, 9, 15, 17, 18, 20


class RtmpError(ValueError):
    """The peer broke the RTMP protocol; the message says how."""


@dataclass(frozen=True)
class Message:
    type_id: int
    stream_id: int
    timestamp: int  # milliseconds
    payload: bytes


async def server_handshake(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """The plain handshake. S1's version field is zero, which tells clients not to look
    for the Flash digest (ffmpeg, OBS and librtmp publishers accept that)."""
    c0 = await reader.readexactly(1)
    if c0[0] != RTMP_VERSION:
        raise RtmpError(f"not an RTMP client: first byte 0x{c0[0]:02x}, expected 0x03")
    c1 = await reader.readexactly(HANDSHAKE_SIZE)
    s1 = struct.pack(">II", int(time.monotonic() * 1000) & 0xFFFFFFFF, 0)
    s1 += os.urandom(HANDSHAKE_SIZE - 8)
    writer.write(bytes([RTMP_VERSION]) + s1 + c1)
    await writer.drain()
    await reader.readexactly(HANDSHAKE_SIZE)  # C2: the echo of S1, nothing to check


@dataclass
class _ChunkState:
    timestamp: int = 0
    delta: int = 0
    length: int = 0
    type_id: int = 0
    stream_id: int = 0
    extended: bool = False
    buffer: bytearray | None = None


class ChunkReader:
    def __init__(self, reader: asyncio.StreamReader) -> None:
        self._reader = reader
        self.chunk_size = DEFAULT_CHUNK_SIZE
        self.bytes_read = 0
        self._streams: dict[int, _ChunkState] = {}

    async def _read(self, size: int) -> bytes:
        data = await self._reader.readexactly(size)
        self.bytes_read += size
        return data

    async def read_message(self) -> Message:
        while True:
            message = await self._read_chunk()
            if message is None:
                continue
            if message.type_id == SET_CHUNK_SIZE:
                self._set_chunk_size(message.payload)
                continue
            if message.type_id == ABORT and len(message.payload) >= 4:
                state = self._streams.get(struct.unpack(">I", message.payload[:4])[0])
                if state is not None:
                    state.buffer = None
                continue
            return message

    def _set_chunk_size(self, payload: bytes) -> None:
        if len(payload) < 4:
            raise RtmpError("Set Chunk Size message shorter than 4 bytes")
        size = struct.unpack(">I", payload[:4])[0] & 0x7FFFFFFF
        if not 1 <= size <= MAX_CHUNK_SIZE:
            raise RtmpError(f"chunk size {size} outside 1..{MAX_CHUNK_SIZE}")
        self.chunk_size = size

    async def _read_chunk(self) -> Message | None:
        first = (await self._read(1))[0]
        fmt, csid = first >> 6, first & 0x3F
        if csid == 0:
            csid = 64 + (await self._read(1))[0]
        elif csid == 1:
            b = await self._read(2)
            csid = 64 + b[0] + (b[1] << 8)
        state = self._streams.get(csid)
        if state is None:
            if fmt != 0:
                raise RtmpError(f"chunk stream {csid} starts with a type {fmt} header")
            if len(self._streams) >= MAX_CHUNK_STREAMS:
                raise RtmpError(f"more than {MAX_CHUNK_STREAMS} chunk streams")
            state = self._streams[csid] = _ChunkState()
        await self._read_header(fmt, state)
        if state.buffer is None:
            state.buffer = bytearray()
        want = min(self.chunk_size, state.length - len(state.buffer))
        state.buffer += await self._read(want)
        if len(state.buffer) < state.length:
            return None
        payload, state.buffer = bytes(state.buffer), None
        return Message(state.type_id, state.stream_id, state.timestamp, payload)

    async def _read_header(self, fmt: int, state: _ChunkState) -> None:
        starting = state.buffer is None
        if fmt == 3:
            if state.extended:
                await self._read(4)  # the extended timestamp is repeated; we keep ours
            if starting:
                state.timestamp = (state.timestamp + state.delta) & 0xFFFFFFFF
            return
        if not starting:
            raise RtmpError(f"type {fmt} chunk header in the middle of a message")
        raw = await self._read((11, 7, 3)[fmt])
        stamp = int.from_bytes(raw[0:3], "big")
        if fmt <= 1:
            state.length = int.from_bytes(raw[3:6], "big")
            state.type_id = raw[6]
            if state.length > MAX_MESSAGE_SIZE:
                raise RtmpError(f"message of {state.length} bytes exceeds {MAX_MESSAGE_SIZE}")
        if fmt == 0:
            state.stream_id = struct.unpack("<I", raw[7:11])[0]
        state.extended = stamp == 0xFFFFFF
        if state.extended:
            stamp = struct.unpack(">I", await self._read(4))[0]
        if fmt == 0:
            # A following type-3 message start adds this field again, as ffmpeg reads it.
            state.timestamp, state.delta = stamp, stamp
        else:
            state.delta = stamp
            state.timestamp = (state.timestamp + stamp) & 0xFFFFFFFF


class ChunkWriter:
    """Our messages, each in fmt-0 chunks of `chunk_size` (we send few and small ones)."""

    def __init__(self, writer: asyncio.StreamWriter, chunk_size: int = 4096) -> None:
        self._writer = writer
        self.chunk_size = DEFAULT_CHUNK_SIZE
        self._wanted_chunk_size = chunk_size

    def start(self) -> None:
        self.send(2, SET_CHUNK_SIZE, 0, struct.pack(">I", self._wanted_chunk_size))
        self.chunk_size = self._wanted_chunk_size

    def send(self, csid: int, type_id: int, stream_id: int, payload: bytes) -> None:
        header = bytes([csid & 0x3F]) + (0).to_bytes(3, "big") + len(payload).to_bytes(3, "big")
        header += bytes([type_id]) + struct.pack("<I", stream_id)
        out = bytearray(header)
        for pos in range(0, len(payload), self.chunk_size):
            if pos:
                out.append(0xC0 | (csid & 0x3F))
            out += payload[pos:pos + self.chunk_size]
        self._writer.write(bytes(out))

    def control(self, type_id: int, value: int, extra: bytes = b"") -> None:
        self.send(2, type_id, 0, struct.pack(">I", value) + extra)

    async def drain(self) -> None:
        await self._writer.drain()
