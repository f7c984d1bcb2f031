"""The [whiteboard] section of config.toml (loaded by signaling/config.py)."""

from __future__ import annotations

from dataclasses import dataclass, field

from signaling.config_fields import ConfigError, bounded, choices


@dataclass(frozen=True)
class WhiteboardConfig:
    # Live (not deleted) elements one board may hold; beyond it an upsert is refused.
    max_elements_per_board: int = field(default=5000, metadata=bounded(1, 1_000_000))
    # Boards (named boards and video layers together) one room may have.
    max_boards_per_room: int = field(default=32, metadata=bounded(1, 10_000))
    # Points one element may have (pen and highlighter strokes).
    max_points_per_element: int = field(default=2000, metadata=bounded(2, 1_000_000))
    # Elements one upsert operation may carry.
    max_elements_per_op: int = field(default=200, metadata=bounded(1, 100_000))
    # Size of one operation as compact JSON, in bytes.
    max_op_bytes: int = field(default=60_000, metadata=bounded(256, 16 * 1024 * 1024))
    # Characters of a text or sticky note element.
    max_text_chars: int = field(default=2000, metadata=bounded(1, 1_000_000))
    # Points one wb_live message may carry (stroke and pointer together).
    max_live_points: int = field(default=200, metadata=bounded(1, 100_000))
    # Largest absolute coordinate on a named board, in scene units (its page is
    # board_width x board_height).
    max_coordinate: float = field(default=1_000_000.0, metadata=bounded(1, 1e12))
    # Operations (wb_op, REST ops) per second per participant, sustained.
    ops_per_second: float = field(default=20.0, metadata=bounded(0.1, 100_000))
    # Operations a participant may send in a burst above ops_per_second.
    ops_burst: int = field(default=40, metadata=bounded(1, 100_000))
    # Different participants who may draw on one board within drawer_window_s.
    max_drawers_per_board: int = field(default=50, metadata=bounded(1, 10_000))
    # A participant counts as drawing on a board for this long after its last change (s).
    drawer_window_s: float = field(default=10.0, metadata=bounded(0.5, 3600))
    # Fan-out period: changes and live strokes are coalesced and sent once per tick (ms).
    tick_ms: int = field(default=20, metadata=bounded(5, 1000))
    # Operations of one board logged between two snapshots of its scene (at least; a board of
    # n elements waits n/2 operations, so snapshot cost per operation stays constant).
    snapshot_every_ops: int = field(default=200, metadata=bounded(1, 1_000_000))
    # Tombstones (erased elements) older than this are dropped when a board's snapshot is
    # written, so erasing cannot grow a board without bound (s).
    tombstone_ttl_s: float = field(default=86400.0, metadata=bounded(1, 366 * 86400))
    # Undo entries kept per participant and board.
    undo_depth: int = field(default=100, metadata=bounded(1, 10_000))
    # Draw permission of a room until a host sets one: everyone, presenters or nobody.
    default_permission: str = field(default="everyone",
                                    metadata=choices("everyone", "presenters", "nobody"))
    # The page a named board shows (scene units, as the browsers' board space): exports of a
    # named board cover it, and anything drawn outside it.
    board_width: int = field(default=1600, metadata=bounded(16, 100_000))
    board_height: int = field(default=900, metadata=bounded(16, 100_000))
    # Largest side of an exported board PNG, in pixels.
    export_max_px: int = field(default=2048, metadata=bounded(64, 16384))
    # Width of an exported video layer when no snapshot is drawn under it, in pixels.
    export_width: int = field(default=1280, metadata=bounded(64, 16384))
    # Longest wait for a decoded video frame when taking a snapshot (s).
    snapshot_timeout_s: float = field(default=10.0, metadata=bounded(1, 120))
    # JPEG quality of stored video snapshots (1-100).
    snapshot_jpeg_quality: int = field(default=90, metadata=bounded(1, 100))
    # Video snapshots one room may keep on disk; beyond it the oldest is deleted.
    max_snapshots_per_room: int = field(default=200, metadata=bounded(1, 1_000_000))

    def __post_init__(self) -> None:
        if self.max_live_points > self.max_points_per_element:
            raise ConfigError(f"[whiteboard] max_live_points ({self.max_live_points}) is above "
                              f"max_points_per_element ({self.max_points_per_element})")
