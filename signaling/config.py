"""Configuration: one default (`config.toml`), strict parsing, env overrides, validation.

Every key lives in a frozen dataclass per section; the dataclass defaults are the defaults of
the shipped `config.toml`. A key or section we do not know is an error naming it, in the file
and in `COMMANDPOST_<SECTION>_<KEY>` environment variables alike, because a typo that is
silently ignored is a setting that silently does not apply.
"""

from __future__ import annotations

import dataclasses
import ipaddress
import os
import re
import tomllib
import typing
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dispatch.config import DispatchConfig
from recorder.config import RecorderConfig
from signaling.config_fields import ConfigError, bounded, pattern
from signaling.tokens import GRANTS
from transcribe.config import TranscribeConfig
from whiteboard.config import WhiteboardConfig

__all__ = ["Config", "ConfigError", "load_config"]

ENV_PREFIX = "COMMANDPOST_"
LOG_LEVELS = ("debug", "info", "warning", "error")
EVENT_LOOPS = ("asyncio", "uvloop")


_range = bounded
_pattern = pattern


@dataclass(frozen=True)
class ServerConfig:
    host: str = "127.0.0.1"
    port: int = field(default=8080, metadata=_range(1, 65535))
    public_url: str = field(default="", metadata=_pattern(
        r"(https?://[^\s/]+(/\S*)?)?", "empty or an http:// or https:// URL"))
    node_id: str = field(default="", metadata=_pattern(
        r"[A-Za-z0-9_.-]{0,64}", "at most 64 letters, digits, '_', '.' or '-'"))
    data_dir: str = field(default="data", metadata=_pattern(r".+", "a directory path"))
    secret: str = field(default="", metadata=_pattern(
        r"(.{16,})?", "empty (generated) or at least 16 characters", secret=True))
    api_key: str = ""
    # uvloop measured 7-9 % less CPU per forwarded packet than asyncio (docs/PERFORMANCE.md).
    event_loop: str = field(default="uvloop", metadata={"choices": EVENT_LOOPS})
    # SFU worker processes behind this front (0: one per CPU core; 1: a single process).
    workers: int = field(default=0, metadata=_range(0, 256))

    @property
    def base_url(self) -> str:
        """Where browsers reach this node: `public_url`, else http://host:port."""
        if self.public_url:
            return self.public_url.rstrip("/")
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    @property
    def worker_count(self) -> int:
        """How many SFU worker processes `serve` runs: `workers`, or for 0 the cores this
        process may run on (a container's cpuset, not the whole machine's count)."""
        if self.workers:
            return self.workers
        if hasattr(os, "sched_getaffinity"):
            return max(1, len(os.sched_getaffinity(0)))
        return os.cpu_count() or 1


@dataclass(frozen=True)
class RedisConfig:
    url: str = field(default="", metadata=_pattern(
        r"((redis|rediss|unix)://\S+)?", "empty or a redis://, rediss:// or unix:// URL"))
    server_binary: str = field(default="redis-server", metadata=_pattern(r".+", "a program"))


@dataclass(frozen=True)
class TokensConfig:
    host_ttl_s: int = field(default=86400, metadata=_range(60, 366 * 86400))
    share_ttl_s: int = field(default=604800, metadata=_range(1, 366 * 86400))
    guest_grants: tuple[str, ...] = field(
        default=("join", "publish", "subscribe", "publish_data"),
        metadata={"choices": tuple(sorted(GRANTS))},
    )


@dataclass(frozen=True)
class LimitsConfig:
    ws_max_message_bytes: int = field(default=65536, metadata=_range(1024, 16 * 1024 * 1024))
    ws_messages_per_second: float = field(default=20.0, metadata=_range(0.1, 10000))
    ws_message_burst: int = field(default=40, metadata=_range(1, 100000))
    max_sdp_bytes: int = field(default=65536, metadata=_range(1024, 16 * 1024 * 1024))
    max_m_sections: int = field(default=16, metadata=_range(1, 512))
    max_participants_per_room: int = field(default=50, metadata=_range(1, 100000))
    presence_timeout_s: float = field(default=15.0, metadata=_range(3, 3600))
    join_timeout_s: float = field(default=10.0, metadata=_range(0.1, 3600))


