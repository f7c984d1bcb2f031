// One drawing surface: a transparent canvas over a host element (the board's page or a video
// tile) that shows one board's scene, streams this user's gestures through wb-sync, and
// shows who made a mark on hover. Rendering is incremental: committed elements are drawn
// once into a cache canvas (new marks on top are added to it; only erasures, reordering or a
// new size redraw it all); each animation frame only composites the cache with in-progress
// strokes (ours and others') and laser trails, and only when something changed.
import { FrameMapper, VIDEO_SPACE, distToEllipse, distToPolyline, distToRectOutline, frameRect, insideBox } from "./wb-geom.js";
import { FONT, LASER_FADE_MS, boxPx, drawElement, drawLaser, fontPx } from "./wb-render.js";
import { LASER_COLOR } from "./wb-sync.js";
import { Gesture } from "./wb-tools.js";

const HIT_TOLERANCE_PX = 6;
// The server's default max_points_per_element is 2000: a longer scribble is kept as several
// strokes that join end to start.
const MAX_STROKE_POINTS = 1500;

function el(tag, className) {
  const node = document.createElement(tag);
  node.className = className;
  return node;
}

export class Surface {
  /**
   * host: the positioned element to cover; frame(): {width, height, fit, mirror} of what is
   * shown in it (a video's videoWidth/videoHeight and object-fit, or the board's page);
   * sync: WhiteboardSync; tools: ToolState; boardId: which board this surface shows; space:
   * the board's coordinate space (wb-geom.js); paper: the page colour of a board, if any.
   */
  constructor({ host, boardId, sync, tools, frame, i18n, space = VIDEO_SPACE, paper = null }) {
    Object.assign(this, { host, boardId, sync, tools, frame, i18n, space, paper });
    this.scene = sync.scene(boardId);
    this.canvas = el("canvas", "wb-canvas");
    this.canvas.dataset.board = boardId;
    this.cache = document.createElement("canvas");
    this.tooltip = el("div", "wb-tooltip");
    this.tooltip.hidden = true;
    host.append(this.canvas, this.tooltip);
    this.drafts = new Map(); // id -> element being drawn (ours and remote)
    this.lasers = new Map(); // participant id -> {trail, color}
    this.gesture = null;
    this.interactive = false;
    this.cacheStale = true;
    this.cacheFull = true; // the next cache draw must start from scratch
    this.cached = []; // [id, version] of the scene's visible elements in the cache, in order
    this.cacheView = "";
    this.frameRequested = false;
    this.offScene = this.scene.onChange(() => this.invalidate(false));
    this.resizer = new ResizeObserver(() => this.invalidate());
    this.resizer.observe(host);
    this.bindPointer();
    sync.attach(boardId, this);
    this.invalidate();
  }

  /** Mapping for the host's current size and the frame's current size and fit. */
  mapper() {
    const box = this.host.getBoundingClientRect();
    const f = this.frame();
    return new FrameMapper(frameRect(box.width, box.height, f.width, f.height, f.fit), Boolean(f.mirror), this.space);
  }

  /** Drawing mode on or off (pointer input goes to the canvas only while on). */
  setInteractive(on) {
    this.interactive = on;
    this.canvas.classList.toggle("is-interactive", on);
    if (!on) this.cancelGesture();
  }

  // --- rendering
  /** full: the cache must be redrawn from scratch (else new marks on top are just added). */
  invalidate(full = true) {
    this.cacheStale = true;
    if (full) this.cacheFull = true;
    this.requestFrame();
  }

  requestFrame() {
    if (this.frameRequested || this.closed) return;
    this.frameRequested = true;
    requestAnimationFrame((now) => this.draw(now));
  }

  draw(now) {
    this.frameRequested = false;
    const box = this.host.getBoundingClientRect();
    const dpr = window.devicePixelRatio || 1;
    const w = Math.max(1, Math.round(box.width * dpr));
    const h = Math.max(1, Math.round(box.height * dpr));
    if (this.canvas.width !== w || this.canvas.height !== h) {
      this.canvas.width = w;
      this.canvas.height = h;
      this.cacheStale = true;
    }
    const ctx = this.canvas.getContext("2d");
    const f = this.frame();
    if (!(f.width > 0 && f.height > 0)) {
      // No picture yet (or camera off): marks would float over nothing, so show none.
      ctx.clearRect(0, 0, w, h);
      this.cacheStale = true;
      return;
    }
    const mapper = this.mapper();
    if (this.cacheStale) this.drawCache(mapper, w, h, dpr);
    ctx.setTransform(1, 0, 0, 1, 0, 0);
    ctx.clearRect(0, 0, w, h);
    ctx.drawImage(this.cache, 0, 0);
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    for (const draft of this.drafts.values()) drawElement(ctx, mapper, draft);
    let fading = false;
    for (const [id, laser] of this.lasers) {
      drawLaser(ctx, mapper, laser.trail, laser.color, now);
      const last = laser.trail[laser.trail.length - 1];
      if (last && now - last.t < LASER_FADE_MS) fading = true;
      else this.lasers.delete(id);
    }
    if (fading) this.requestFrame(); // keep animating the fade
  }

