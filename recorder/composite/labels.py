"""Name labels drawn on tiles, Chinese included.

OpenCV's built-in Hershey fonts have no CJK glyphs and opencv-python-headless is built
without cv2.freetype, so text is rasterised by Pillow from a TrueType font (WenQuanYi Micro
Hei by default, Debian fonts-wqy-microhei) and alpha-blended onto the frame with numpy.
Each (name, size) is rendered once and cached for the life of one composite.
"""

from __future__ import annotations

import logging
from functools import lru_cache
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFont

from recorder.composite.layout import Rect

log = logging.getLogger(__name__)

DEFAULT_FONT = "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc"
# Label text height as a share of the tile height, within these pixel bounds.
TEXT_SHARE, MIN_PX, MAX_PX = 0.09, 12, 28
BACKDROP_ALPHA = 0.55  # opacity of the dark box behind the text, so it reads on any picture


class LabelPainter:
    def __init__(self, font_path: str = DEFAULT_FONT) -> None:
        self._font_path = font_path
        if not Path(font_path).is_file():
            log.warning("font %s not found: names in CJK scripts will not render", font_path)
        self._render = lru_cache(maxsize=256)(self._render_uncached)

    def draw(self, canvas: np.ndarray, tile: Rect, text: str) -> Rect:
        """Draw `text` at the bottom-left of `tile` on `canvas` (BGR, in place); returns the
        label's rectangle (clipped to the tile)."""
        size = int(min(MAX_PX, max(MIN_PX, tile.h * TEXT_SHARE)))
        glyphs = self._render(text, size)  # float alpha of the text, h x w
        pad = max(2, size // 4)
        h = min(glyphs.shape[0] + 2 * pad, tile.h)
        w = min(glyphs.shape[1] + 2 * pad, tile.w)
        x0, y0 = tile.x + pad, tile.y + tile.h - h - pad
        x0, y0 = max(tile.x, x0), max(tile.y, y0)
        w, h = min(w, tile.x + tile.w - x0), min(h, tile.y + tile.h - y0)
        region = canvas[y0:y0 + h, x0:x0 + w]
        cv2.convertScaleAbs(region, dst=region, alpha=1.0 - BACKDROP_ALPHA)
        text_h, text_w = min(glyphs.shape[0], h - pad), min(glyphs.shape[1], w - pad)
        if text_h > 0 and text_w > 0:
            alpha = glyphs[:text_h, :text_w, None]
            spot = region[pad:pad + text_h, pad:pad + text_w]
            spot[:] = (spot * (1.0 - alpha) + 255.0 * alpha).astype(np.uint8)
        return Rect(x0, y0, w, h)

    def _render_uncached(self, text: str, size: int) -> np.ndarray:
        font = self._font(size)
        left, top, right, bottom = font.getbbox(text)
        image = Image.new("L", (max(1, right - left), max(1, bottom - top)), 0)
        ImageDraw.Draw(image).text((-left, -top), text, fill=255, font=font)
        return np.asarray(image, dtype=np.float32) / 255.0

    def _font(self, size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
        try:
            return ImageFont.truetype(self._font_path, size)
        except OSError:
            return ImageFont.load_default(size)
