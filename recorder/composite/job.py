"""Composite jobs: queued on a Redis stream, built by a recorder worker in a child process.

- `enqueue_composite` (server on `POST /api/recordings/{id}/composite`, and the recorder
  worker when a recording stops) marks the recording's composite `queued` and adds an entry
  to `cp:rec:composite_jobs` (consumer group `composers`).
- `CompositeWorker.run` (inside `commandpost worker recorder`) reads that stream one job at
  a time: composing is CPU-bound, so one build per worker process; more workers, more builds.
  A job's entry stays pending while it builds and the worker re-claims it every heartbeat;
  an entry idle for `claim_idle_s` belongs to a dead worker and is claimed by another.
- `run_composite_job` runs `python -m recorder.composite` as a child process (killed past
  `composite_timeout_s`), hashes the MP4, and links it into the recording's manifest and
  hash chain as a file of kind `composite`, so it is listed and downloads like any file.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import json
import logging
import secrets
import signal
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from redis.exceptions import ResponseError

from recorder.composite.manifest import CompositeError
from recorder.config import RecorderConfig
from recorder.manifest import (MANIFEST, append_entry, chain_head, read_manifest, sha256_file,
                               verify_chain, write_json_atomic)
from recorder.names import NAME_RE
from recorder.store import ID_RE, RecordingStore

log = logging.getLogger(__name__)

JOBS = "cp:rec:composite_jobs"
GROUP = "composers"
READ_BLOCK_MS = 1000
KIND = "composite"
# Fields of cp:rec:{rid} this module keeps: composite_state (queued | building | done |
# failed), composite_file, composite_error, composite_at (unix s of the last change).
STATES = ("queued", "building", "done", "failed")
Renew = Callable[[], Awaitable[bool]]
_PR_SET_PDEATHSIG = 1  # linux/prctl.h


def _lock_key(rid: str) -> str:
    return f"cp:rec:composite_lock:{rid}"


async def enqueue_composite(store: RecordingStore, rid: str, by: str) -> None:
    """Queue a composite build of recording `rid` (an id already checked against ID_RE)."""
    await ensure_group(store)
    await store.set_fields(rid, composite_state="queued", composite_error="",
                           composite_at=repr(time.time()))
    await store.redis.xadd(JOBS, {"recording_id": rid, "requested_by": by})
    await store.audit(rid, "composite_queued", by)


async def ensure_group(store: RecordingStore) -> None:
    try:
        await store.redis.xgroup_create(JOBS, GROUP, id="0", mkstream=True)
    except ResponseError as exc:
        if "BUSYGROUP" not in str(exc):
            raise


class CompositeWorker:
    """The composite half of a recorder worker: one build at a time."""

    def __init__(self, store: RecordingStore, recordings_dir: Path, config: RecorderConfig,
                 consumer: str) -> None:
        self.store, self.recordings_dir = store, recordings_dir
        self.config, self.consumer = config, consumer

    async def run(self, stop: asyncio.Event) -> None:
        await ensure_group(self.store)
        while not stop.is_set():
            try:
                entry = await self._next_entry()
                if entry is not None:
                    await self._handle(*entry)
            except asyncio.CancelledError:
                raise
            except Exception:  # noqa: BLE001 - Redis hiccup or a bug in one job: go on
                log.exception("composite worker: job failed")
                await asyncio.sleep(1.0)

    async def _next_entry(self) -> tuple[str, dict[str, str]] | None:
        redis = self.store.redis
        idle_ms = int(self.config.claim_idle_s * 1000)
        claimed = await redis.xautoclaim(JOBS, GROUP, self.consumer, idle_ms, start_id="0-0",
                                         count=1)
        for entry_id, fields in (claimed[1] if claimed else []):
            if fields:
                return entry_id, fields
            await redis.xack(JOBS, GROUP, entry_id)
        reply = await redis.xreadgroup(GROUP, self.consumer, {JOBS: ">"}, count=1,
                                       block=READ_BLOCK_MS)
        for _stream, items in reply or []:
            for entry_id, fields in items:
                return entry_id, fields
        return None

    async def _handle(self, entry_id: str, fields: dict[str, str]) -> None:
        rid = fields.get("recording_id", "")
        redis = self.store.redis

        async def renew() -> bool:
            return bool(await redis.xclaim(JOBS, GROUP, self.consumer, 0, [entry_id],
                                           justid=True))

        try:
            if ID_RE.fullmatch(rid):
                await run_composite_job(redis, self.recordings_dir / rid, recording_id=rid,
                                        config=self.config, renew=renew, actor=self.consumer)
        except _Abandoned:
            return  # another worker owns the entry now: not ours to acknowledge
        except CompositeBusy:
            # Another live worker is building it (or one just died and its lock has not
            # expired yet): the entry stays pending and is claimed again after claim_idle_s.
            return
        await redis.xack(JOBS, GROUP, entry_id)
        await redis.xdel(JOBS, entry_id)


class _Abandoned(Exception):
    """The job was taken over by another worker while it ran here."""


class CompositeBusy(Exception):
    """Another worker holds the recording's composite lock: leave the job for later."""


