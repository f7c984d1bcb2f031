"""A small RTMP ingest server: one TCP port per feed, accepting a publisher only when the
app and stream name it publishes to are exactly the feed's (the secret is in them).

ffmpeg's own listen mode accepts any app and stream name and leaves the port closed
between connections; this server keeps listening, rejects wrong names and garbage with
a log line, and lets a reconnecting publisher (a drone back in range) replace a stale
connection. Media messages of the accepted publisher go to the sink `accept` returns.
"""

from __future__ import annotations

import asyncio
import logging
import struct
from collections.abc import Callable
from typing import Any, Protocol

from sfu.ingest import amf0
from sfu.ingest.rtmp_chunks import (ACK, AUDIO, COMMAND_AMF0, COMMAND_AMF3, DATA_AMF0,
                                    DATA_AMF3, PEER_BANDWIDTH, USER_CONTROL, VIDEO,
                                    WINDOW_ACK_SIZE, ChunkReader, ChunkWriter, Message,
                                    RtmpError, server_handshake)

logger = logging.getLogger(__name__)

HANDSHAKE_TIMEOUT_S = 5.0
PUBLISH_TIMEOUT_S = 10.0  # from TCP accept to a valid publish command
MAX_PENDING = 8  # connections not yet publishing, per port
WINDOW = 2_500_000
STREAM_ID = 1


class MediaSink(Protocol):
    def on_message(self, message: Message) -> None: ...

    def on_end(self, reason: str) -> None: ...


AcceptCallback = Callable[["RtmpConnection"], MediaSink | None]


class RtmpListener:
    def __init__(self, host: str, port: int, app: str, stream: str,
                 accept: AcceptCallback) -> None:
        self.host, self.port, self.app, self.stream = host, port, app, stream
        self._accept = accept
        self._server: asyncio.AbstractServer | None = None
        self._connections: set[RtmpConnection] = set()
        self._handlers: set[asyncio.Task[Any]] = set()

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._serve, self.host, self.port)

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
        for conn in list(self._connections):
            conn.close()
        if self._handlers:  # let them see the closed socket and end (3.11 does not wait)
            await asyncio.wait(list(self._handlers), timeout=2.0)
        if self._server is not None:
            await self._server.wait_closed()
            self._server = None

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        pending = sum(1 for c in self._connections if c.sink is None)
        if pending >= MAX_PENDING:
            writer.close()
            return
        conn = RtmpConnection(self, reader, writer)
        task = asyncio.current_task()
        self._connections.add(conn)
        if task is not None:
            self._handlers.add(task)
        try:
            await conn.run()
        finally:
            self._connections.discard(conn)
            self._handlers.discard(task)  # type: ignore[arg-type]


