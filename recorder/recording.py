"""The files of one recording on disk, as one worker (one segment) writes them.

Keeps the manifest (recorder/manifest.py) true while recording: a file appears in it as
soon as it is opened (so a worker that takes over after a crash knows every file), its
`end_ms` and `bytes` are refreshed on every save, and when it is closed its SHA-256 is
computed (in an executor) and it joins the hash chain. A new segment first closes the
files its dead predecessor left open (`adopt`).
"""

from __future__ import annotations

import asyncio
import logging
import os
import re
import time
from pathlib import Path
from typing import Any

from recorder.manifest import (MANIFEST, append_entry, chain_head, read_manifest,
                               segment_hash, sha256_file, write_json_atomic)
from recorder.names import NAME_RE
from recorder.trackfile import TrackFile, extension_for
from recorder.tracks import TrackInfo

log = logging.getLogger(__name__)
SAFE = re.compile(r"[^A-Za-z0-9_-]")


def file_name(segment: int, number: int, track: TrackInfo) -> str:
    """`s<segment>-<n>-<participant>-<source>-<kind>.<ext>`: only [A-Za-z0-9_.-]."""
    who = SAFE.sub("_", track.participant_id)[:48] or "unknown"
    source = SAFE.sub("_", track.source)[:16] or track.kind
    return f"s{segment:03d}-{number:04d}-{who}-{source}-{track.kind}." \
        f"{extension_for(track.codec)}"


def probe_end_ms(path: Path) -> tuple[int | None, int | None, int]:
    """(first, last) timestamp in ms and the packet count of a file left by a dead worker;
    (None, None, 0) if it holds no readable packet. Blocking: run in an executor."""
    import av

    first = last = None
    count = 0
    try:
        with av.open(str(path)) as container:
            stream = container.streams[0]
            for packet in container.demux(stream):
                if packet.pts is None:
                    continue
                count += 1
                ms = int(packet.pts * packet.time_base * 1000)
                first = ms if first is None else min(first, ms)
                last = ms if last is None else max(last, ms)
    except Exception:  # noqa: BLE001 - a truncated file ends where it can be read
        pass
    return first, last, count


