"""Where each tile goes on the output frame.

Two shapes: a plain grid when nobody is to be enlarged, and "stage + strip" when one tile
(a screen share, else the active speaker) gets the stage: the left three quarters of the
frame, the other tiles stacked in a column on the right. Pure functions of the tile list, so
the renderer and the tests agree on geometry without sharing state.
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Sequence
from dataclasses import dataclass

# Share of the frame width given to the stage when one tile is enlarged.
STAGE_FRACTION = 0.75
# Tiles in the strip beside the stage before the strip gets more columns.
STRIP_ROWS = 4


@dataclass(frozen=True)
class Rect:
    x: int
    y: int
    w: int
    h: int

    @property
    def center(self) -> tuple[int, int]:
        return (self.x + self.w // 2, self.y + self.h // 2)


def layout(tiles: Sequence[Hashable], stage: Hashable | None, width: int,
           height: int) -> dict[Hashable, Rect]:
    """Rectangles (output pixels) for `tiles` in order; `stage`, if it is one of them and
    there are others, is enlarged. A lone tile fills the frame."""
    if not tiles:
        return {}
    if stage not in tiles or len(tiles) == 1:
        return dict(zip(tiles, grid(len(tiles), Rect(0, 0, width, height)), strict=True))
    stage_w = _even(width * STAGE_FRACTION)
    rects = {stage: Rect(0, 0, stage_w, height)}
    others = [t for t in tiles if t != stage]
    strip = Rect(stage_w, 0, width - stage_w, height)
    # Strip cells keep the size four stacked tiles would have; fewer are centred vertically.
    cols = math.ceil(len(others) / STRIP_ROWS)
    cells = _cells(strip, cols, STRIP_ROWS, len(others))
    rects.update(zip(others, cells, strict=True))
    return rects


def grid(count: int, area: Rect) -> list[Rect]:
    """`count` equal cells filling `area` row by row, the last row centred."""
    cols = math.ceil(math.sqrt(count))
    rows = math.ceil(count / cols)
    return _cells(area, cols, rows, count)


def _cells(area: Rect, cols: int, rows: int, count: int) -> list[Rect]:
    cell_w, cell_h = area.w // cols, area.h // rows
    used_rows = math.ceil(count / cols)
    top = area.y + (area.h - used_rows * cell_h) // 2
    cells = []
    for index in range(count):
        row, col = divmod(index, cols)
        in_row = min(cols, count - row * cols)
        left = area.x + (area.w - in_row * cell_w) // 2
        cells.append(Rect(left + col * cell_w, top + row * cell_h, cell_w, cell_h))
    return cells


def fit(src_w: int, src_h: int, cell: Rect) -> Rect:
    """The largest rectangle of the source's aspect ratio inside `cell`, centred (even sizes,
    as the scaler and yuv420p want)."""
    scale = min(cell.w / src_w, cell.h / src_h)
    w, h = max(2, _even(src_w * scale)), max(2, _even(src_h * scale))
    return Rect(cell.x + (cell.w - w) // 2, cell.y + (cell.h - h) // 2, w, h)


def _even(value: float) -> int:
    return int(value) // 2 * 2
