// The whiteboard's side of the signalling socket (docs/protocol.md "Whiteboard messages"):
// one Scene per board, merged with the server's version rule. Finished marks and erasures go
// out as `wb_op`; in-progress strokes and laser points go out as `wb_live`, batched (at most
// one message per LIVE_MS, points coalesced); what others draw is handed to the surfaces
// showing that board.
import { keyAfter } from "./wb-geom.js";
import { Scene, randomNonce } from "./wb-scene.js";
import { FREEHAND } from "./wb-tools.js";

/** The room's own board, and the board of the annotation layer over one video track. */
export const MAIN_BOARD = "main";
export function trackBoardId(trackId) {
  return `track:${trackId}`;
}

// The server asks for at most one wb_live per 50 ms, and every message (pings and wb_op
// too) counts against the socket's 20/s: 60 ms leaves room for the rest.
const LIVE_MS = 60;
const MAX_LIVE_POINTS = 200; // the server's default max_live_points (stroke and pointer together)
const REMOTE_DRAFT_TTL_MS = 4000; // a stroke whose author vanished mid-way stops showing
const DONE_DRAFT_MS = 1500; // a finished stroke whose element never came (refused) stops showing
export const LASER_COLOR = "#ff2d55";

export class WhiteboardSync {
  /** host: {i18n, notify(key, params, kind), selfId(), nameOf(participantId), changed()} */
  constructor(host) {
    this.host = host;
    this.scenes = new Map(); // board id -> Scene
    this.surfaces = new Map(); // board id -> Set of Surface
    this.remoteDrafts = new Map(); // element id -> {boardId, element, at}
    this.strokes = new Map(); // our in-progress stroke id -> {boardId, draft, points, started, done}
    this.lasers = new Map(); // board id -> points not sent yet
    this.erasing = new Map(); // board id -> Map id -> tombstone not sent yet
    this.trackIds = new Map(); // "<participant>:<source>" -> server track id
    this.permission = { mode: "everyone", presenters: [] };
    this.allowed = true; // may we draw, as the server last said
    this.boards = [];
    this.signaling = null;
    this.roomId = null;
    this.restToken = null;
    this.flushTimer = null;
    this.lastFlushAt = -Infinity;
    this.liveSeq = 0;
    this.opSeq = 0;
    this.laserPointsSeen = 0;
    // Wall-clock ms when our strokes were first queued / others' first arrived (by stroke id),
    // so a test can tell the live delay between two pages of one machine.
    this.liveTimes = { sent: new Map(), received: new Map() };
    this.sweeper = setInterval(() => this.sweepDrafts(), 1000);
  }

  // --- connection
  /** Called for every `joined` (first join and every rejoin): listen on the new socket. The
   * server then sends wb_state and every board's wb_scene by itself. */
  bind(signaling, joined) {
    this.roomId = joined.room_id;
    this.restToken = joined.token || this.restToken;
    this.setTracks(joined.tracks);
    if (signaling === this.signaling) return;
    this.signaling = signaling;
    const on = (type, fn) => signaling.on(type, (msg) => {
      if (signaling === this.signaling) fn(msg); // a replaced socket's late messages are stale
    });
    on("wb_state", (msg) => this.onState(msg));
    on("wb_scene", (msg) => this.onScene(msg));
    on("wb_elements", (msg) => this.onElements(msg));
    on("wb_ack", (msg) => this.onAck(msg));
    on("wb_live", (msg) => this.onLive(msg));
    on("wb_permissions", (msg) => this.onPermissions(msg));
    on("wb_cleared", (msg) => this.onCleared(msg));
    on("tracks", (msg) => this.setTracks(msg.tracks));
    on("error", (msg) => this.onError(msg));
  }

  send(msg) {
    return Boolean(this.signaling?.send(msg));
  }

  participantId() {
    return this.host.selfId();
  }