async def run_composite_job(redis: Any, recording_dir: Path, *, recording_id: str,
                            config: RecorderConfig, renew: Renew | None = None,
                            actor: str = "recorder") -> dict[str, Any] | None:
    """Build the composite of the stopped recording in `recording_dir` and list it in the
    manifest. Returns the new manifest entry, or None if the job was not done (recording
    gone, still running, or its build failed: then composite_state is `failed` with the
    reason in composite_error). Raises CompositeBusy if another worker is building it."""
    store = RecordingStore(redis)
    recording = await store.get(recording_id)
    if recording is None or recording.state == "deleted" or recording.running:
        why = "the recording is still running" if recording and recording.running else \
            "the recording is gone"
        if recording is not None and recording.state != "deleted":
            await _set_state(store, recording_id, "failed", error=why)
        return None
    lock = _Lock(redis, _lock_key(recording_id), int(config.claim_idle_s * 1000))
    if not await lock.acquire():
        raise CompositeBusy(recording_id)

    async def keepalive() -> bool:
        return await lock.extend() and (renew is None or await renew())

    try:
        await _set_state(store, recording_id, "building")
        entry = await _build_and_record(recording_dir, recording.chain_head, config,
                                        _KeepAlive(keepalive, config.heartbeat_s))
    except CompositeError as exc:
        await _set_state(store, recording_id, "failed", error=str(exc))
        await store.audit(recording_id, "composite_failed", f"recorder:{actor}",
                          reason=str(exc))
        return None
    finally:
        await lock.release()
    await store.set_fields(recording_id, chain_head=entry["entry_hash"])
    await _set_state(store, recording_id, "done", file=entry["name"])
    await store.audit(recording_id, "composited", f"recorder:{actor}", name=entry["name"],
                      sha256=entry["sha256"], chain_head=entry["entry_hash"])
    return entry


class _Lock:
    """One build per recording: a Redis key that lives `ttl_ms` unless extended, so the lock
    of a worker that died frees itself about when its job entry becomes claimable."""

    def __init__(self, redis: Any, key: str, ttl_ms: int) -> None:
        self.redis, self.key, self.ttl_ms = redis, key, ttl_ms
        self.token = secrets.token_hex(8)

    async def acquire(self) -> bool:
        return bool(await self.redis.set(self.key, self.token, nx=True, px=self.ttl_ms))

    async def extend(self) -> bool:
        if await self.redis.get(self.key) != self.token:
            return False
        return bool(await self.redis.pexpire(self.key, self.ttl_ms))

    async def release(self) -> None:
        if await self.redis.get(self.key) == self.token:
            await self.redis.delete(self.key)


class _KeepAlive:
    """Awaits long work while telling Redis every `interval_s` that this worker lives."""

    def __init__(self, beat: Renew, interval_s: float) -> None:
        self.beat, self.interval_s = beat, interval_s

    async def wait(self, work: asyncio.Future[Any], deadline: float | None = None,
                   on_late: str = "") -> Any:
        """`work`'s result; raises _Abandoned if our claim or lock is gone, CompositeError
        (`on_late`) past `deadline` (time.monotonic()). `work` is cancelled on either."""
        try:
            while True:
                timeout = self.interval_s if deadline is None else \
                    min(self.interval_s, max(0.0, deadline - time.monotonic()))
                done, _ = await asyncio.wait([work], timeout=timeout)
                if done:
                    return work.result()
                if deadline is not None and time.monotonic() >= deadline:
                    raise CompositeError(on_late)
                if not await self.beat():
                    raise _Abandoned()
        finally:
            if not work.done():
                work.cancel()


async def _set_state(store: RecordingStore, rid: str, state: str, *, file: str | None = None,
                     error: str = "") -> None:
    fields: dict[str, Any] = {"composite_state": state, "composite_error": error[:500],
                              "composite_at": repr(time.time())}
    if file is not None:
        fields["composite_file"] = file
    await store.set_fields(rid, **fields)


