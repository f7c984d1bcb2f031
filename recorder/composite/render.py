"""Drawing one composite frame: tiles at their layout places, pictures letterboxed, names,
and a border round the active speaker."""

from __future__ import annotations

import cv2
import numpy as np

from recorder.composite.labels import LabelPainter
from recorder.composite.layout import Rect, fit, layout
from recorder.composite.tiles import Tile, TileKey

BACKGROUND = (24, 24, 24)  # BGR of the frame behind and between tiles
CARD = (58, 50, 46)  # BGR of a tile with no picture (audio only, camera off)
SPEAKER_BORDER = (60, 200, 255)  # BGR of the frame round the active speaker's tile
GUTTER = 2  # pixels between neighbouring tiles


class FrameRenderer:
    def __init__(self, width: int, height: int, labels: LabelPainter) -> None:
        self.width, self.height = width, height
        self._labels = labels
        # Copied, not filled: numpy broadcasting a 3-byte colour is ~40x slower than memcpy.
        self._background = np.empty((height, width, 3), dtype=np.uint8)
        self._background[:] = BACKGROUND

    def render(self, present: list[Tile], stage: TileKey | None, speaker: str | None,
               t_ms: float) -> np.ndarray:
        canvas = self._background.copy()
        places = layout([t.key for t in present], stage, self.width, self.height)
        for tile in present:
            cell = _inset(places[tile.key])
            self._draw_tile(canvas, tile, cell, t_ms)
            if speaker is not None and tile.participant_id == speaker and not tile.is_screen:
                _border(canvas, cell)
        return canvas

    def _draw_tile(self, canvas: np.ndarray, tile: Tile, cell: Rect, t_ms: float) -> None:
        for reader in tile.video:
            frame = reader.frame_at(t_ms)
            if frame is not None:
                spot = fit(frame.width, frame.height, cell)
                canvas[spot.y:spot.y + spot.h, spot.x:spot.x + spot.w] = \
                    reader.image(spot.w, spot.h)
                break
        else:
            spot = cell
            cv2.rectangle(canvas, (cell.x, cell.y), (cell.x + cell.w - 1, cell.y + cell.h - 1),
                          CARD, thickness=-1)
        # On the picture itself, not in the letterbox bars, as meeting clients show it.
        self._labels.draw(canvas, spot, tile.name)


def _inset(rect: Rect) -> Rect:
    return Rect(rect.x + GUTTER, rect.y + GUTTER, max(2, rect.w - 2 * GUTTER),
                max(2, rect.h - 2 * GUTTER))


def _border(canvas: np.ndarray, cell: Rect, thickness: int = 3) -> None:
    inner = thickness // 2  # cv2 centres the line on the rectangle: keep it inside the cell
    cv2.rectangle(canvas, (cell.x + inner, cell.y + inner),
                  (cell.x + cell.w - 1 - inner, cell.y + cell.h - 1 - inner),
                  SPEAKER_BORDER, thickness)