  /** Track ids by "<participant>:<source>" (our own tracks too), for video layer board ids. */
  setTracks(tracks) {
    if (!Array.isArray(tracks)) return;
    const next = new Map();
    for (const t of tracks) {
      if (t.kind === "video" && t.track_id) next.set(`${t.participant_id}:${t.source}`, t.track_id);
    }
    const same = next.size === this.trackIds.size && [...next].every(([k, v]) => this.trackIds.get(k) === v);
    this.trackIds = next;
    if (!same) this.host.changed();
  }

  /** The video layer's board id for a tile, or null while the track is unknown. */
  layerId(participantId, source) {
    const id = this.trackIds.get(`${participantId}:${source}`)
      ?? (source === "camera" ? this.trackIds.get(`${participantId}:feed`) : undefined); // feeds show as cameras in the grid
    return id ? trackBoardId(id) : null;
  }

  // --- boards and surfaces
  scene(boardId) {
    let scene = this.scenes.get(boardId);
    if (!scene) {
      scene = new Scene();
      this.scenes.set(boardId, scene);
    }
    return scene;
  }

  attach(boardId, surface) {
    if (!this.surfaces.has(boardId)) this.surfaces.set(boardId, new Set());
    this.surfaces.get(boardId).add(surface);
  }

  detach(boardId, surface) {
    this.surfaces.get(boardId)?.delete(surface);
  }

  each(boardId, fn) {
    for (const surface of this.surfaces.get(boardId) || []) fn(surface);
  }

  canDraw() {
    return this.allowed;
  }

  refused() {
    this.host.notify(`wb.notice.${this.permission.mode === "nobody" ? "nobody" : "presenters"}`, {}, "warning");
  }

  authorName(element) {
    return element.author_name || this.host.nameOf(element.author_id) || this.host.i18n.t("wb.someone");
  }

  // --- our edits
  /** A finished mark: first version, a place on top; it shows at once and goes out. */
  add(boardId, element) {
    this.endStroke(element.id);
    const scene = this.scene(boardId);
    const full = { ...element, version: 1, version_nonce: randomNonce(), index: keyAfter(scene.topIndex()), deleted: false };
    // Until the server's copy (with author_name) comes back, hover names us.
    scene.apply([{ ...full, author_id: this.host.selfId() }]);
    this.op(boardId, { op: "upsert", elements: [full] });
  }

  /** Erase: a tombstone as a new version of the element (so our copy equals the server's);
   * everything erased in one batch interval goes out as one operation. */
  erase(boardId, element) {
    const current = this.scene(boardId).get(element.id);
    if (!current || current.deleted) return;
    const { author_id, author_name, updated_by, updated_at, ...mine } = current; // server fields
    const gone = { ...mine, deleted: true, version: current.version + 1, version_nonce: randomNonce() };
    this.scene(boardId).apply([{ ...current, ...gone }]);
    if (!this.erasing.has(boardId)) this.erasing.set(boardId, new Map());
    this.erasing.get(boardId).set(gone.id, gone);
    this.scheduleFlush();
  }

  op(boardId, body) {
    this.opSeq += 1;
    this.send({ type: "wb_op", board_id: boardId, ref: `c${this.opSeq}`, ...body });
  }

  undo(boardId) {
    this.op(boardId, { op: "undo" });
  }

  redo(boardId) {
    this.op(boardId, { op: "redo" });
  }

  clear(boardId) {
    this.op(boardId, { op: "clear" });
  }

  setPermission(mode) {
    this.send({ type: "wb_permissions", mode, presenters: this.permission.presenters || [] });
  }

  // --- live: in-progress strokes and laser points
  progress(boardId, draft, points) {
    if (!this.strokes.has(draft.id)) note(this.liveTimes.sent, draft.id);
    const entry = this.strokes.get(draft.id) || { boardId, draft, points: [], started: false, done: false };
    entry.points.push(...points);
    this.strokes.set(draft.id, entry);
    this.scheduleFlush();
  }