@dataclass(frozen=True)
class SfuConfig:
    ice_host_addresses: tuple[str, ...] = field(default=(), metadata={"ip": True})
    ice_public_addresses: tuple[str, ...] = field(default=(), metadata={"ip": True})
    keyframe_min_interval_s: float = field(default=1.0, metadata=_range(0.0, 60))
    packet_history_ms: int = field(default=1000, metadata=_range(1000, 60000))
    bwe_start_bps: int = field(default=1_000_000, metadata=_range(10_000, 100_000_000))
    bwe_min_bps: int = field(default=50_000, metadata=_range(10_000, 100_000_000))
    bwe_max_bps: int = field(default=20_000_000, metadata=_range(10_000, 100_000_000))
    simulcast: bool = True
    simulcast_layer_idle_s: float = field(default=4.0, metadata=_range(0.5, 600))
    native_send: bool = True

    def __post_init__(self) -> None:
        if not self.bwe_min_bps <= self.bwe_start_bps <= self.bwe_max_bps:
            raise ConfigError("[sfu] needs bwe_min_bps <= bwe_start_bps <= bwe_max_bps, got "
                              f"{self.bwe_min_bps}, {self.bwe_start_bps}, {self.bwe_max_bps}")


@dataclass(frozen=True)
class TurnConfig:
    # Each URL is checked on its own ("items"): a typo such as "turn//host" must not reach
    # browsers, which would reject the whole RTCPeerConnection config.
    urls: tuple[str, ...] = field(default=(), metadata={"items": _pattern(
        r"(turns?|stun):[^\s?/]+(\?transport=(udp|tcp))?",
        "a turn:, turns: or stun: URL such as turn:turn.example.org:3478?transport=udp")})
    secret: str = field(default="", metadata=_pattern(
        r"(\S{8,})?", "empty (TURN off) or at least 8 characters without spaces", secret=True))
    credential_ttl_s: int = field(default=3600, metadata=_range(60, 7 * 86400))

    @property
    def enabled(self) -> bool:
        return bool(self.urls and self.secret)


# Slippy-map tile URL: http(s):// or a path on this server, with {z}, {x} and {y}.
_TILE_URL = r"((?=\S*\{z\})(?=\S*\{x\})(?=\S*\{y\})(https?://|/)\S+)?"


@dataclass(frozen=True)
class WallConfig:
    map_tile_url: str = field(default="", metadata=_pattern(
        _TILE_URL, "empty or an http(s):// URL or /path containing {z}, {x} and {y}"))
    map_max_zoom: int = field(default=18, metadata=_range(0, 22))
    map_attribution: str = field(default="", metadata=_pattern(
        r".{0,200}", "at most 200 characters"))
    frame_stale_s: float = field(default=3.0, metadata=_range(0.5, 60))
    layout_max_bytes: int = field(default=16384, metadata=_range(256, 1024 * 1024))
    layout_ttl_s: int = field(default=90 * 86400, metadata=_range(60, 3660 * 86400))


@dataclass(frozen=True)
class ReportsConfig:
    max_photo_bytes: int = field(default=8 * 1024 * 1024,
                                 metadata=_range(1024, 256 * 1024 * 1024))
    max_note_chars: int = field(default=2000, metadata=_range(0, 100000))
    photo_url_ttl_s: int = field(default=3600, metadata=_range(60, 7 * 86400))
    max_per_room: int = field(default=1000, metadata=_range(1, 1_000_000))


