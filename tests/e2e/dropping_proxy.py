"""A TCP proxy whose connections a test can cut, the way a lost mobile link looks."""

from __future__ import annotations

import socket
import struct
import threading


class DroppingProxy:
    """TCP proxy in front of the server whose connections can be cut with a reset, the way a
    lost mobile link looks to the server (no WebSocket close frame, so no clean leave)."""

    def __init__(self, upstream: tuple[str, int]) -> None:
        self.upstream = upstream
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.sockets: list[socket.socket] = []
        self.lock = threading.Lock()
        self.stalled = threading.Event()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            if self.stalled.is_set():  # connecting during an outage hangs
                with self.lock:
                    self.sockets.append(client)
                threading.Thread(target=self._sink, args=(client,), daemon=True).start()
                continue
            server = socket.create_connection(self.upstream)
            with self.lock:
                self.sockets += [client, server]
            for src, dst in ((client, server), (server, client)):
                threading.Thread(target=self._pump, args=(src, dst), daemon=True).start()

    @staticmethod
    def _sink(sock: socket.socket) -> None:
        try:
            while sock.recv(65536):
                pass
        except OSError:
            pass

    def _pump(self, src: socket.socket, dst: socket.socket) -> None:
        try:
            while data := src.recv(65536):
                if not self.stalled.is_set():
                    dst.sendall(data)
        except OSError:
            pass
        finally:
            for sock in (src, dst):
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def drop_all(self) -> None:
        with self.lock:
            doomed, self.sockets = self.sockets, []
        for sock in doomed:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))  # RST
            sock.close()

    def stall(self) -> None:
        """The network goes silent: bytes vanish, nothing is closed, nobody is told."""
        self.stalled.set()

    def heal(self) -> None:
        """The network is back; connections from before the outage are gone (as after a
        mobile network change), new ones work."""
        self.stalled.clear()
        self.drop_all()

    def close(self) -> None:
        self.listener.close()
        self.drop_all()
