"""FeedRunner: keeps one device feed (RTSP pull or RTMP listen) flowing into a room.

States: "connecting" until the first frame ever, "live" while frames arrive, "lost"
when the source dropped or cannot be reached (retried with exponential backoff; the
feed shows as lost until it returns), "error" when retrying cannot help (H.265 video,
for instance). The tracks of a feed belong to the pseudo-participant `feed-<feed_id>`;
they stay in the room while the feed is lost, so subscribers keep their slot and see
the picture again (from the next keyframe) when it returns.

Each connection runs in its own thread (demux.DemuxSession, blocking PyAV); frames come
back through call_soon_threadsafe, bounded by `max_backlog` (the excess is dropped and
counted, video then waits for a keyframe).
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from typing import Any
from urllib.parse import urlsplit

from sfu.ingest.clock import SR_EVERY_S, RateMeter, SessionClock, TrackClock
from sfu.ingest.demux import DemuxSession, FeedError, Frame, OpenSpec, SourceInfo
from sfu.ingest.rtmp_server import RtmpConnection, RtmpListener
from sfu.ingest.rtmp_source import RtmpMediaSource
from sfu.ingest.source_track import SourceTrack

logger = logging.getLogger(__name__)

STATES = ("connecting", "live", "lost", "error")
RATES = {"video": 90000, "audio": 48000}
CODEC_LABELS = {"video": "H264", "audio": "opus"}


@dataclass(frozen=True)
class FeedSpec:
    feed_id: str
    name: str
    url: str  # rtsp://... to pull, or rtmp://host:port/<app>/<stream> to listen on
    listen: bool = False

    @property
    def participant_id(self) -> str:
        return f"feed-{self.feed_id}"

    def listen_address(self) -> tuple[str, int, str, str]:
        """(host, port, app, stream name) of an RTMP listen URL; ValueError if malformed."""
        parts = urlsplit(self.url)
        app, _, stream = parts.path.lstrip("/").partition("/")
        if parts.scheme != "rtmp" or not parts.hostname or not app or not stream:
            raise ValueError(f"an RTMP listen URL is rtmp://host:port/<app>/<stream>, "
                             f"got {self.url!r}")
        return parts.hostname, parts.port or 1935, app, stream


@dataclass(frozen=True)
class FeedSettings:
    retry_min_s: float = 1.0
    retry_max_s: float = 30.0
    open_timeout_s: float = 5.0
    read_timeout_s: float = 5.0
    status_interval_s: float = 1.0
    mtu: int = 1200
    max_backlog: int = 200  # frames on their way to the loop
    transcode_h265: bool = False  # else H.265 is state "error"
    transcode_bitrate_bps: int = 2_000_000

    def __post_init__(self) -> None:
        if not 0 < self.retry_min_s <= self.retry_max_s:
            raise ValueError("need 0 < retry_min_s <= retry_max_s")
        if self.open_timeout_s <= 0 or self.read_timeout_s <= 0:
            raise ValueError("timeouts must be > 0")


@dataclass(frozen=True)
class FeedStatus:
    state: str = "connecting"
    error: str | None = None
    last_frame_at: float | None = None  # unix seconds
    bitrate_bps: int = 0
    width: int | None = None
    height: int | None = None
    video_codec: str | None = None
    audio_codec: str | None = None
    retries: int = 0
    dropped_frames: int = 0

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


StatusCallback = Callable[[FeedStatus], None]


class FeedRunner:
    def __init__(self, media: Any, spec: FeedSpec, on_status: StatusCallback | None = None,
                 settings: FeedSettings | None = None) -> None:
        self.media = media
        self.spec = spec
        self.settings = settings or FeedSettings()
        self._on_status = on_status
        self._status = FeedStatus()
        self._tracks: dict[str, SourceTrack] = {}
        self._clocks: dict[str, TrackClock] = {}
        self._session = SessionClock()
        self._meter = RateMeter()
        self._generation = 0
        self._info_generation = -1  # the session whose SourceInfo we last applied
        self._queued = 0  # written by the demux thread only
        self._handled = 0  # written by the loop only
        self._dropped = 0
        self._stop = threading.Event()
        self._keyframe = threading.Event()  # a subscriber asked; a transcoder obliges
        self._thread: threading.Thread | None = None
        self._ended: asyncio.Future[FeedError | None] | None = None
        self._task: asyncio.Task[None] | None = None
        self._ticker: asyncio.Task[None] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        # RTMP listen mode: the port, the accepted publisher, its session's end.
        self._listener: RtmpListener | None = None
        self._publisher: RtmpConnection | None = None
        self._next_session: tuple[asyncio.Future[FeedError | None], int] | None = None
        self._waiting: asyncio.Future[None] | None = None

    @property
    def status(self) -> FeedStatus:
        now = time.monotonic()
        return replace(self._status, bitrate_bps=self._meter.bps(now), dropped_frames=self._dropped)

    @property
    def tracks(self) -> dict[str, SourceTrack]:
        return dict(self._tracks)

    async def start(self) -> None:
        if self._task is not None:
            return
        self._loop = asyncio.get_running_loop()
        self._task = self._loop.create_task(self._run())
        self._ticker = self._loop.create_task(self._tick())
        self._emit_status()

    async def stop(self) -> None:
        """End the connection thread (promptly: it checks between packets; a blocked
        read ends at read_timeout_s, a listen is woken by a connection to it) and
        remove the feed's tracks."""
        self._stop.set()
        for task in (self._task, self._ticker):
            if task is not None:
                task.cancel()
        await asyncio.gather(*(t for t in (self._task, self._ticker) if t is not None),
                             return_exceptions=True)
        if self._listener is not None:
            await self._listener.close()
            self._listener = None
        self._drop_tracks()
        thread = self._thread
        if thread is not None and thread.is_alive():
            await asyncio.get_running_loop().run_in_executor(None, thread.join, 2.0)

    # --- connection loop -------------------------------------------------------------

    async def _run(self) -> None:
        failures = 0
        while not self._stop.is_set():
            error = await self._connect_once()
            if self._stop.is_set():
                return
            went_live = self._status.state == "live"
            if error is not None and not error.retry:
                logger.warning("feed %s: %s", self.spec.feed_id, error)
                self._drop_tracks()
                self._set(state="error", error=str(error))
                if self.spec.listen and self._listener is not None:
                    continue  # keep listening: a corrected encoder may push again
                return
            message = str(error) if error is not None else "the source ended the stream"
            logger.info("feed %s lost: %s", self.spec.feed_id, message)
            self._set(state="lost", error=message, retries=self._status.retries + 1)
            failures = 0 if went_live else failures + 1
            if self.spec.listen and went_live:
                continue  # listen again at once: the pusher reconnects when it wants
            await asyncio.sleep(self._backoff(failures))

    def _backoff(self, failures: int) -> float:
        s = self.settings
        return min(s.retry_max_s, s.retry_min_s * (2 ** max(0, failures - 1)))

    async def _connect_once(self) -> FeedError | None:
        if self.spec.listen:
            return await self._listen_once()
        return await self._pull_once()

    async def _pull_once(self) -> FeedError | None:
        loop = asyncio.get_running_loop()
        self._generation += 1
        generation = self._generation
        self._session = SessionClock()
        ended: asyncio.Future[FeedError | None] = loop.create_future()
        s = self.settings
        spec = OpenSpec(self.spec.url, False, s.open_timeout_s, s.read_timeout_s, s.mtu,
                        s.transcode_h265, s.transcode_bitrate_bps)
        thread = threading.Thread(target=self._thread_main, daemon=True,
                                  name=f"feed-{self.spec.feed_id}",
                                  args=(spec, generation, loop, ended))
        self._thread = thread
        thread.start()
        try:
            return await asyncio.shield(ended)
        finally:
            self._generation += 1  # late frames of this session are ignored

    def _thread_main(self, spec: OpenSpec, generation: int, loop: asyncio.AbstractEventLoop,
                     ended: asyncio.Future[FeedError | None]) -> None:
        emit = self._threadsafe_emitter(generation, loop)
        result: FeedError | None = None
        try:
            DemuxSession(spec, emit, self._stop, self._keyframe).run()
        except FeedError as exc:
            result = exc
        except Exception as exc:  # noqa: BLE001 - report, never die silently
            logger.exception("feed %s: demux failed", self.spec.feed_id)
            result = FeedError(f"internal error: {type(exc).__name__}: {exc}", retry=True)
        try:
            loop.call_soon_threadsafe(_settle, ended, result)
        except RuntimeError:
            pass  # the loop is closed: nobody is waiting any more

    def _threadsafe_emitter(self, generation: int,
                            loop: asyncio.AbstractEventLoop) -> Callable[[Any], bool]:
        def emit(item: Any) -> bool:
            if isinstance(item, Frame) and self._queued - self._handled >= self.settings.max_backlog:
                self._dropped += 1
                return False
            self._queued += 1
            try:
                loop.call_soon_threadsafe(self._deliver, generation, item)
            except RuntimeError:
                return False  # the loop is closed
            return True
        return emit

    # --- RTMP listen mode ----------------------------------------------------------------

    async def _listen_once(self) -> FeedError | None:
        if self._listener is None:
            try:
                host, port, app, stream = self.spec.listen_address()
            except ValueError as exc:
                return FeedError(str(exc), retry=False)
            listener = RtmpListener(host, port, app, stream, self._accept_publisher)
            try:
                await listener.start()
            except OSError as exc:
                return FeedError(f"cannot listen for RTMP on {host}:{port}: "
                                 f"{exc.strerror or exc}", retry=True)
            self._listener = listener
        if self._next_session is None:
            self._waiting = asyncio.get_running_loop().create_future()
            await self._waiting
        session, self._next_session = self._next_session, None
        assert session is not None
        ended, generation = session
        try:
            return await ended
        finally:
            if self._generation == generation:  # not replaced by a newer publisher
                self._generation += 1  # frames still on their way are ignored

    def _accept_publisher(self, conn: RtmpConnection) -> RtmpMediaSource | None:
        """A publisher with the right app and key: it replaces any earlier connection
        (a drone that reconnects before its old TCP connection timed out)."""
        if self._stop.is_set():
            return None
        loop = asyncio.get_running_loop()
        if self._publisher is not None:
            self._publisher.close("replaced by a new connection from the publisher")
        self._publisher = conn
        self._generation += 1
        generation = self._generation
        self._session = SessionClock()
        ended: asyncio.Future[FeedError | None] = loop.create_future()

        def fail(error: FeedError) -> None:
            if not error.retry:
                conn.close(str(error))
            _settle(ended, error)

        source = RtmpMediaSource(lambda item: self._deliver(generation, item, counted=False),
                                 self._threadsafe_emitter(generation, loop), fail,
                                 self.settings.mtu)
        self._next_session = (ended, generation)
        if self._waiting is not None:
            _settle(self._waiting, None)
        return source

    # --- on the loop -----------------------------------------------------------------

    def _deliver(self, generation: int, item: Any, counted: bool = True) -> None:
        if counted:
            self._handled += 1
        if generation != self._generation or self._stop.is_set():
            return
        if isinstance(item, SourceInfo):
            self._on_info(item)
        else:
            self._on_frame(item)

    def _on_info(self, info: SourceInfo) -> None:
        """A session's streams (again, when a late RTMP audio config adds one): keep the
        tracks that still fit, add missing ones, start over only if one changed."""
        wanted = {kind for kind, codec in (("video", info.video_codec),
                                            ("audio", info.audio_codec)) if codec}
        profile_changed = ("video" in self._tracks and info.profile_level_id and
                           self._tracks["video"].codec.parameters.get("profile-level-id")
                           != info.profile_level_id)
        if set(self._tracks) - wanted or profile_changed:
            self._drop_tracks()
        if self._info_generation != self._generation:  # a new session of the source
            self._info_generation = self._generation
            now = time.monotonic()
            for kind, track in self._tracks.items():
                self._clocks[kind].rebase(now)
                track.restart()
        for kind in ("video", "audio"):
            if kind in wanted and kind not in self._tracks:
                self._tracks[kind] = self.media.add_source_track(
                    self.spec.participant_id, self.spec.name, kind, CODEC_LABELS[kind],
                    source="feed",
                    profile_level_id=info.profile_level_id if kind == "video" else None)
                self._clocks[kind] = TrackClock(RATES[kind])
        if "video" in self._tracks:
            self._tracks["video"].on_keyframe_request = self._keyframe.set
        self._status = replace(self._status, width=info.width, height=info.height,
                               video_codec=info.video_codec, audio_codec=info.audio_codec)

    def _on_frame(self, frame: Frame) -> None:
        track = self._tracks.get(frame.kind)
        if track is None or track.closed:
            return
        now = time.monotonic()
        media_s = self._session.offset(frame.pts_s)
        clock = self._clocks[frame.kind]
        ts = clock.timestamp(media_s, now)
        if now - clock.last_report >= SR_EVERY_S:
            clock.last_report = now
            track.set_clock(ts, self._session.wall + media_s, self._session.mono + media_s)
        track.send(frame.payloads, ts)
        self._meter.add(frame.size, now)
        self._status = replace(self._status, last_frame_at=time.time())
        if self._status.state != "live":
            self._set(state="live", error=None)

    async def _tick(self) -> None:
        """Bitrate and last-frame time change continuously: report them now and then."""
        while not self._stop.is_set():
            await asyncio.sleep(self.settings.status_interval_s)
            if self._status.state == "live":
                self._emit_status()

    def _set(self, **changes: Any) -> None:
        self._status = replace(self._status, **changes)
        self._emit_status()

    def _emit_status(self) -> None:
        if self._on_status is None:
            return
        try:
            self._on_status(self.status)
        except Exception:  # noqa: BLE001 - a signalling bug must not stop the feed
            logger.exception("feed %s: on_status failed", self.spec.feed_id)

    def _drop_tracks(self) -> None:
        if self._tracks:
            self._tracks.clear()
            self._clocks.clear()
            self.media.remove_source_tracks(self.spec.participant_id)


def _settle(future: asyncio.Future[Any], result: Any) -> None:
    if not future.done():
        future.set_result(result)
