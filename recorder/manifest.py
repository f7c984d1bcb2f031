"""manifest.json of one recording, and its chain of custody.

Every finished file is an entry of a hash chain: the entry holds the file's SHA-256 and
`prev_hash`, the `entry_hash` of the entry before it (GENESIS for the first), and its own
`entry_hash` is the SHA-256 of its canonical JSON without `entry_hash`. A segment (one
worker's stretch of a recording) closes with a `segment` entry over the hashes of its
files. Changing, removing or reordering a file or entry breaks every later hash; the
chain head is also kept in Redis, beyond the reach of whoever can edit the directory.

The manifest is rewritten as a whole (temp file + fsync + rename) so a reader never sees a
half-written one, also while the recording runs (the composite builds on it mid-meeting).
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

GENESIS = "0" * 64
MANIFEST = "manifest.json"
CHUNK = 1 << 20
# Fields of a file entry that the chain covers (all but `entry_hash`).
FILE_FIELDS = ("type", "name", "segment", "participant_id", "participant_name", "kind",
               "source", "codec", "start_ms", "end_ms", "frames", "bytes", "sha256", "prev_hash")


def sha256_file(path: Path) -> str:
    """Hash a file in chunks (run it in an executor: files can be large)."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def entry_hash(entry: dict[str, Any]) -> str:
    body = {k: v for k, v in entry.items() if k != "entry_hash"}
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return hashlib.sha256(canonical.encode()).hexdigest()


def segment_hash(file_hashes: Iterable[str]) -> str:
    """The hash of a segment: SHA-256 over its files' hashes in chain order."""
    return hashlib.sha256("".join(file_hashes).encode()).hexdigest()


def chain_head(entries: list[dict[str, Any]]) -> str:
    return entries[-1]["entry_hash"] if entries else GENESIS


def append_entry(entries: list[dict[str, Any]], entry: dict[str, Any]) -> dict[str, Any]:
    """Link `entry` after the last one (sets prev_hash and entry_hash) and append it."""
    entry = dict(entry, prev_hash=chain_head(entries))
    entry["entry_hash"] = entry_hash(entry)
    entries.append(entry)
    return entry


def verify_chain(entries: list[dict[str, Any]]) -> str | None:
    """None if every link holds, else what is wrong (first break)."""
    previous = GENESIS
    for index, entry in enumerate(entries):
        if entry.get("prev_hash") != previous:
            return f"entry {index} does not follow entry {index - 1}"
        if entry.get("entry_hash") != entry_hash(entry):
            return f"entry {index} was altered"
        previous = entry["entry_hash"]
    return None


def write_json_atomic(path: Path, data: dict[str, Any]) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with open(tmp, "w", encoding="utf-8") as handle:
            json.dump(data, handle, indent=1, sort_keys=False)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()


def read_manifest(directory: Path) -> dict[str, Any] | None:
    try:
        with open(directory / MANIFEST, encoding="utf-8") as handle:
            data = json.load(handle)
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None