@dataclass(frozen=True)
class FeedsConfig:
    max_feeds_per_room: int = field(default=16, metadata=_range(1, 1000))
    rtmp_listen_host: str = field(default="127.0.0.1", metadata=_pattern(
        r"\S+", "an IP address or host name to bind RTMP listeners to"))
    rtmp_public_host: str = field(default="", metadata=_pattern(
        r"[A-Za-z0-9.:\[\]-]*", "empty or a host name or IP address"))
    rtmp_port_min: int = field(default=19350, metadata=_range(1, 65535))
    rtmp_port_max: int = field(default=19449, metadata=_range(1, 65535))
    whip_token_ttl_s: int = field(default=30 * 86400, metadata=_range(60, 366 * 86400))
    retry_min_s: float = field(default=1.0, metadata=_range(0.1, 3600))
    retry_max_s: float = field(default=30.0, metadata=_range(0.1, 3600))
    open_timeout_s: float = field(default=5.0, metadata=_range(0.5, 120))
    read_timeout_s: float = field(default=5.0, metadata=_range(0.5, 120))
    transcode_h265: bool = False
    transcode_bitrate_bps: int = field(default=2_000_000, metadata=_range(100_000, 50_000_000))

    def __post_init__(self) -> None:
        if self.rtmp_port_min > self.rtmp_port_max:
            raise ConfigError(f"[feeds] rtmp_port_min ({self.rtmp_port_min}) is above "
                              f"rtmp_port_max ({self.rtmp_port_max})")
        if self.retry_min_s > self.retry_max_s:
            raise ConfigError(f"[feeds] retry_min_s ({self.retry_min_s}) is above "
                              f"retry_max_s ({self.retry_max_s})")


@dataclass(frozen=True)
class LogConfig:
    level: str = field(default="info", metadata={"choices": LOG_LEVELS})


@dataclass(frozen=True)
class Config:
    server: ServerConfig = field(default_factory=ServerConfig)
    redis: RedisConfig = field(default_factory=RedisConfig)
    tokens: TokensConfig = field(default_factory=TokensConfig)
    limits: LimitsConfig = field(default_factory=LimitsConfig)
    sfu: SfuConfig = field(default_factory=SfuConfig)
    turn: TurnConfig = field(default_factory=TurnConfig)
    reports: ReportsConfig = field(default_factory=ReportsConfig)
    wall: WallConfig = field(default_factory=WallConfig)
    feeds: FeedsConfig = field(default_factory=FeedsConfig)
    # Sections of the extension packages (signaling/extensions.py), each defined there.
    recorder: RecorderConfig = field(default_factory=RecorderConfig)
    transcribe: TranscribeConfig = field(default_factory=TranscribeConfig)
    whiteboard: WhiteboardConfig = field(default_factory=WhiteboardConfig)
    dispatch: DispatchConfig = field(default_factory=DispatchConfig)
    log: LogConfig = field(default_factory=LogConfig)


SECTIONS: dict[str, type] = dict(typing.get_type_hints(Config))


def load_config(path: Path | str | None = None, env: Mapping[str, str] | None = None) -> Config:
    """Read `path` (None: built-in defaults), then apply COMMANDPOST_* overrides from `env`."""
    raw: dict[str, dict[str, Any]] = {}
    if path is not None:
        raw = _read_toml(Path(path))
    env = os.environ if env is None else env
    values: dict[str, dict[str, Any]] = {}
    for section, table in raw.items():
        values[section] = {key: _coerce(section, key, value, f"[{section}] {key}")
                           for key, value in table.items()}
    for section, key, text, name in _env_overrides(env):
        values.setdefault(section, {})[key] = _parse_env(section, key, text, name)
    return Config(**{section: SECTIONS[section](**values.get(section, {})) for section in SECTIONS})


def _read_toml(path: Path) -> dict[str, dict[str, Any]]:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"cannot read config file {path}: {exc.strerror}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: invalid TOML: {exc}") from None
    for section, table in data.items():
        if section not in SECTIONS:
            raise ConfigError(f"{path}: unknown section [{section}]")
        if not isinstance(table, dict):
            raise ConfigError(f"{path}: [{section}] must be a table")
        known = _field_types(section)
        for key in table:
            if key not in known:
                raise ConfigError(f"{path}: unknown key {key!r} in [{section}]")
    return data


