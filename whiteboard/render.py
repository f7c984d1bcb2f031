"""Board and video-layer exports as images (OpenCV/numpy; Pillow only for text glyphs).

Blocking work: callers run `render` in an executor. A video layer is drawn at the size of
the video snapshot under it (or `export_width` x 9/16 without one): normalised point (x, y)
lands on pixel (x * W, y * H) and widths are thousandths of H, as in the browsers. A named
board is drawn over its page (`board_width` x `board_height` scene units) and anything drawn
beyond it, scaled to fit `export_max_px`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFont

Element = dict[str, Any]
BOARD_BACKGROUND = (255, 255, 255)
VIDEO_BACKGROUND = (32, 32, 32)
HIGHLIGHTER_ALPHA = 0.35
STICKY_TEXT = (36, 31, 27)  # BGR of #1b1f24
MARGIN = 20  # scene units around a board's elements
FONT_PATHS = ("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
              "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")


@dataclass(frozen=True)
class Mapping:
    """Element coordinates -> pixels: p * scale + offset; widths * width_scale."""

    scale: tuple[float, float]
    offset: tuple[float, float]
    width_scale: float

    def px(self, point: Sequence[float]) -> tuple[int, int]:
        return (round(point[0] * self.scale[0] + self.offset[0]),
                round(point[1] * self.scale[1] + self.offset[1]))

    def size(self, value: float) -> int:
        return max(1, round(value * self.width_scale))


def bgr(color: str) -> tuple[int, int, int]:
    value = int(color[1:7], 16)
    return (value & 0xFF, (value >> 8) & 0xFF, value >> 16)


def render_video_layer(elements: Sequence[Element], frame: np.ndarray | None,
                       width: int) -> np.ndarray:
    """Annotations over `frame` (BGR, copied), or over a dark 16:9 canvas."""
    if frame is None:
        canvas = np.full((max(1, width * 9 // 16), width, 3), VIDEO_BACKGROUND, np.uint8)
    else:
        canvas = frame.copy()
    h, w = canvas.shape[:2]
    draw_all(canvas, elements, Mapping((w, h), (0.0, 0.0), h / 1000))
    return canvas


def render_board(elements: Sequence[Element], max_px: int,
                 page: tuple[int, int] = (1600, 900)) -> np.ndarray:
    """A named board: its page (0, 0)-(page) and whatever is drawn beyond it, scaled to at
    most max_px a side."""
    live = [e for e in elements if not e.get("deleted")]
    x0, y0, x1, y1 = 0.0, 0.0, float(page[0]), float(page[1])
    box = bounding_box(live)
    if box is not None:
        x0, y0, x1, y1 = min(x0, box[0]), min(y0, box[1]), max(x1, box[2]), max(y1, box[3])
    span_w, span_h = max(x1 - x0, 1.0), max(y1 - y0, 1.0)
    scale = min(1.0, max_px / max(span_w, span_h))
    w, h = max(1, math.ceil(span_w * scale)), max(1, math.ceil(span_h * scale))
    canvas = np.full((h, w, 3), BOARD_BACKGROUND, np.uint8)
    draw_all(canvas, live, Mapping((scale, scale), (-x0 * scale, -y0 * scale), scale))
    return canvas


def bounding_box(elements: Sequence[Element]) -> tuple[float, float, float, float] | None:
    xs, ys = [], []
    for element in elements:
        pad = element.get("width", 1) / 2 + MARGIN
        for x, y in element["points"]:
            xs += [x - pad, x + pad]
            ys += [y - pad, y + pad]
        if element["type"] == "text":  # text runs right and down from its point
            x, y = element["points"][0]
            size = element.get("font_size", 24)
            xs.append(x + size * max(1, len(element.get("text", ""))) * 0.6 + MARGIN)
            ys.append(y + size * 1.4 * (element.get("text", "").count("\n") + 1) + MARGIN)
    if not xs:
        return None
    return min(xs), min(ys), max(xs), max(ys)


def draw_all(canvas: np.ndarray, elements: Sequence[Element], mapping: Mapping) -> None:
    ordered = sorted((e for e in elements if not e.get("deleted")),
                     key=lambda e: (e.get("index", ""), e["id"]))
    for element in ordered:
        alpha = float(element.get("opacity", 1))
        if element["type"] == "highlighter":
            alpha = min(alpha, HIGHLIGHTER_ALPHA)
        if alpha >= 1:
            draw_element(canvas, element, mapping)
            continue
        layer = canvas.copy()
        draw_element(layer, element, mapping)
        cv2.addWeighted(layer, alpha, canvas, 1 - alpha, 0, dst=canvas)


def draw_element(canvas: np.ndarray, element: Element, mapping: Mapping) -> None:
    kind, color = element["type"], bgr(element["color"])
    thickness = mapping.size(element.get("width", 4))
    pts = [mapping.px(p) for p in element["points"]]
    if kind in ("pen", "highlighter"):
        if len(pts) == 1:
            cv2.circle(canvas, pts[0], max(1, thickness // 2), color, -1, cv2.LINE_AA)
        else:
            cv2.polylines(canvas, [np.array(pts, np.int32)], False, color, thickness,
                          cv2.LINE_AA)
    elif kind == "line":
        cv2.line(canvas, pts[0], pts[-1], color, thickness, cv2.LINE_AA)
    elif kind == "arrow":
        draw_arrow(canvas, pts[0], pts[-1], color, thickness)
    elif kind == "rect":
        cv2.rectangle(canvas, pts[0], pts[1], color, thickness, cv2.LINE_AA)
    elif kind == "ellipse":
        center = ((pts[0][0] + pts[1][0]) // 2, (pts[0][1] + pts[1][1]) // 2)
        axes = (abs(pts[1][0] - pts[0][0]) // 2, abs(pts[1][1] - pts[0][1]) // 2)
        cv2.ellipse(canvas, center, axes, 0, 0, 360, color, thickness, cv2.LINE_AA)
    elif kind == "sticky":
        cv2.rectangle(canvas, pts[0], pts[1], color, -1)
        corner = (min(pts[0][0], pts[1][0]) + thickness, min(pts[0][1], pts[1][1]) + thickness)
        draw_text(canvas, element.get("text", ""), corner,
                  mapping.size(element.get("font_size", 24)), STICKY_TEXT)
    elif kind == "text":
        draw_text(canvas, element.get("text", ""), pts[0],
                  mapping.size(element.get("font_size", 24)), color)


def draw_arrow(canvas: np.ndarray, start: tuple[int, int], end: tuple[int, int],
               color: tuple[int, int, int], thickness: int) -> None:
    cv2.line(canvas, start, end, color, thickness, cv2.LINE_AA)
    angle = math.atan2(end[1] - start[1], end[0] - start[0])
    head = max(10, thickness * 4)
    wing = math.pi / 7
    tip = np.array([end] + [(end[0] - head * math.cos(angle + side * wing),
                             end[1] - head * math.sin(angle + side * wing)) for side in (-1, 1)],
                   np.int32)
    cv2.fillPoly(canvas, [tip], color, cv2.LINE_AA)


def draw_text(canvas: np.ndarray, text: str, origin: tuple[int, int], size: int,
              color: tuple[int, int, int]) -> None:
    """Text through Pillow (CJK glyphs), clipped to the canvas."""
    if not text.strip():
        return
    font = load_font(max(6, min(size, 512)))
    h, w = canvas.shape[:2]
    x, y = origin
    if x >= w or y >= h:
        return
    region = canvas[max(0, y):h, max(0, x):w]
    image = Image.fromarray(region[:, :, ::-1].copy())
    ImageDraw.Draw(image).multiline_text((min(0, x), min(0, y)), text, font=font,
                                         fill=(color[2], color[1], color[0]))
    region[:] = np.asarray(image)[:, :, ::-1]


@lru_cache(maxsize=32)
def load_font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    for path in FONT_PATHS:
        try:
            return ImageFont.truetype(path, size)
        except OSError:
            continue
    return ImageFont.load_default()


def png_bytes(image: np.ndarray) -> bytes:
    ok, data = cv2.imencode(".png", image)
    if not ok:
        raise ValueError("PNG encoding failed")
    return bytes(data)