class RecordingFiles:
    def __init__(self, directory: Path, recording_id: str, room_id: str, started_at: float,
                 segment: int, worker: str, cluster_ms: int) -> None:
        self.directory = directory
        self.cluster_ms = cluster_ms
        self.recording_id = recording_id
        self.room_id = room_id
        self.started_at = started_at
        self.segment = segment
        self.worker = worker
        self.state = "recording"
        self.stopped_at: float | None = None
        self.chain: list[dict[str, Any]] = []
        self.live: dict[str, tuple[TrackInfo, TrackFile]] = {}
        self.segment_started_ms = int(time.time() * 1000 - started_at * 1000)
        self._number = 0
        self._lock = asyncio.Lock()
        self._tasks: set[asyncio.Task[None]] = set()

    @property
    def head(self) -> str:
        return chain_head(self.chain)

    # FileSink for TrackRecorder
    def new_file(self, track: TrackInfo) -> TrackFile:
        self._number += 1
        return TrackFile(self.directory / file_name(self.segment, self._number, track),
                         track.codec, self.cluster_ms)

    def file_opened(self, track: TrackInfo, file: TrackFile) -> None:
        self.live[file.path.name] = (track, file)
        self._spawn(self.save())

    def file_closed(self, track: TrackInfo, file: TrackFile) -> None:
        self.live.pop(file.path.name, None)
        entry = self._entry(track, file.path.name, file.first_ms, self._end_ms(track, file))
        entry["frames"] = file.frames
        self._spawn(self._seal(entry))

    # entries
    def _entry(self, track: TrackInfo, name: str, start_ms: int | None,
               end_ms: int | None) -> dict[str, Any]:
        return {"type": "file", "name": name, "segment": self.segment,
                "participant_id": track.participant_id,
                "participant_name": track.participant_name, "kind": track.kind,
                "source": track.source, "codec": track.codec, "start_ms": start_ms,
                "end_ms": end_ms, "bytes": None, "sha256": None}

    @staticmethod
    def _end_ms(track: TrackInfo, file: TrackFile) -> int | None:
        if file.last_ms is None:
            return None
        if track.codec == "opus":
            return file.last_ms + 20
        if file.frames > 1 and file.first_ms is not None:
            return file.last_ms + round((file.last_ms - file.first_ms) / (file.frames - 1))
        return file.last_ms

    async def _seal(self, entry: dict[str, Any]) -> None:
        """Hash a finished file and link it into the chain (in the order files closed)."""
        async with self._lock:
            path = self.directory / entry["name"]
            loop = asyncio.get_running_loop()
            try:
                entry["sha256"] = await loop.run_in_executor(None, sha256_file, path)
                entry["bytes"] = path.stat().st_size
            except OSError as exc:
                log.warning("cannot hash %s: %s", path, exc)
                entry["error"] = "unreadable"
            append_entry(self.chain, entry)
            await self._write_locked()

    # whole manifest
    def manifest(self) -> dict[str, Any]:
        files = [e for e in self.chain if e["type"] == "file"]
        for name, (track, file) in sorted(self.live.items()):
            entry = self._entry(track, name, file.first_ms, self._end_ms(track, file))
            entry["bytes"] = file.bytes_written()
            entry["frames"] = file.frames
            files.append(entry)
        return {"recording_id": self.recording_id, "room_id": self.room_id,
                "started_at": self.started_at, "stopped_at": self.stopped_at,
                "state": self.state, "segment": self.segment,
                "clock": "ms since started_at; file timestamps are on this clock",
                "files": files, "segments": [e for e in self.chain if e["type"] == "segment"],
                "chain": self.chain, "chain_head": self.head}

    async def save(self) -> None:
        async with self._lock:
            await self._write_locked()

    async def _write_locked(self) -> None:
        data = self.manifest()
        loop = asyncio.get_running_loop()
        try:
            await loop.run_in_executor(None, write_json_atomic, self.directory / MANIFEST, data)
        except OSError as exc:  # e.g. disk full: the state is also in Redis
            log.warning("cannot write the manifest of %s: %s", self.recording_id, exc)

    # segments
    async def adopt(self) -> None:
        """Continue the chain of the manifest on disk, closing the entries of files a dead
        worker left open (their end read from the file) and its segment."""
        old = await asyncio.get_running_loop().run_in_executor(None, read_manifest,
                                                               self.directory)
        if old is None:
            return
        self.chain = [e for e in old.get("chain", []) if isinstance(e, dict)]
        sealed = {e.get("name") for e in self.chain}
        orphans = [e for e in old.get("files", []) if isinstance(e, dict)
                   and e.get("name") not in sealed and e.get("segment") != self.segment]
        loop = asyncio.get_running_loop()
        for item in orphans:
            name = str(item.get("name", ""))
            if not NAME_RE.fullmatch(name):
                continue  # never a path from a file we did not write ourselves
            first, last, count = await loop.run_in_executor(None, probe_end_ms,
                                                            self.directory / name)
            entry = {k: item.get(k) for k in ("type", "name", "segment", "participant_id",
                                              "participant_name", "kind", "source", "codec")}
            entry.update(type="file", start_ms=first if first is not None
                         else item.get("start_ms"), end_ms=last, frames=count, bytes=None,
                         sha256=None)
            await self._seal(entry)
        done = {e.get("segment") for e in self.chain if e.get("type") == "segment"}
        for segment in sorted({int(e.get("segment") or 0) for e in self.chain
                               if e.get("type") == "file"} - done - {self.segment}):
            await self._close_segment(segment, "worker lost", None)

    async def _close_segment(self, segment: int, end: str, worker: str | None) -> None:
        async with self._lock:
            files = [e for e in self.chain if e.get("type") == "file"
                     and e.get("segment") == segment]
            append_entry(self.chain, {
                "type": "segment", "segment": segment, "worker": worker, "end": end,
                "files": [e["name"] for e in files],
                "sha256": segment_hash(e.get("sha256") or "" for e in files)})
            await self._write_locked()

    async def finish(self, state: str) -> None:
        """All files closed and sealed: the segment's entry, the final manifest."""
        if self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)
        self.state = state
        self.stopped_at = time.time()
        await self._close_segment(self.segment, state, self.worker)

    def _spawn(self, coro: Any) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)


def free_bytes(directory: Path) -> int:
    stat = os.statvfs(directory)
    return stat.f_bavail * stat.f_frsize
