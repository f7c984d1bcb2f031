"""`commandpost worker recorder`: take recording jobs from the Redis stream `cp:rec:jobs`
(consumer group `recorders`), run each as a RoomJob, and sweep old recordings.

A running job's stream entry stays pending, owned by this worker, until the recording
ends (then XACK). Every `heartbeat_s` the worker re-claims its own entries, which resets
their idle time; an entry idle for `claim_idle_s` belongs to a worker that died, and the
next worker to look takes it (XAUTOCLAIM) and continues the recording in a new segment.
"""

from __future__ import annotations

import asyncio
import logging
import os
import shutil
import socket
import secrets
import time
from pathlib import Path
from typing import Any

from redis.exceptions import RedisError

from recorder.composite.job import CompositeWorker, enqueue_composite
from recorder.job import JobContext, RoomJob
from recorder.store import GROUP, JOBS, Recording, RecordingStore

log = logging.getLogger(__name__)
READ_BLOCK_MS = 1000
SWEEP_LOCK_KEY = "cp:rec:sweep_lock"


def new_worker_id() -> str:
    host = "".join(c for c in socket.gethostname() if c.isalnum() or c in "-_")[:32]
    return f"{host or 'host'}-{os.getpid()}-{secrets.token_hex(3)}"


def recordings_dir(directory: str, data_dir: Path) -> Path:
    """`recorder.dir`, else <data_dir>/recordings."""
    return Path(directory).expanduser().resolve() if directory else data_dir / "recordings"


class RecorderWorker:
    def __init__(self, ctx: JobContext, max_jobs: int) -> None:
        self.ctx = ctx
        self.store: RecordingStore = ctx.store
        self.max_jobs = max_jobs
        self.jobs: dict[str, RoomJob] = {}  # stream entry id -> job
        self._tasks: set[asyncio.Task[None]] = set()

    @property
    def consumer(self) -> str:
        return self.ctx.worker_id

    async def run(self, stop: asyncio.Event) -> None:
        await self.store.ensure_group()
        sweeper = asyncio.create_task(self._sweep_loop(stop))
        composer = asyncio.create_task(CompositeWorker(
            self.store, self.ctx.recordings_dir, self.ctx.config, self.consumer).run(stop))
        log.info("recorder worker %s taking jobs", self.consumer)
        try:
            while not stop.is_set():
                if len(self._tasks) >= self.max_jobs:  # running jobs, started or starting
                    await asyncio.sleep(0.2)
                    continue
                try:
                    entry = await self._next_entry()
                except (ConnectionError, OSError, RedisError) as exc:
                    # Redis away for a moment: running jobs go on, new ones wait.
                    log.warning("recorder worker cannot read jobs: %s", exc)
                    await asyncio.sleep(1.0)
                    continue
                if entry is not None:
                    self._start(*entry)
        finally:
            sweeper.cancel()
            composer.cancel()  # kills a composite build under way; its job is claimed again
            for job in list(self.jobs.values()):
                job.stop("stopped", "recorder worker shut down")
            if self._tasks:
                await asyncio.wait(list(self._tasks), timeout=30)

    async def _next_entry(self) -> tuple[str, dict[str, str], bool] | None:
        """A job whose worker died (claimed), else a new one (waits up to a second)."""
        idle_ms = int(self.ctx.config.claim_idle_s * 1000)
        claimed = await self.store.redis.xautoclaim(JOBS, GROUP, self.consumer, idle_ms,
                                                    start_id="0-0", count=1)
        entries = claimed[1] if claimed else []
        for entry_id, fields in entries:
            if fields:
                return entry_id, fields, True
            await self.store.redis.xack(JOBS, GROUP, entry_id)  # deleted entry
        reply = await self.store.redis.xreadgroup(GROUP, self.consumer, {JOBS: ">"}, count=1,
                                                  block=READ_BLOCK_MS)
        for _stream, items in reply or []:
            for entry_id, fields in items:
                return entry_id, fields, False
        return None

    def _start(self, entry_id: str, fields: dict[str, str], reclaimed: bool) -> None:
        task = asyncio.create_task(self._run_job(entry_id, fields, reclaimed))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _run_job(self, entry_id: str, fields: dict[str, str], reclaimed: bool) -> None:
        rid = fields.get("recording_id", "")
        try:
            recording = await self.store.get(rid)
            if recording is None or not recording.running:
                return  # stopped or deleted while queued: nothing to do
            segment = int(await self.store.redis.hincrby(f"cp:rec:{rid}", "segment", 1))
            await self.store.set_fields(rid, worker=self.consumer)
            if reclaimed:
                await self.store.audit(rid, "resumed", f"recorder:{self.consumer}",
                                       segment=segment)
            job = RoomJob(self.ctx, recording, segment, lambda: self._renew(entry_id, rid))
            self.jobs[entry_id] = job
            state = await job.run()
            if state == "lost":
                return  # not ours to acknowledge
            if self.ctx.config.composite_auto:
                await enqueue_composite(self.store, rid, f"recorder:{self.consumer}")
        except Exception:
            log.exception("recording job %s failed", rid)
            recording = await self.store.get(rid)
            if recording is not None and recording.running:
                await self.store.finish(recording, "failed", "recorder error")
        finally:
            self.jobs.pop(entry_id, None)
        await self.store.redis.xack(JOBS, GROUP, entry_id)
        await self.store.redis.xdel(JOBS, entry_id)

    async def _renew(self, entry_id: str, rid: str) -> bool:
        """Reset the entry's idle time, unless another worker took the recording over."""
        owner = await self.store.redis.hget(f"cp:rec:{rid}", "worker")
        if owner != self.consumer:
            return False
        claimed = await self.store.redis.xclaim(JOBS, GROUP, self.consumer, 0, [entry_id],
                                                justid=True)
        return bool(claimed)

    # retention
    async def _sweep_loop(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                await self.sweep()
            except Exception:  # noqa: BLE001 - try again next time
                log.exception("retention sweep failed")
            await asyncio.sleep(self.ctx.config.retention_sweep_s)

    async def sweep(self) -> list[str]:
        """Delete recordings that stopped more than retention_days ago; one worker at a
        time (a lock in Redis). Returns the ids deleted."""
        days = self.ctx.config.retention_days
        if days <= 0:
            return []
        lock_ttl = max(1, int(self.ctx.config.retention_sweep_s))
        if not await self.store.redis.set(SWEEP_LOCK_KEY, self.consumer, nx=True, ex=lock_ttl):
            return []
        deleted = []
        for recording in await self.store.finished_before(time.time() - days * 86400):
            await delete_recording(self.store, self.ctx.recordings_dir, recording,
                                   "retention", retention_days=days)
            deleted.append(recording.recording_id)
        return deleted


async def delete_recording(store: RecordingStore, root: Path, recording: Recording,
                           actor: str, **detail: Any) -> None:
    """Remove the files (in an executor), mark it deleted, and audit who did it."""
    directory = root / recording.recording_id
    await asyncio.get_running_loop().run_in_executor(
        None, lambda: shutil.rmtree(directory, ignore_errors=True))
    await store.forget(recording)
    await store.audit(recording.recording_id, "deleted", actor, **detail)
