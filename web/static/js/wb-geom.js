// Whiteboard geometry: where a video frame (or the board's page) sits inside an element box,
// normalised <-> pixel mapping, hit tests, and fractional z-order keys. No DOM, no state.

/**
 * Coordinate spaces (docs/protocol.md "Whiteboard messages"): a video layer (`track:<id>`)
 * uses 0..1 of the frame's width and height, sizes in thousandths of the frame height; a
 * named board uses scene units (CSS px at zoom 1). Our board page is a 1600 x 900 scene-unit
 * sheet shown like a video with `contain`. `size`: how many size units make the frame height.
 */
export const VIDEO_SPACE = { w: 1, h: 1, size: 1000 };
export const BOARD_SPACE = { w: 1600, h: 900, size: 900 };

/**
 * Where a frame of frameW x frameH shows inside a boxW x boxH element with CSS object-fit
 * `fit` (cover crops, contain letterboxes, fill stretches): {x, y, w, h} in CSS px relative to
 * the box; x/y are negative when `cover` crops. Without frame size the box is the frame.
 */
export function frameRect(boxW, boxH, frameW, frameH, fit = "contain") {
  if (!(frameW > 0 && frameH > 0 && boxW > 0 && boxH > 0) || fit === "fill") return { x: 0, y: 0, w: boxW, h: boxH };
  const scaleX = boxW / frameW;
  const scaleY = boxH / frameH;
  let scale = fit === "cover" ? Math.max(scaleX, scaleY) : Math.min(scaleX, scaleY);
  if (fit === "scale-down") scale = Math.min(1, scale);
  if (fit === "none") scale = 1;
  const w = frameW * scale;
  const h = frameH * scale;
  return { x: (boxW - w) / 2, y: (boxH - h) / 2, w, h };
}

/**
 * Mapping between a board's coordinates (`space`, the same on every screen) and CSS pixels
 * of the box showing the frame at `rect`. `mirror` flips x for a video shown mirrored (one's
 * own camera), so a mark lands where the others see it.
 */
export class FrameMapper {
  constructor(rect, mirror = false, space = VIDEO_SPACE) {
    this.rect = rect;
    this.mirror = mirror;
    this.space = space;
  }

  toPx(x, y) {
    const nx = x / this.space.w;
    return [this.rect.x + (this.mirror ? 1 - nx : nx) * this.rect.w, this.rect.y + (y / this.space.h) * this.rect.h];
  }

  /** Pixel position -> board coordinates (may fall outside the frame). */
  toSpace(px, py) {
    const nx = (px - this.rect.x) / this.rect.w;
    return [(this.mirror ? 1 - nx : nx) * this.space.w, ((py - this.rect.y) / this.rect.h) * this.space.h];
  }

  /** A stroke width or font size of the board's unit, in px. */
  size(units) {
    return (units * this.rect.h) / this.space.size;
  }
}

export function clamp01(v) {
  return Math.min(1, Math.max(0, v));
}

/** Distance from point p to segment ab (all [x, y]). */
export function distToSegment(p, a, b) {
  const dx = b[0] - a[0];
  const dy = b[1] - a[1];
  const len2 = dx * dx + dy * dy;
  const t = len2 ? Math.max(0, Math.min(1, ((p[0] - a[0]) * dx + (p[1] - a[1]) * dy) / len2)) : 0;
  return Math.hypot(p[0] - (a[0] + t * dx), p[1] - (a[1] + t * dy));
}

export function distToPolyline(p, points) {
  if (points.length === 1) return Math.hypot(p[0] - points[0][0], p[1] - points[0][1]);
  let best = Infinity;
  for (let i = 1; i < points.length; i += 1) best = Math.min(best, distToSegment(p, points[i - 1], points[i]));
  return best;
}

/** Distance from p to the outline of the ellipse inscribed in box {x, y, w, h} (approximate). */
export function distToEllipse(p, box) {
  const rx = Math.abs(box.w) / 2;
  const ry = Math.abs(box.h) / 2;
  const cx = box.x + box.w / 2;
  const cy = box.y + box.h / 2;
  if (rx < 1e-9 || ry < 1e-9) return distToSegment(p, [box.x, box.y], [box.x + box.w, box.y + box.h]);
  const dx = p[0] - cx;
  const dy = p[1] - cy;
  const angle = Math.atan2(dy / ry, dx / rx);
  return Math.hypot(dx - rx * Math.cos(angle), dy - ry * Math.sin(angle));
}

export function distToRectOutline(p, box) {
  const [x0, x1] = [Math.min(box.x, box.x + box.w), Math.max(box.x, box.x + box.w)];
  const [y0, y1] = [Math.min(box.y, box.y + box.h), Math.max(box.y, box.y + box.h)];
  const corners = [[x0, y0], [x1, y0], [x1, y1], [x0, y1]];
  let best = Infinity;
  for (let i = 0; i < 4; i += 1) best = Math.min(best, distToSegment(p, corners[i], corners[(i + 1) % 4]));
  return best;
}

export function insideBox(p, box) {
  const [x0, x1] = [Math.min(box.x, box.x + box.w), Math.max(box.x, box.x + box.w)];
  const [y0, y1] = [Math.min(box.y, box.y + box.h), Math.max(box.y, box.y + box.h)];
  return p[0] >= x0 && p[0] <= x1 && p[1] >= y0 && p[1] <= y1;
}

// --- fractional indices: z-order keys compared as plain strings (code unit order), so a
// new element goes on top without renumbering others; equal keys (two people adding at the
// same moment) are ordered by element id, as on the server.
const DIGITS = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/** A key greater than `after` (or a first key); short, since appending is the common case. */
export function keyAfter(after) {
  if (!after) return "a0";
  for (let i = after.length - 1; i >= 0; i -= 1) {
    const digit = DIGITS.indexOf(after[i]);
    if (digit >= 0 && digit < DIGITS.length - 1) return after.slice(0, i) + DIGITS[digit + 1];
  }
  return `${after}V`; // all "z": extend (a longer key sorts after its prefix)
}

/** Elements in drawing order: by index, then id (the server's rule). */
export function compareZ(a, b) {
  const ia = a.index ?? "";
  const ib = b.index ?? "";
  if (ia !== ib) return ia < ib ? -1 : 1;
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}