class RtmpConnection:
    def __init__(self, listener: RtmpListener, reader: asyncio.StreamReader,
                 writer: asyncio.StreamWriter) -> None:
        self.listener = listener
        self.peer = writer.get_extra_info("peername")
        self.sink: MediaSink | None = None
        self._reader = reader
        self._writer = writer
        self._out = ChunkWriter(writer)
        self._chunks = ChunkReader(reader)
        self._app: str | None = None
        self._ack_window = 0
        self._acked = 0
        self._end_reason = "the publisher disconnected"

    def close(self, reason: str | None = None) -> None:
        if reason is not None:
            self._end_reason = reason
        self._writer.close()

    async def run(self) -> None:
        try:
            await asyncio.wait_for(server_handshake(self._reader, self._writer),
                                   HANDSHAKE_TIMEOUT_S)
            self._out.start()
            await asyncio.wait_for(self._until_publishing(), PUBLISH_TIMEOUT_S)
            while True:
                self._dispatch(await self._chunks.read_message())
        except (RtmpError, amf0.AmfError) as exc:
            self._end_reason = f"RTMP protocol error: {exc}"
            logger.info("RTMP %s from %s: %s", self.listener.port, self.peer, exc)
        except asyncio.TimeoutError:
            self._end_reason = "the publisher stalled"
            logger.info("RTMP %s from %s: timed out before publishing", self.listener.port,
                        self.peer)
        except (asyncio.IncompleteReadError, ConnectionError, OSError):
            pass
        finally:
            self._writer.close()
            if self.sink is not None:
                self.sink.on_end(self._end_reason)

    async def _until_publishing(self) -> None:
        while self.sink is None:
            message = await self._chunks.read_message()
            self._count(message)
            if message.type_id in (COMMAND_AMF0, COMMAND_AMF3):
                await self._command(message)
            elif message.type_id == WINDOW_ACK_SIZE and len(message.payload) >= 4:
                self._ack_window = struct.unpack(">I", message.payload[:4])[0]

    def _dispatch(self, message: Message) -> None:
        self._count(message)
        if message.type_id in (AUDIO, VIDEO, DATA_AMF0, DATA_AMF3):
            assert self.sink is not None
            self.sink.on_message(message)
        elif message.type_id in (COMMAND_AMF0, COMMAND_AMF3):
            values = _command_values(message)
            if values and values[0] in ("deleteStream", "FCUnpublish", "closeStream"):
                self.close("the publisher stopped publishing")

    def _count(self, message: Message) -> None:
        """Acknowledge received bytes when the publisher asked for it (Window Ack Size)."""
        if self._ack_window and self._chunks.bytes_read - self._acked >= self._ack_window:
            self._acked = self._chunks.bytes_read
            self._out.control(ACK, self._acked & 0xFFFFFFFF)

    async def _command(self, message: Message) -> None:
        values = _command_values(message)
        if len(values) < 2 or not isinstance(values[0], str):
            raise RtmpError("command message without a name and transaction id")
        name, txn = values[0], values[1]
        if name == "connect":
            self._on_connect(txn, values[2] if len(values) > 2 else None)
        elif name in ("releaseStream", "FCPublish"):
            self._result(txn, None)
        elif name == "createStream":
            self._result(txn, None, STREAM_ID)
        elif name == "publish":
            self._on_publish(values[3] if len(values) > 3 else None)
        await self._out.drain()

    def _on_connect(self, txn: Any, props: Any) -> None:
        app = props.get("app") if isinstance(props, dict) else None
        if not isinstance(app, str):
            raise RtmpError("connect without an app name")
        self._app = app.rstrip("/")
        self._out.control(WINDOW_ACK_SIZE, WINDOW)
        self._out.control(PEER_BANDWIDTH, WINDOW, b"\x02")
        self._out.control(USER_CONTROL, 0, b"\x00\x00")  # Stream Begin 0 (2+4 bytes)
        self._out.send(3, COMMAND_AMF0, 0, amf0.encode(
            "_result", txn, {"fmsVer": "FMS/3,0,1,123", "capabilities": 31.0},
            {"level": "status", "code": "NetConnection.Connect.Success",
             "description": "Connection succeeded.", "objectEncoding": 0.0}))

    def _on_publish(self, stream: Any) -> None:
        listener = self.listener
        name = stream.split("?", 1)[0] if isinstance(stream, str) else None
        if self._app != listener.app or name != listener.stream:
            self._status("error", "NetStream.Publish.BadName", "wrong app or stream key")
            raise RtmpError("publish to a wrong app or stream key")
        sink = listener._accept(self)
        if sink is None:
            self._status("error", "NetStream.Publish.BadName", "feed not accepting")
            raise RtmpError("the feed is not accepting a publisher")
        self.sink = sink
        self._status("status", "NetStream.Publish.Start", "publishing")

    def _result(self, txn: Any, *values: Any) -> None:
        self._out.send(3, COMMAND_AMF0, 0, amf0.encode("_result", txn, *values))

    def _status(self, level: str, code: str, description: str) -> None:
        self._out.send(5, COMMAND_AMF0, STREAM_ID, amf0.encode(
            "onStatus", 0, None, {"level": level, "code": code, "description": description}))


def _command_values(message: Message) -> list[Any]:
    payload = message.payload
    if message.type_id in (COMMAND_AMF3, DATA_AMF3) and payload[:1] == b"\x00":
        payload = payload[1:]
    return amf0.decode_all(payload)
