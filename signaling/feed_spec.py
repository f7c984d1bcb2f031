"""What a client may ask for in `POST /api/rooms/{room_id}/feeds`, checked before anything runs.

The RTSP URL is a security boundary: the demuxer (FFmpeg through PyAV) opens whatever URL it
is given, including `file:`, `http:` and nested protocols such as `concat:` or `subfile,,`
that read local files or reach other services. Only `rtsp://` and `rtsps://` URLs with a
plain host part pass, and nothing the FFmpeg URL parser could read as another protocol.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import SplitResult, urlsplit

from signaling.errors import SignalingError
from signaling.rooms import clean_name

KINDS = ("rtsp", "rtmp", "whip")
RTSP_SCHEMES = ("rtsp", "rtsps")
MAX_URL_CHARS = 2048
DEFAULT_NAMES = {"rtsp": "Camera", "rtmp": "RTMP feed", "whip": "WHIP feed"}
# A host name as DNS allows it (letters, digits, '-', dots); urlsplit checks IPv6 literals.
_HOSTNAME_RE = re.compile(r"(?=.{1,253}$)[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
                          r"(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*\.?")
# Userinfo, path and query: printable ASCII without spaces, quotes, '<>', '\\', '^', '`',
# '{|}' (the characters an RTSP URL never needs, among them FFmpeg's option separator '|').
_SAFE_RE = re.compile(r"[A-Za-z0-9\-._~%!$&'()*+,;=:@/?#\[\]]*")


@dataclass(frozen=True)
class Location:
    lat: float
    lon: float

    def to_json(self) -> dict[str, float]:
        return {"lat": self.lat, "lon": self.lon}


@dataclass(frozen=True)
class FeedRequest:
    kind: str
    name: str
    url: str | None
    location: Location | None


def parse_feed_request(body: dict[str, Any]) -> FeedRequest:
    """Validate a feed registration body; raises SignalingError(bad_request) naming the field."""
    kind = body.get("kind")
    if kind not in KINDS:
        raise SignalingError("bad_request", f"kind must be one of {', '.join(KINDS)}, "
                             f"got {_shown(kind)}")
    name = clean_name(body.get("name"), DEFAULT_NAMES[kind])
    url = body.get("url")
    if kind == "rtsp":
        url = check_rtsp_url(url)
    elif url is not None:
        raise SignalingError("bad_request", f"a {kind} feed takes no url (the server gives "
                             "the address to publish to)")
    return FeedRequest(kind, name, url, parse_location(body.get("location")))


def check_rtsp_url(url: object) -> str:
    """The URL if it is a well-formed rtsp:// or rtsps:// URL, else SignalingError."""
    if not isinstance(url, str) or not url:
        raise SignalingError("bad_request", "an rtsp feed needs url, e.g. "
                             "\"rtsp://192.0.2.10:554/stream1\"")
    if len(url) > MAX_URL_CHARS:
        raise SignalingError("bad_request", f"url is longer than {MAX_URL_CHARS} characters")
    scheme = url.split(":", 1)[0] if ":" in url else ""
    if scheme.lower() not in RTSP_SCHEMES or not url[len(scheme):].startswith("://"):
        raise SignalingError("bad_request", f"url scheme {_shown(scheme or url[:16])} is not "
                             "allowed: only rtsp:// and rtsps:// URLs can be pulled")
    if not url.isascii() or not _SAFE_RE.fullmatch(url[len(scheme) + 3:]):
        raise SignalingError("bad_request", "url contains characters an RTSP URL may not "
                             "hold (spaces, control characters, quotes, '|', '<>', non-ASCII)")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise SignalingError("bad_request", f"url is malformed: {exc}") from None
    _check_host(parts)
    if port == 0:
        raise SignalingError("bad_request", "url port must be 1-65535")
    if parts.fragment:
        raise SignalingError("bad_request", "url must not have a #fragment")
    return url


def _check_host(parts: SplitResult) -> None:
    host = parts.hostname
    if not host:
        raise SignalingError("bad_request", "url has no host")
    if "[" in parts.netloc.rsplit("@", 1)[-1]:
        return  # an IPv6 literal, already checked by urlsplit
    if not _HOSTNAME_RE.fullmatch(host):
        raise SignalingError("bad_request", f"url host {_shown(host)} is not a valid host "
                             "name or address")


def redact_url(url: str) -> str:
    """The URL with any password replaced by '***' (camera passwords stay in Redis only)."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    userinfo, _, hostport = parts.netloc.rpartition("@")
    user = userinfo.split(":", 1)[0]
    return parts._replace(netloc=f"{user}:***@{hostport}").geturl()


def parse_location(value: object) -> Location | None:
    if value is None:
        return None
    if not isinstance(value, dict):
        raise SignalingError("bad_request", "location must be an object {\"lat\", \"lon\"}")
    lat, lon = value.get("lat"), value.get("lon")
    for field, number, limit in (("lat", lat, 90), ("lon", lon, 180)):
        if not isinstance(number, (int, float)) or isinstance(number, bool) \
                or not math.isfinite(number) or abs(number) > limit:
            raise SignalingError("bad_request", f"location.{field} must be a number "
                                 f"between -{limit} and {limit}")
    return Location(float(lat), float(lon))  # type: ignore[arg-type]


def _shown(value: object) -> str:
    return repr(value)[:40]