async def _build_and_record(directory: Path, redis_head: str, config: RecorderConfig,
                            alive: _KeepAlive) -> dict[str, Any]:
    loop = asyncio.get_running_loop()
    manifest = await loop.run_in_executor(None, read_manifest, directory)
    if manifest is None:
        raise CompositeError(f"no readable {MANIFEST}")
    _check_custody(manifest, redis_head)
    await alive.wait(loop.run_in_executor(None, _check_inputs, directory, manifest))
    name = _next_name(manifest)
    result = await _build(directory, directory / name, config, alive)
    return await loop.run_in_executor(None, _record, directory, name, result, redis_head)


def _check_custody(manifest: dict[str, Any], redis_head: str) -> None:
    """Never extend a broken chain, or one whose head differs from the head kept in Redis:
    the composite would seem to vouch for files someone changed."""
    chain = [e for e in manifest.get("chain", []) if isinstance(e, dict)]
    problem = verify_chain(chain)
    if problem is not None:
        raise CompositeError(f"the manifest's hash chain is broken: {problem}")
    if redis_head and chain_head(chain) != redis_head:
        raise CompositeError("the manifest's hash chain does not match the recording's "
                             "chain head in Redis")


def _check_inputs(directory: Path, manifest: dict[str, Any]) -> None:
    """Each track file must still have the SHA-256 its (chained) entry gives, so the
    composite is made of exactly the files the chain vouches for. Blocking."""
    for entry in manifest.get("chain", []):
        if isinstance(entry, dict) and entry.get("kind") in ("audio", "video") \
                and entry.get("sha256"):
            name = str(entry.get("name"))
            if not NAME_RE.fullmatch(name):
                raise CompositeError(f"the manifest lists a bad file name {name!r}")
            try:
                digest = sha256_file(directory / name)
            except OSError as exc:
                raise CompositeError(f"cannot read {name}: {exc.strerror}") from None
            if digest != entry["sha256"]:
                raise CompositeError(f"{name} does not match its SHA-256 in the manifest")


def _next_name(manifest: dict[str, Any]) -> str:
    done = sum(1 for f in manifest.get("files", []) if isinstance(f, dict)
               and f.get("kind") == KIND)
    return f"composite-{done + 1:02d}.mp4"


async def _build(directory: Path, out: Path, config: RecorderConfig,
                 alive: _KeepAlive) -> dict[str, Any]:
    """Run the build in a child process that dies with this worker; kill it on timeout."""
    for stale in out.parent.glob(f".{out.name}.*.partial"):  # of a build killed with its
        stale.unlink(missing_ok=True)  # worker; we hold the lock, so no build is running
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "recorder.composite", str(directory), str(out),
        "--width", str(config.composite_width), "--height", str(config.composite_height),
        "--fps", str(config.composite_fps), "--font", config.composite_font,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        preexec_fn=_die_with_parent)
    try:
        stdout, stderr = await alive.wait(
            asyncio.ensure_future(proc.communicate()),
            time.monotonic() + config.composite_timeout_s,
            f"the build took longer than composite_timeout_s ({config.composite_timeout_s:g} s)")
    finally:
        if proc.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                proc.kill()
            await proc.wait()
        # A killed build cannot remove its own partial file (build.py names it by pid).
        out.with_name(f".{out.name}.{proc.pid}.partial").unlink(missing_ok=True)
    if proc.returncode != 0:
        lines = stderr.decode(errors="replace").strip().splitlines()
        raise CompositeError(lines[-1] if lines else f"the build exited with {proc.returncode}")
    return json.loads(stdout)


def _die_with_parent() -> None:
    """In the child before exec: SIGKILL when the worker dies, however it dies, so a build
    never runs on unsupervised (and never races the worker that takes the job over)."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)


def _record(directory: Path, name: str, result: dict[str, Any],
            redis_head: str) -> dict[str, Any]:
    """Hash the composite and link it into the manifest (blocking: run in an executor)."""
    path = directory / name
    manifest = read_manifest(directory)
    if manifest is None:
        raise CompositeError(f"{MANIFEST} went away during the build")
    _check_custody(manifest, redis_head)
    chain = [e for e in manifest.get("chain", []) if isinstance(e, dict)]
    segments = [int(e.get("segment") or 0) for e in chain if e.get("type") == "segment"]
    entry = append_entry(chain, {
        "type": "file", "name": name, "segment": max(segments, default=0),
        "participant_id": "", "participant_name": "", "kind": KIND, "source": KIND,
        "codec": "h264+aac", "start_ms": result["start_ms"], "end_ms": result["end_ms"],
        "bytes": path.stat().st_size, "sha256": sha256_file(path)})
    manifest["chain"], manifest["chain_head"] = chain, entry["entry_hash"]
    manifest["files"] = [*manifest.get("files", []), entry]
    write_json_atomic(directory / MANIFEST, manifest)
    return entry
