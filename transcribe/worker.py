"""`commandpost worker transcriber`: takes jobs from the `cp:tr:jobs` consumer group and
transcribes several meetings at once, one Meeting each, sharing the loaded models and one
recognition thread pool."""

from __future__ import annotations

import asyncio
import logging
import os
import socket
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import redis.asyncio as aioredis

from signaling.config import Config
from signaling.tokens import mint_token
from transcribe.jobs import Job, JobQueue
from transcribe.meeting import Meeting, MeetingPlan
from transcribe.models import ModelError, ModelSet, model_paths
from transcribe.participant import HiddenParticipant, JoinError, ice_addresses_for
from transcribe.search import warm_up
from transcribe.store import TranscriptStore, now_ms

log = logging.getLogger(__name__)

SERVICE_GRANTS = ("join", "subscribe", "hidden")
TAKE_BLOCK_MS = 1000


def default_consumer() -> str:
    return f"{socket.gethostname()}-{os.getpid()}"


@dataclass
class Running:
    job: Job
    meeting: Meeting | None = None
    task: asyncio.Task[None] | None = None
    handed_back: bool = False


@dataclass
class TranscriberWorker:
    config: Config
    redis: aioredis.Redis
    secret: str
    consumer: str = field(default_factory=default_consumer)
    # Loaded models may be shared (several workers in one process, e.g. tests and bench).
    models: ModelSet | None = None

    def __post_init__(self) -> None:
        tc = self.config.transcribe
        self.store = TranscriptStore(self.redis)
        self.queue = JobQueue(self.redis)
        if self.models is None:
            self.models = ModelSet(model_paths(tc))
        self.executor = ThreadPoolExecutor(max_workers=tc.threads,
                                           thread_name_prefix="vosk")
        self.running: dict[str, Running] = {}  # entry id -> job
        self.stopping = asyncio.Event()

    @property
    def model_set(self) -> ModelSet:
        assert self.models is not None
        return self.models

    async def run(self) -> None:
        """Take and run jobs until `stopping` is set; then hand running jobs back to the
        queue so another worker continues them at once."""
        tc = self.config.transcribe
        await self.queue.ensure_group()
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(self.executor, warm_up)
        beat = asyncio.create_task(self._heartbeat())
        log.info("transcriber %s taking jobs (models: %s)", self.consumer,
                 ", ".join(self.model_set.languages()))
        try:
            while not self.stopping.is_set():
                if len(self.running) >= tc.max_meetings:
                    await self._wait(0.5)
                    continue
                job = await self.queue.take(self.consumer, tc.claim_idle_s, TAKE_BLOCK_MS)
                if job is not None:
                    self._start(job)
        finally:
            beat.cancel()
            await self._stop_all()
            self.executor.shutdown(wait=False, cancel_futures=True)

    def _start(self, job: Job) -> None:
        if job.entry_id in self.running:
            # XAUTOCLAIM handed back one of our own jobs (a heartbeat came late): it runs.
            return
        running = Running(job)
        self.running[job.entry_id] = running
        running.task = asyncio.create_task(self._run_job(running))

    async def _run_job(self, running: Running) -> None:
        job = running.job
        tc = self.config.transcribe
        status = "ended"
        try:
            settings = await self.store.settings(job.room_id, tc.lang, tc.phrases)
            if settings is not None and not settings.enabled:
                status = "stopped"
                return
            lang = settings.lang if settings else tc.lang
            phrases = settings.phrases if settings else tc.phrases
            started = await self.store.mark_started(job.room_id)
            loop = asyncio.get_running_loop()
            model = await loop.run_in_executor(self.executor, self.model_set.get, lang)
            await self.store.set_status(job.room_id, "running", worker=self.consumer,
                                        lang=lang)
            running.meeting = Meeting(MeetingPlan(job.room_id, lang, phrases, started),
                                      self._participant(job.room_id), model, self.store,
                                      self.executor, tc)
            reason = await running.meeting.run()
            status = {"idle": "ended", "closed": "ended"}.get(reason, "stopped")
        except ModelError as exc:
            log.error("room %s: %s", job.room_id, exc)
            status = "error"
            await self.store.set_status(job.room_id, "error", error=str(exc)[:300])
        except JoinError as exc:
            log.warning("room %s: join refused (%s); job dropped", job.room_id, exc)
            status = "ended"
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("room %s: transcription failed", job.room_id)
            status = "error"
        finally:
            await self._finish(running, status)

    async def _finish(self, running: Running, status: str) -> None:
        self.running.pop(running.job.entry_id, None)
        if running.handed_back:
            return
        try:
            if status != "error":
                await self.store.set_status(running.job.room_id, status,
                                            ended_at_ms=now_ms())
            await self.queue.finish(running.job)
        except Exception:
            log.exception("room %s: could not finish the job", running.job.room_id)

    def _participant(self, room_id: str) -> HiddenParticipant:
        tc = self.config.transcribe
        base_url = self.config.server.base_url
        token = mint_token(self.secret, room_id, f"transcriber-{self.consumer}",
                           SERVICE_GRANTS, tc.token_ttl_s, name=tc.name)
        return HiddenParticipant(base_url, room_id, token, tc.name,
                                 ice_addresses_for(tc.ice_addresses,
                                                   self.config.sfu.ice_host_addresses),
                                 on_audio=lambda mid, track: None)

    async def _heartbeat(self) -> None:
        """Keep our claims alive; stop meetings whose job another worker took over or whose
        room had transcription switched off."""
        tc = self.config.transcribe
        while True:
            await asyncio.sleep(tc.heartbeat_s)
            try:
                ids = list(self.running)
                mine = set(await self.queue.renew(self.consumer, ids))
                for entry_id in ids:
                    running = self.running.get(entry_id)
                    if running is None:
                        continue
                    if entry_id not in mine:
                        running.handed_back = True  # not ours any more: do not finish it
                        self._stop_meeting(running)
                        continue
                    settings = await self.store.settings(running.job.room_id, tc.lang,
                                                         tc.phrases)
                    if settings is not None and not settings.enabled:
                        self._stop_meeting(running)
            except Exception:
                log.exception("transcriber heartbeat failed")

    def _stop_meeting(self, running: Running) -> None:
        if running.meeting is not None:
            running.meeting.stop.set()
        elif running.task is not None:
            running.task.cancel()

    async def _stop_all(self) -> None:
        """Shutting down: stop every meeting (each finalises its utterances) and queue its
        job again, so another worker picks it up without waiting for claim_idle_s."""
        for running in list(self.running.values()):
            running.handed_back = True
            self._stop_meeting(running)
        tasks = [r.task for r in self.running.values() if r.task is not None]
        for running in list(self.running.values()):
            try:
                await self.queue.hand_back(running.job)
                await self.store.set_status(running.job.room_id, "queued")
            except Exception:
                log.exception("room %s: could not hand the job back", running.job.room_id)
        if tasks:
            await asyncio.wait(tasks, timeout=10)

    async def _wait(self, seconds: float) -> None:
        try:
            await asyncio.wait_for(self.stopping.wait(), seconds)
        except asyncio.TimeoutError:
            pass