  drawCache(mapper, w, h, dpr) {
    const visible = this.scene.visible();
    const view = JSON.stringify([w, h, dpr, mapper.rect, mapper.mirror]);
    const ctx = this.cache.getContext("2d");
    let from = 0;
    if (this.cacheFull || view !== this.cacheView || !this.onlyAdded(visible)) {
      this.cache.width = w; // also clears it
      this.cache.height = h;
      ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
      if (this.paper) {
        // The board's page: the frame's area, so the letterboxing around it stays visible.
        ctx.fillStyle = this.paper;
        ctx.fillRect(mapper.rect.x, mapper.rect.y, mapper.rect.w, mapper.rect.h);
      }
    } else {
      from = this.cached.length; // the rest are new marks on top of everything drawn
    }
    let skipped = false;
    for (const element of visible.slice(from)) {
      // An element still shown as a draft is drawn with the drafts; a later full redraw
      // puts it in the cache.
      if (this.drafts.has(element.id)) skipped = true;
      else drawElement(ctx, mapper, element);
    }
    this.cached = visible.map((e) => [e.id, e.version]);
    this.cacheView = view;
    this.cacheFull = skipped;
    this.cacheStale = false;
  }

  /** The cache holds exactly the bottom of `visible`: only new marks went on top since. */
  onlyAdded(visible) {
    if (visible.length < this.cached.length) return false;
    return this.cached.every(([id, version], i) => visible[i].id === id && visible[i].version === version);
  }

  // --- remote input (from wb-sync)
  remoteDraft(element) {
    this.drafts.set(element.id, element);
    this.requestFrame();
  }

  remoteDraftEnd(id) {
    if (this.drafts.delete(id)) this.invalidate(false);
  }

  remoteLaser(participantId, points, color) {
    const now = performance.now();
    const laser = this.lasers.get(participantId) || { trail: [], color };
    laser.color = color || laser.color;
    // Points of one message arrived together; spread them over the batch interval.
    points.forEach(([x, y], i) => laser.trail.push({ x, y, t: now - (points.length - 1 - i) * 8 }));
    laser.trail = laser.trail.filter((p) => now - p.t < LASER_FADE_MS);
    this.lasers.set(participantId, laser);
    this.requestFrame();
  }

  // --- pointer input
  bindPointer() {
    const c = this.canvas;
    c.addEventListener("pointerdown", (e) => this.onDown(e));
    c.addEventListener("pointermove", (e) => this.onMove(e));
    c.addEventListener("pointerup", (e) => this.onUp(e));
    c.addEventListener("pointercancel", () => this.cancelGesture());
    // Hover works on the host even when the canvas lets pointer events through to the video.
    this.host.addEventListener("pointermove", (e) => this.onHover(e));
    this.host.addEventListener("pointerleave", () => (this.tooltip.hidden = true));
  }

  localPoint(e, mapper = this.mapper()) {
    const box = this.host.getBoundingClientRect();
    return { px: [e.clientX - box.left, e.clientY - box.top], mapper };
  }

  onDown(e) {
    if (!this.interactive || e.button !== 0 || this.editor) return;
    e.preventDefault();
    if (!this.sync.canDraw(this.boardId)) {
      this.sync.refused();
      return;
    }
    this.canvas.setPointerCapture(e.pointerId);
    const { px, mapper } = this.localPoint(e);
    this.gestureMapper = mapper;
    const aspect = mapper.rect.w && mapper.rect.h ? mapper.rect.w / mapper.rect.h : 1;
    this.gesture = new Gesture(this.tools, mapper.toSpace(px[0], px[1]), { space: this.space, aspect });
    this.tooltip.hidden = true;
    const g = this.gesture;
    if (g.kind === "draw") {
      this.drafts.set(g.draft.id, g.draft);
      this.sync.progress(this.boardId, g.draft, g.draft.points.slice());
      this.requestFrame();
    } else if (g.kind === "erase") {
      this.eraseAt(px);
    } else if (g.kind === "laser") {
      this.laserPoints([g.path[0]]);
    }
  }

  onMove(e) {
    const g = this.gesture;
    if (!g) return;
    const events = e.getCoalescedEvents ? e.getCoalescedEvents() : [e];
    const added = [];
    for (const ev of events.length ? events : [e]) {
      const { px } = this.localPoint(ev, this.gestureMapper);
      if (g.kind === "erase") this.eraseAt(px);
      added.push(...g.move(this.gestureMapper.toSpace(px[0], px[1])));
    }
    if (!added.length) return;
    if (g.kind === "draw") {
      this.sync.progress(this.boardId, g.draft, added);
      if (g.draft.points.length >= MAX_STROKE_POINTS) this.splitStroke(g);
      this.requestFrame();
    } else if (g.kind === "laser") {
      this.laserPoints(added);
    }
  }