  /** The stroke is over (finished or dropped): others stop showing it as in progress. */
  endStroke(id) {
    const entry = this.strokes.get(id);
    if (!entry) return;
    if (!entry.started) this.strokes.delete(id); // nobody saw it start: the element is enough
    else {
      entry.done = true;
      this.scheduleFlush();
    }
  }

  cancel(boardId, id) {
    this.endStroke(id);
  }

  laser(boardId, points) {
    if (!this.lasers.has(boardId)) this.lasers.set(boardId, []);
    this.lasers.get(boardId).push(...points);
    this.scheduleFlush();
  }

  /** Leading-edge throttle: the first points go out at once, then one batch per LIVE_MS. */
  scheduleFlush() {
    if (this.flushTimer) return;
    const wait = Math.max(0, this.lastFlushAt + LIVE_MS - performance.now());
    this.flushTimer = setTimeout(() => this.flush(), wait);
  }

  flush() {
    this.flushTimer = null;
    this.lastFlushAt = performance.now();
    for (const [boardId, tombstones] of this.erasing) this.op(boardId, { op: "upsert", elements: [...tombstones.values()] });
    this.erasing.clear();
    const boards = new Set([...[...this.strokes.values()].map((s) => s.boardId), ...this.lasers.keys()]);
    for (const boardId of boards) this.flushLive(boardId);
    // Whatever did not fit (point caps) goes in the next message.
    if ([...this.strokes.values()].some((s) => s.points.length || s.done) || this.lasers.size) this.scheduleFlush();
  }

  /** One wb_live for a board: at most one stroke (the protocol's shape) and the laser. */
  flushLive(boardId) {
    const msg = { type: "wb_live", board_id: boardId, seq: ++this.liveSeq };
    const entry = [...this.strokes.values()].find((s) => s.boardId === boardId && (s.points.length || s.done));
    if (entry) msg.stroke = this.strokeChunk(entry);
    const laser = this.lasers.get(boardId);
    const room = MAX_LIVE_POINTS - (msg.stroke?.points.length ?? 0);
    if (laser?.length && room > 0) {
      msg.pointer = { points: laser.splice(0, room), laser: true };
      if (!laser.length) this.lasers.delete(boardId);
    }
    if (msg.stroke || msg.pointer) this.send(msg);
  }

  strokeChunk(entry) {
    const { draft } = entry;
    // A shape (line, box...) is two points that move: send the current pair each time.
    const points = FREEHAND.has(draft.type) ? entry.points.splice(0, MAX_LIVE_POINTS) : draft.points.slice();
    if (!FREEHAND.has(draft.type)) entry.points = [];
    const stroke = { id: draft.id, type: draft.type, color: draft.color, width: draft.width, opacity: draft.opacity ?? 1, points };
    entry.started = true;
    if (entry.done && !entry.points.length) {
      stroke.done = true;
      this.strokes.delete(draft.id);
    }
    return stroke;
  }

  // --- from the server
  onState(msg) {
    if (Array.isArray(msg.boards)) this.boards = msg.boards;
    if (msg.permissions) this.permission = { mode: msg.permissions.mode, presenters: msg.permissions.presenters || [] };
    if (typeof msg.can_draw === "boolean") this.allowed = msg.can_draw;
    this.host.changed();
  }

  onPermissions(msg) {
    const before = this.permission.mode;
    this.permission = { mode: msg.mode, presenters: msg.presenters || [] };
    if (typeof msg.can_draw === "boolean") this.allowed = msg.can_draw;
    if (!this.allowed) this.stopDrawing();
    if (msg.mode !== before) this.host.notify(`wb.toast.permission.${msg.mode}`, {}, msg.can_draw === false ? "warning" : "info");
    this.host.changed();
  }

  /** Drawing was turned off: end our strokes now rather than have each live batch refused. */
  stopDrawing() {
    for (const surfaces of this.surfaces.values()) for (const s of surfaces) s.cancelGesture();
    this.strokes.clear();
    this.lasers.clear();
  }

