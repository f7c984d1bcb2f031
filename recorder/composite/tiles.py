"""Tiles: who is on screen when, and which track files feed each tile.

A participant has one "person" tile (camera or device feed, name card when only audio) and,
while they share their screen, a "screen" tile. A tile is present while any of its files is
on (per the manifest's start_ms/end_ms), so joining, leaving and mute gaps move tiles.
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass, field

from recorder.composite.audio import AudioTrackReader
from recorder.composite.manifest import RecordingTracks
from recorder.composite.video import VideoTrackReader

TileKey = tuple[str, str]  # (participant_id, "person" | "screen")


@dataclass
class Tile:
    key: TileKey
    name: str
    first_ms: int
    video: list[VideoTrackReader] = field(default_factory=list)
    audio: list[AudioTrackReader] = field(default_factory=list)
    span: list[tuple[int, int]] = field(default_factory=list)  # timeline ms when present

    @property
    def participant_id(self) -> str:
        return self.key[0]

    @property
    def is_screen(self) -> bool:
        return self.key[1] == "screen"

    def present(self, t_ms: float) -> bool:
        return any(lo <= t_ms < hi for lo, hi in self.span)


def make_tiles(tracks: RecordingTracks) -> list[Tile]:
    """Tiles ordered by first appearance (then participant id), with their readers."""
    origin = tracks.start_ms
    tiles: dict[TileKey, Tile] = {}
    for track in tracks.files:
        tile = tiles.get(track.tile_key)
        if tile is None:
            tile = tiles[track.tile_key] = Tile(track.tile_key, track.participant_name,
                                                track.start_ms)
        tile.first_ms = min(tile.first_ms, track.start_ms)
        tile.span.append((track.start_ms - origin, track.end_ms - origin))
        if track.kind == "video":
            tile.video.append(VideoTrackReader(track, origin))
        else:
            tile.audio.append(AudioTrackReader(track, origin))
    return sorted(tiles.values(), key=lambda t: (t.first_ms, t.key))


def stage_of(present: list[Tile], speaker: Hashable | None, t_ms: float) -> TileKey | None:
    """The tile to enlarge: the latest screen share showing video, else the speaker's."""
    screens = [t for t in present if t.is_screen and any(v.active(t_ms) for v in t.video)]
    if screens:
        return max(screens, key=lambda t: t.first_ms).key
    for tile in present:
        if not tile.is_screen and tile.participant_id == speaker:
            return tile.key
    return None