  onUp(e) {
    const g = this.gesture;
    if (!g) return;
    this.gesture = null;
    if (g.kind === "draw") {
      const element = g.finish();
      this.drafts.delete(g.draft.id);
      if (element) this.sync.add(this.boardId, element);
      else this.sync.cancel(this.boardId, g.draft.id);
      this.invalidate(false);
    } else if (g.kind === "place") {
      this.openEditor(g, this.localPoint(e, this.gestureMapper).px);
    }
  }

  /** Keep a long freehand stroke and go on with a new one from its last point. */
  splitStroke(g) {
    const last = g.draft.points[g.draft.points.length - 1];
    this.drafts.delete(g.draft.id);
    this.sync.add(this.boardId, g.finish());
    this.gesture = new Gesture(this.tools, last, { space: this.space, aspect: g.aspect });
    this.drafts.set(this.gesture.draft.id, this.gesture.draft);
    this.sync.progress(this.boardId, this.gesture.draft, this.gesture.draft.points.slice());
  }

  cancelGesture() {
    const g = this.gesture;
    this.gesture = null;
    if (g?.kind === "draw") {
      this.drafts.delete(g.draft.id);
      this.sync.cancel(this.boardId, g.draft.id);
      this.invalidate();
    }
  }

  laserPoints(points) {
    const me = this.sync.participantId() || "self";
    this.remoteLaser(me, points, LASER_COLOR);
    this.sync.laser(this.boardId, points);
  }

  eraseAt(px) {
    const hit = this.hitTest(px, this.gestureMapper);
    if (hit) this.sync.erase(this.boardId, hit);
  }

  // --- text and sticky notes: a textarea where the user clicked; Enter keeps, Escape drops
  openEditor(gesture, px) {
    const editor = el("textarea", `wb-editor wb-editor-${gesture.tool}`);
    editor.rows = 2;
    editor.maxLength = 2000;
    editor.setAttribute("aria-label", this.i18n.t(`wb.tool.${gesture.tool}`));
    editor.style.left = `${px[0]}px`;
    editor.style.top = `${px[1]}px`;
    editor.style.fontSize = `${Math.max(12, this.gestureMapper.size(gesture.fontSize))}px`;
    this.host.append(editor);
    this.editor = editor;
    let done = false;
    const finish = (keep) => {
      if (done) return;
      done = true;
      const text = editor.value.trim();
      editor.remove();
      this.editor = null;
      if (keep && text) this.sync.add(this.boardId, gesture.placed(text));
    };
    editor.addEventListener("keydown", (e) => {
      e.stopPropagation(); // the wall's keyboard shortcuts must not fire while typing
      if (e.key === "Enter" && !e.shiftKey) {
        e.preventDefault();
        finish(true);
      } else if (e.key === "Escape") finish(false);
    });
    editor.addEventListener("blur", () => finish(true));
    requestAnimationFrame(() => editor.focus());
  }

  // --- hover: who made this mark
  onHover(e) {
    if (this.gesture || this.closed) return;
    const { px, mapper } = this.localPoint(e);
    const hit = this.hitTest(px, mapper);
    if (!hit) {
      this.tooltip.hidden = true;
      this.host.removeAttribute("data-wb-hover");
      return;
    }
    const name = this.sync.authorName(hit);
    this.tooltip.textContent = this.i18n.t("wb.madeBy", { name });
    this.tooltip.style.left = `${px[0] + 12}px`;
    this.tooltip.style.top = `${px[1] + 12}px`;
    this.tooltip.hidden = false;
    this.host.dataset.wbHover = hit.id;
  }

  /** The topmost element under px (CSS px in the host), or null. */
  hitTest(px, mapper) {
    const ctx = this.cache.getContext("2d");
    const elements = this.scene.visible();
    for (let i = elements.length - 1; i >= 0; i -= 1) {
      if (hits(ctx, mapper, elements[i], px)) return elements[i];
    }
    return null;
  }

  close() {
    this.closed = true;
    this.offScene();
    this.resizer.disconnect();
    this.sync.detach(this.boardId, this);
    this.editor?.remove();
    this.canvas.remove();
    this.tooltip.remove();
  }
}

function hits(ctx, mapper, element, px) {
  const pts = (element.points || []).map((p) => mapper.toPx(p[0], p[1]));
  if (!pts.length) return false;
  const reach = mapper.size(element.width || 4) / 2 + HIT_TOLERANCE_PX;
  switch (element.type) {
    case "pen":
    case "highlighter":
    case "line":
    case "arrow":
      return distToPolyline(px, pts) <= reach;
    case "rect":
      return distToRectOutline(px, boxPx(mapper, element.points)) <= reach;
    case "ellipse":
      return distToEllipse(px, boxPx(mapper, element.points)) <= reach;
    case "sticky":
      return insideBox(px, boxPx(mapper, element.points));
    case "text": {
      const size = fontPx(mapper, element);
      ctx.font = `${size}px ${FONT}`;
      const lines = String(element.text || "").split("\n");
      const width = Math.max(...lines.map((line) => ctx.measureText(line).width));
      return insideBox(px, { x: pts[0][0], y: pts[0][1], w: width, h: lines.length * size * 1.2 });
    }
    default:
      return false;
  }
}