  onCleared(msg) {
    this.host.notify("wb.toast.cleared", { name: msg.name || this.host.nameOf(msg.by) || this.host.i18n.t("wb.someone") });
  }

  onScene({ board_id: boardId, elements }) {
    this.scene(boardId).replace(elements);
    this.endDrafts(boardId, elements);
  }

  onElements({ board_id: boardId, elements }) {
    this.scene(boardId).apply(elements);
    this.endDrafts(boardId, elements);
  }

  /** Our copies that lost to the server's come back in `current`. */
  onAck({ board_id: boardId, current }) {
    if (current?.length) this.onElements({ board_id: boardId, elements: current });
  }

  endDrafts(boardId, elements) {
    for (const element of elements || []) {
      if (this.remoteDrafts.delete(element.id)) this.each(boardId, (s) => s.remoteDraftEnd(element.id));
    }
  }

  onLive({ board_id: boardId, users }) {
    for (const user of users || []) {
      if (user.participant_id === this.host.selfId()) continue;
      if (user.stroke) this.remoteStroke(boardId, user.stroke);
      if (user.pointer?.laser && user.pointer.points?.length) {
        this.laserPointsSeen += user.pointer.points.length;
        this.each(boardId, (s) => s.remoteLaser(user.participant_id, user.pointer.points, LASER_COLOR));
      }
    }
  }

  remoteStroke(boardId, stroke) {
    if (this.scene(boardId).get(stroke.id)) return; // the finished element is here already
    let draft = this.remoteDrafts.get(stroke.id);
    if (!draft) {
      note(this.liveTimes.received, stroke.id);
      draft = { boardId, at: 0, element: { id: stroke.id, type: stroke.type, color: stroke.color, width: stroke.width, opacity: stroke.opacity, points: [] } };
      this.remoteDrafts.set(stroke.id, draft);
    }
    // `at` is when the draft expires: soon after `done` (its element should be here by then).
    draft.at = performance.now() + (stroke.done ? DONE_DRAFT_MS : REMOTE_DRAFT_TTL_MS);
    const points = Array.isArray(stroke.points) ? stroke.points : [];
    draft.element.points = FREEHAND.has(stroke.type) ? draft.element.points.concat(points) : (points.length >= 2 ? points.slice(-2) : draft.element.points);
    // A done stroke stays drawn until its element arrives (no flicker), or the TTL ends it.
    if (draft.element.points.length) this.each(boardId, (s) => s.remoteDraft(draft.element));
  }

  onError(msg) {
    if (msg.ref !== "wb_op" || !msg.board_id) return;
    // Our optimistic copy now differs from the server's: take the server's scene again.
    this.send({ type: "wb_subscribe", board_id: msg.board_id });
    this.host.refusedOp?.(msg);
  }

  sweepDrafts() {
    const now = performance.now();
    for (const [id, draft] of this.remoteDrafts) {
      if (now < draft.at) continue;
      this.remoteDrafts.delete(id);
      this.each(draft.boardId, (s) => s.remoteDraftEnd(id));
    }
  }

  /** REST on the room (docs/API.md "Whiteboards"), by default with the token from `joined`. */
  fetch(path, init = {}, token = this.restToken) {
    if (!this.roomId || !token) return Promise.resolve(null);
    const headers = { ...(init.headers || {}), Authorization: `Bearer ${token}` };
    return fetch(`/api/rooms/${encodeURIComponent(this.roomId)}/${path}`, { ...init, headers });
  }

  close() {
    clearInterval(this.sweeper);
    clearTimeout(this.flushTimer);
  }
}

/** Remember when (wall clock, ms) an id was first seen; the last 100 are kept. */
function note(times, id) {
  times.set(id, performance.timeOrigin + performance.now());
  if (times.size > 100) times.delete(times.keys().next().value);
}