def _env_overrides(env: Mapping[str, str]) -> list[tuple[str, str, str, str]]:
    found = []
    for name, text in sorted(env.items()):
        if not name.startswith(ENV_PREFIX):
            continue
        rest = name[len(ENV_PREFIX):].lower()
        section = next((s for s in SECTIONS if rest.startswith(s + "_")), None)
        if section is None:
            raise ConfigError(f"environment variable {name}: no such config section")
        key = rest[len(section) + 1:]
        if key not in _field_types(section):
            raise ConfigError(f"environment variable {name}: unknown key {key!r} in [{section}]")
        found.append((section, key, text, name))
    return found


def _field_types(section: str) -> dict[str, Any]:
    return typing.get_type_hints(SECTIONS[section])


def _field_meta(section: str, key: str) -> Mapping[str, Any]:
    for f in dataclasses.fields(SECTIONS[section]):
        if f.name == key:
            return f.metadata
    raise KeyError(key)


def _parse_env(section: str, key: str, text: str, name: str) -> Any:
    """Environment values are strings: convert by the key's type, then validate as usual."""
    kind = _field_types(section)[key]
    value: Any = text
    try:
        if kind is bool:
            if text.strip().lower() not in ("true", "false"):
                raise ValueError
            value = text.strip().lower() == "true"
        elif kind is int:
            value = int(text.strip())
        elif kind is float:
            value = float(text.strip())
        elif kind != str:  # tuple[str, ...]: comma separated
            value = [item.strip() for item in text.split(",") if item.strip()]
    except ValueError:
        raise ConfigError(f"{name}: expected {_type_name(kind)}, got {text!r}") from None
    return _coerce(section, key, value, name)


def _type_name(kind: Any) -> str:
    return {bool: "true or false", int: "an integer", float: "a number", str: "a string"}.get(
        kind, "a list of strings")


def _coerce(section: str, key: str, value: Any, name: str) -> Any:
    kind = _field_types(section)[key]
    meta = _field_meta(section, key)
    if kind is bool:
        ok = isinstance(value, bool)
    elif kind is int:
        ok = isinstance(value, int) and not isinstance(value, bool)
    elif kind is float:
        ok = isinstance(value, (int, float)) and not isinstance(value, bool)
        value = float(value) if ok else value
    elif kind is str:
        ok = isinstance(value, str)
    else:
        ok = isinstance(value, list) and all(isinstance(item, str) for item in value)
        value = tuple(value) if ok else value
    if not ok:
        raise ConfigError(f"{name}: expected {_type_name(kind)}, got {value!r}")
    _check(meta, value, name)
    return value


def _check(meta: Mapping[str, Any], value: Any, name: str) -> None:
    lo, hi = meta.get("min"), meta.get("max")
    if lo is not None and value < lo:
        raise ConfigError(f"{name}: {value} is below the minimum {lo}")
    if hi is not None and value > hi:
        raise ConfigError(f"{name}: {value} is above the maximum {hi}")
    pattern = meta.get("pattern")
    if pattern is not None and not re.fullmatch(pattern, value):
        shown = "the value" if meta.get("secret") else repr(value)
        raise ConfigError(f"{name}: {shown} is invalid, must be {meta['expect']}")
    items = meta.get("items")
    if items is not None:
        for item in value:
            _check(items, item, name)
    if meta.get("ip"):
        for item in value:
            try:
                ipaddress.ip_address(item)
            except ValueError:
                raise ConfigError(f"{name}: {item!r} is not an IP address") from None
    choices = meta.get("choices")
    if choices is not None:
        for item in value if isinstance(value, tuple) else (value,):
            if item not in choices:
                raise ConfigError(f"{name}: {item!r} is not one of {', '.join(choices)}")
