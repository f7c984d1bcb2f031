"""Photo reports from the field: a picture, a note and a position, kept for the wall and dispatch.

Each report is one entry of the Redis Stream `cp:room:{room_id}:reports` with flat string
fields (so dispatch can consume it with a consumer group), and its photo is the file
`<data_dir>/reports/{room_id}/{report_id}.jpg|png` of the node that took the upload.
An <img> cannot send a bearer token, so a report's `photo_url` carries an expiring HMAC
signature (`exp`, `sig`) made with the node secret.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import os
import re
import secrets
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import redis.asyncio as aioredis

from signaling.errors import SignalingError
from signaling.store import reports_key

JPEG_MAGIC = b"\xff\xd8\xff"
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
PHOTO_TYPES = {"jpg": "image/jpeg", "png": "image/png"}
REPORT_ID_RE = re.compile(r"rp_[0-9a-f]{16}")
MAX_LIST = 500


def new_report_id() -> str:
    return "rp_" + secrets.token_hex(8)


def photo_type(head: bytes) -> str:
    """"jpg" or "png" from the file's first bytes; the upload's claimed type is not trusted."""
    if head.startswith(JPEG_MAGIC):
        return "jpg"
    if head.startswith(PNG_MAGIC):
        return "png"
    raise SignalingError("bad_request", "photo is not a JPEG or PNG image "
                         f"(starts with {head[:8].hex() or 'nothing'})")


@dataclass(frozen=True)
class Report:
    report_id: str
    room_id: str
    participant_id: str | None
    name: str
    note: str
    lat: float | None
    lon: float | None
    accuracy_m: float | None
    ts: float
    photo_type: str

    def fields(self) -> dict[str, str]:
        """The stream entry: strings only, "" for a missing value."""
        return {k: "" if v is None else str(v) for k, v in asdict(self).items()}

    @classmethod
    def from_fields(cls, data: dict[str, str]) -> Report:
        def num(key: str) -> float | None:
            return float(data[key]) if data.get(key) else None
        return cls(report_id=data["report_id"], room_id=data["room_id"],
                   participant_id=data.get("participant_id") or None, name=data.get("name", ""),
                   note=data.get("note", ""), lat=num("lat"), lon=num("lon"),
                   accuracy_m=num("accuracy_m"), ts=float(data["ts"]),
                   photo_type=data.get("photo_type", "jpg"))

    def to_json(self, photo_url: str) -> dict[str, Any]:
        """The report as REST and the `report` message show it (docs/protocol.md)."""
        data = asdict(self)
        del data["photo_type"]
        return data | {"photo_url": photo_url}


class PhotoSigner:
    """Expiring signed photo URLs. Expiry is rounded up to whole `ttl_s` periods, so repeated
    listings hand out the same URL (the browser cache keeps working) for at least `ttl_s`."""

    def __init__(self, secret: str, ttl_s: int) -> None:
        self._key = hashlib.sha256(b"commandpost photo url\0" + secret.encode()).digest()
        self.ttl_s = ttl_s

    def _sig(self, room_id: str, report_id: str, expires: int) -> str:
        mac = hmac.new(self._key, f"{room_id}/{report_id}/{expires}".encode(), hashlib.sha256)
        return base64.urlsafe_b64encode(mac.digest()[:18]).decode()

    def url(self, room_id: str, report_id: str, now: float) -> str:
        expires = (int(now) // self.ttl_s + 2) * self.ttl_s
        return (f"/api/rooms/{room_id}/reports/{report_id}/photo"
                f"?exp={expires}&sig={self._sig(room_id, report_id, expires)}")

    def valid(self, room_id: str, report_id: str, exp: str, sig: str, now: float) -> bool:
        if not exp.isdigit() or len(exp) > 12 or int(exp) < now:
            return False
        return hmac.compare_digest(self._sig(room_id, report_id, int(exp)), sig)


class ReportStore:
    """Reports of every room: stream entries in Redis, photos on this node's disk."""

    def __init__(self, client: aioredis.Redis, data_dir: Path) -> None:
        self.redis = client
        self.root = data_dir / "reports"

    def photo_path(self, room_id: str, report_id: str, kind: str) -> Path:
        return self.root / room_id / f"{report_id}.{kind}"

    def find_photo(self, room_id: str, report_id: str) -> Path | None:
        if not REPORT_ID_RE.fullmatch(report_id):
            return None
        for kind in PHOTO_TYPES:
            path = self.photo_path(room_id, report_id, kind)
            if path.is_file():
                return path
        return None

    async def add(self, report: Report, photo: bytes) -> None:
        """Photo first, then the stream entry: dispatch never sees a report without a photo."""
        path = self.photo_path(report.room_id, report.report_id, report.photo_type)
        await asyncio.get_running_loop().run_in_executor(None, _write_file, path, photo)
        try:
            await self.redis.xadd(reports_key(report.room_id), report.fields())
        except BaseException:
            path.unlink(missing_ok=True)
            raise

    async def count(self, room_id: str) -> int:
        return int(await self.redis.xlen(reports_key(room_id)))

    async def list(self, room_id: str, limit: int = MAX_LIST) -> list[Report]:
        """The latest `limit` reports, oldest first."""
        entries = await self.redis.xrevrange(reports_key(room_id), count=limit)
        return [Report.from_fields(fields) for _, fields in reversed(entries)]


def _write_file(path: Path, data: bytes) -> None:
    """Write atomically (temp file + rename), so a reader never sees half a photo."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temp = path.with_name(path.name + ".part")
    with open(temp, "wb") as handle:
        handle.write(data)
    os.replace(temp, path)
