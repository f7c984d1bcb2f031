// Tells the server which received video tracks are on screen and how big their tiles are
// (`track_view`, docs/protocol.md), so it can pause video nobody looks at and later pick a
// simulcast layer that fits. A tile counts as shown while it intersects the viewport and the
// page is visible; sizes are device pixels. Reports are debounced and sent only on change.
const DEBOUNCE_MS = 250;
const SIZE_STEP = 0.15; // smaller size changes are not worth a message

export class TrackViewReporter {
  /** send(msg) delivers one signalling message. */
  constructor(send) {
    this.send = send;
    this.entries = new Map(); // track id -> {element, intersecting, width, height, sent}
    this.byElement = new Map(); // element -> track id
    this.timer = null;
    this.intersection = new IntersectionObserver((records) => this.onIntersect(records));
    this.resize = new ResizeObserver((records) => this.onResize(records));
    this.onVisibility = () => this.schedule();
    document.addEventListener("visibilitychange", this.onVisibility);
  }

  /** pairs: [trackId, element] for every received video track now; others are dropped. */
  sync(pairs) {
    const wanted = new Map(pairs.filter(([id, element]) => id && element));
    for (const [id, entry] of this.entries) {
      if (wanted.get(id) !== entry.element) this.unobserve(id);
    }
    for (const [id, element] of wanted) {
      if (!this.entries.has(id)) this.observe(id, element);
    }
  }

  observe(id, element) {
    this.entries.set(id, { element, intersecting: false, width: 0, height: 0, sent: null });
    this.byElement.set(element, id);
    this.intersection.observe(element);
    this.resize.observe(element);
  }

  unobserve(id) {
    const entry = this.entries.get(id);
    if (!entry) return;
    this.entries.delete(id);
    this.byElement.delete(entry.element);
    this.intersection.unobserve(entry.element);
    this.resize.unobserve(entry.element);
  }

  onIntersect(records) {
    for (const record of records) {
      const entry = this.entries.get(this.byElement.get(record.target));
      if (entry) entry.intersecting = record.isIntersecting;
    }
    this.schedule();
  }

  onResize(records) {
    for (const record of records) {
      const entry = this.entries.get(this.byElement.get(record.target));
      if (!entry) continue;
      entry.width = record.contentRect.width;
      entry.height = record.contentRect.height;
    }
    this.schedule();
  }

  schedule() {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.flush(), DEBOUNCE_MS);
  }

  flush() {
    const pageShown = document.visibilityState === "visible";
    const ratio = window.devicePixelRatio || 1;
    for (const [id, entry] of this.entries) {
      const width = Math.round(entry.width * ratio);
      const height = Math.round(entry.height * ratio);
      const visible = pageShown && entry.intersecting && width > 0 && height > 0;
      if (!changed(entry.sent, visible, width, height)) continue;
      const msg = { type: "track_view", track_id: id, visible };
      if (width > 0 && height > 0) Object.assign(msg, { width: Math.min(width, 16384), height: Math.min(height, 16384) });
      if (this.send(msg)) entry.sent = { visible, width, height };
    }
  }

  /** Forget everything (the subscribe connection is gone; a new one starts from scratch). */
  reset() {
    for (const id of [...this.entries.keys()]) this.unobserve(id);
    clearTimeout(this.timer);
  }

  close() {
    this.reset();
    this.intersection.disconnect();
    this.resize.disconnect();
    document.removeEventListener("visibilitychange", this.onVisibility);
  }
}

function changed(sent, visible, width, height) {
  if (!sent || sent.visible !== visible) return true;
  if (!visible) return false;
  const step = (a, b) => Math.abs(a - b) > SIZE_STEP * Math.max(a, b, 1);
  return step(sent.width, width) || step(sent.height, height);
}
