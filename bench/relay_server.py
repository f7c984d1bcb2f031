"""The naive aiortc approach, as the aiortc examples build a "server" that fans out media:
every publisher track is decoded once and `MediaRelay` hands the frames to each subscriber,
whose RTCRtpSender encodes them again. Benchmark-only; run as
`python -m bench.relay_server --port N`.

POST /publish and POST /subscribe take an SDP offer (application/sdp) and answer it (201).
A subscriber offers recvonly m-sections in pairs (audio, video) and receives the publishers
in the order they published.
"""

from __future__ import annotations

import argparse
import asyncio
import logging

from aiohttp import web
from aiortc import MediaStreamTrack, RTCPeerConnection, RTCSessionDescription
from aiortc.contrib.media import MediaRelay

from bench import rtc

SDP = "application/sdp"


class RelayServer:
    def __init__(self) -> None:
        self.relay = MediaRelay()
        self.sources: list[tuple[int, MediaStreamTrack]] = []  # (publisher number, track)
        self.pcs: set[RTCPeerConnection] = set()
        self._published = 0

    async def publish(self, request: web.Request) -> web.Response:
        offer = await request.text()
        pc = rtc.new_pc()
        self.pcs.add(pc)
        number = self._published
        self._published += 1
        pc.on("track", lambda track: self.sources.append((number, track)))
        answer = await rtc.answer_offer(pc, offer)
        return web.Response(status=201, text=answer, content_type=SDP)

    async def subscribe(self, request: web.Request) -> web.Response:
        offer = await request.text()
        pc = rtc.new_pc()
        self.pcs.add(pc)
        await pc.setRemoteDescription(RTCSessionDescription(sdp=offer, type="offer"))
        # buffered=False: a subscriber whose encoder falls behind gets the newest frame,
        # so memory stays bounded and overload shows up as lost frames.
        for _, track in sorted(self.sources, key=lambda item: item[0]):
            pc.addTrack(self.relay.subscribe(track, buffered=False))
        rtc.restrict_addresses(pc)
        await pc.setLocalDescription(await pc.createAnswer())
        return web.Response(status=201, text=pc.localDescription.sdp, content_type=SDP)

    async def health(self, request: web.Request) -> web.Response:
        return web.json_response({"status": "ok", "sources": len(self.sources)})

    async def close(self, app: web.Application) -> None:
        await asyncio.gather(*(pc.close() for pc in self.pcs), return_exceptions=True)


def make_app() -> web.Application:
    server = RelayServer()
    app = web.Application(client_max_size=1 << 20)
    app.router.add_post("/publish", server.publish)
    app.router.add_post("/subscribe", server.subscribe)
    app.router.add_get("/healthz", server.health)
    app.on_shutdown.append(server.close)
    return app


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    web.run_app(make_app(), host="127.0.0.1", port=args.port, print=None)


if __name__ == "__main__":
    main()
