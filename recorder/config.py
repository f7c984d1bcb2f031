"""The [recorder] section of config.toml (loaded by signaling/config.py)."""

from __future__ import annotations

from dataclasses import dataclass, field

from signaling.config_fields import ConfigError, bounded, pattern


@dataclass(frozen=True)
class RecorderConfig:
    # Where recordings go; empty: <server.data_dir>/recordings. Nodes serving downloads and
    # recorder workers must see the same directory (shared storage when on other machines).
    dir: str = ""
    # `commandpost serve` starts one `commandpost worker recorder` child process.
    embedded_worker: bool = True
    # Start a recording whenever a room with a feed opens on this node (feeds always-on).
    record_feeds: bool = False
    # Matroska cluster length in ms: a SIGKILL loses at most about this much.
    cluster_ms: int = field(default=1000, metadata=bounded(100, 2000))
    # How often the manifest.json of a running recording is rewritten, in seconds.
    manifest_interval_s: float = field(default=2.0, metadata=bounded(0.2, 60))
    # A job whose worker sent no sign of life for this long is taken by another worker (s).
    claim_idle_s: float = field(default=6.0, metadata=bounded(1, 3600))
    # A worker renews its claim on a running job this often (s); must be below claim_idle_s.
    heartbeat_s: float = field(default=1.0, metadata=bounded(0.1, 600))
    # Stop a recording when the room had no participant and no track for this long (s).
    idle_stop_s: float = field(default=30.0, metadata=bounded(1, 86400))
    # Stop with state stopped_disk_full when the disk has less free space than this (bytes).
    min_free_bytes: int = field(default=64 * 1024 * 1024, metadata=bounded(0, 1 << 50))
    # Delete recordings that stopped more than this many days ago (0: keep forever).
    retention_days: float = field(default=0.0, metadata=bounded(0, 36600))
    # How often a recorder worker looks for recordings past retention_days (s).
    retention_sweep_s: float = field(default=3600.0, metadata=bounded(0.5, 86400))
    # Most tracks one recording writes at once (more are not recorded, and logged).
    max_tracks: int = field(default=64, metadata=bounded(1, 1024))
    # Most recordings one worker process runs at once (more wait for another worker).
    max_jobs: int = field(default=8, metadata=bounded(1, 1000))
    # Addresses the worker's ICE uses (empty: [sfu] ice_host_addresses, else every
    # non-loopback interface).
    ice_addresses: tuple[str, ...] = field(default=(), metadata={"ip": True})
    # Display name of the recorder's hidden participant.
    name: str = field(default="Recorder", metadata=pattern(r".{1,64}", "1 to 64 characters"))
    # Lifetime of the service token a worker mints to join a room (s).
    token_ttl_s: int = field(default=86400, metadata=bounded(60, 366 * 86400))
    # Composite "meeting view" (recorder/composite/): build one when a recording stops.
    composite_auto: bool = True
    # Size of the composite MP4 in pixels (even numbers) and its frame rate (frames/s).
    composite_width: int = field(default=1280, metadata=bounded(64, 3840))
    composite_height: int = field(default=720, metadata=bounded(64, 2160))
    composite_fps: int = field(default=15, metadata=bounded(1, 60))
    # TrueType font of the names on the tiles; it must have CJK glyphs for Chinese names.
    composite_font: str = "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc"
    # A composite build taking longer than this is killed and marked failed (s).
    composite_timeout_s: float = field(default=3600.0, metadata=bounded(1, 86400))

    def __post_init__(self) -> None:
        if self.heartbeat_s >= self.claim_idle_s:
            raise ConfigError(f"[recorder] heartbeat_s ({self.heartbeat_s}) must be below "
                              f"claim_idle_s ({self.claim_idle_s})")
