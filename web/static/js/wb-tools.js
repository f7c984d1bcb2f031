// The drawing tools: which one is picked (with colour and width, shared by the board and
// every video layer of the page) and the gesture each makes from pointer positions in the
// board's coordinates (see wb-geom.js spaces). Gestures build element drafts; sending them
// is wb-sync's job.
import { VIDEO_SPACE } from "./wb-geom.js";

export const TOOLS = ["pen", "highlighter", "line", "arrow", "rect", "ellipse", "text", "sticky", "eraser", "laser"];
export const COLORS = ["#e5484d", "#f76b15", "#ffc53d", "#46a758", "#0090ff", "#8e4ec6", "#ffffff", "#1b1f24"];
export const WIDTHS = [3, 6, 12]; // thousandths of the frame height: thin, medium, thick
export const FREEHAND = new Set(["pen", "highlighter"]);
export const STICKY_COLOR = "#ffe066";
export const HIGHLIGHTER_OPACITY = 0.35; // the server draws a highlighter at most this opaque
const STICKY_SIZE = 0.2; // of the frame width; as tall on screen
const HIGHLIGHTER_FACTOR = 4; // a highlighter is this much wider than a pen of the same size
const FONT_THOUSANDTHS = 40; // text size for the medium width, in thousandths of the frame height
const MIN_POINT_GAP = 0.0015; // of the frame height: closer pointer samples add nothing visible

export function newId() {
  const bytes = crypto.getRandomValues(new Uint8Array(10));
  return [...bytes].map((b) => b.toString(16).padStart(2, "0")).join("");
}

export class ToolState {
  constructor() {
    this.tool = "pen";
    this.color = COLORS[0];
    this.width = WIDTHS[1];
    this.listeners = new Set();
  }

  set(changes) {
    Object.assign(this, changes);
    for (const fn of this.listeners) fn(this);
  }

  onChange(fn) {
    this.listeners.add(fn);
  }
}

/**
 * One pointer gesture. kind: "draw" (a draft element that grows), "erase" (ids under the
 * path), "laser" (a fading trail) or "place" (text and sticky: a point where an editor opens).
 */
export class Gesture {
  /** space: the board's coordinate space; aspect: frame width / height in pixels. */
  constructor(tools, start, { space = VIDEO_SPACE, aspect = 1 } = {}) {
    this.tool = tools.tool;
    this.color = tools.color;
    this.space = space;
    this.aspect = aspect;
    // Widths are picked in thousandths of the frame height; the board keeps its own unit.
    this.unit = space.size / 1000;
    this.width = round(tools.width * this.unit, 2);
    this.fontSize = round(FONT_THOUSANDTHS * Math.sqrt(tools.width / WIDTHS[1]) * this.unit, 2);
    this.precision = space.w === 1 ? 5 : 2; // ~0.2 px on a 4K wall either way
    this.path = [this.point(start)];
    if (this.tool === "eraser") this.kind = "erase";
    else if (this.tool === "laser") this.kind = "laser";
    else if (this.tool === "text" || this.tool === "sticky") this.kind = "place";
    else this.kind = "draw";
    this.draft = this.kind === "draw" ? this.makeDraft() : null;
  }

  /** Inside the frame (a mark outside it would be cut off elsewhere), rounded. */
  point([x, y]) {
    const clampTo = (v, max) => round(Math.min(max, Math.max(0, v)), this.precision);
    return [clampTo(x, this.space.w), clampTo(y, this.space.h)];
  }

  makeDraft() {
    const first = this.path[0];
    const draft = {
      id: newId(),
      type: this.tool,
      points: FREEHAND.has(this.tool) ? [first] : [first, first],
      color: this.color,
      width: this.tool === "highlighter" ? this.width * HIGHLIGHTER_FACTOR : this.width,
    };
    if (this.tool === "highlighter") draft.opacity = HIGHLIGHTER_OPACITY;
    return draft;
  }

  /** A new pointer position; returns the points it added (for streaming), maybe none. */
  move(p) {
    const next = this.point(p);
    const last = this.path[this.path.length - 1];
    if (Math.hypot(next[0] - last[0], next[1] - last[1]) < MIN_POINT_GAP * this.space.h) return [];
    this.path.push(next);
    if (!this.draft) return [next];
    if (FREEHAND.has(this.tool)) this.draft.points.push(next);
    else this.draft.points = [this.draft.points[0], next];
    return [next];
  }

  /** The finished element (draw), or null when the gesture made nothing worth keeping. */
  finish() {
    if (this.kind !== "draw") return null;
    const pts = this.draft.points;
    // A click with a shape tool would leave an invisible zero-size shape.
    if (!FREEHAND.has(this.tool) && pts[0][0] === pts[1][0] && pts[0][1] === pts[1][1]) return null;
    return this.draft;
  }

  /** A text or sticky element placed at the gesture's start, once its text is known. */
  placed(text) {
    const [x, y] = this.path[0];
    const sticky = this.tool === "sticky";
    const element = { id: newId(), type: this.tool, color: sticky ? STICKY_COLOR : this.color, width: this.width, text, font_size: this.fontSize };
    if (!sticky) {
      element.points = [[x, y]];
      return element;
    }
    // A note near the edge moves in rather than shrinking (it must fit inside the frame).
    const w = Math.min(STICKY_SIZE * this.space.w, this.space.w);
    const h = Math.min(STICKY_SIZE * this.aspect * this.space.h, this.space.h);
    const left = Math.min(x, this.space.w - w);
    const top = Math.min(y, this.space.h - h);
    element.points = [this.point([left, top]), this.point([left + w, top + h])];
    return element;
  }
}

function round(v, digits) {
  const f = 10 ** digits;
  return Math.round(v * f) / f;
}
