// Writes that must survive a bad network: kept in localStorage (so a reload or a dead battery
// loses nothing), sent strictly in order, one at a time, retried with backoff until the server
// answers. Each entry carries the client-generated id it was created with, and the server
// treats a second write with the same id as the first, so a retry after a lost answer never
// makes a duplicate.
import { storageGet } from "./storage.js";

const RETRY_DELAYS_MS = [1000, 2000, 4000, 8000, 15000, 30000]; // then every 30 s
const KEPT_FAILURES = 20;

/** What `send` throws: `retry` says whether the same write may succeed later (network, 5xx,
 * 429) or never will (the server refused it: bad status jump, no permission). */
export class SendError extends Error {
  constructor(code, message, { retry = false, status = 0 } = {}) {
    super(message || code);
    this.code = code;
    this.retry = retry;
    this.status = status;
  }
}

export function newClientId() {
  if (globalThis.crypto?.randomUUID) return crypto.randomUUID();
  // Old browsers over plain http (randomUUID needs a secure context): a v4 UUID by hand.
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  bytes[6] = (bytes[6] & 0x0f) | 0x40;
  bytes[8] = (bytes[8] & 0x3f) | 0x80;
  const hex = [...bytes].map((b) => b.toString(16).padStart(2, "0")).join("");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

export class OfflineQueue {
  /** key: localStorage key; send(entry) resolves with the server's answer or throws SendError;
   * onSent(entry, result), onFailed(entry, error), onChange() keep the page in step. */
  constructor({ key, send, onSent = () => {}, onFailed = () => {}, onChange = () => {}, storage = globalThis.localStorage }) {
    Object.assign(this, { key, send, onSent, onFailed, onChange, storage });
    this.entries = this.read();
    this.failed = [];
    this.sent = 0;
    this.attempt = 0;
    this.timer = null;
    this.flushing = null;
    this.persisted = true;
    this.lastError = null;
    window.addEventListener("online", () => this.flushNow());
  }

  read() {
    try {
      const list = JSON.parse(storageGet(this.storage, this.key) || "[]");
      return Array.isArray(list) ? list.filter((e) => e && typeof e.id === "string") : [];
    } catch {
      return []; // a broken copy is the same as none
    }
  }

  write() {
    try {
      this.storage.setItem(this.key, JSON.stringify(this.entries));
      this.persisted = true;
    } catch {
      // Quota full (photos): the queue still works in memory; the page says it is not kept.
      this.persisted = false;
    }
  }

  /** Queue a write {kind, ...fields}; it gets its client id now. Sends at once if it can. */
  add(op) {
    const entry = { ...op, id: op.id || newClientId(), queuedAt: Date.now(), attempts: 0 };
    this.entries.push(entry);
    this.write();
    this.onChange();
    this.flushNow();
    return entry;
  }

  pending() {
    return this.entries.map(({ id, kind, taskId, status, queuedAt, attempts }) => ({ id, kind, taskId, status, queuedAt, attempts }));
  }

  /** Back online, or a new entry: try now instead of waiting out the backoff. */
  flushNow() {
    clearTimeout(this.timer);
    this.timer = null;
    this.attempt = 0;
    return this.flush();
  }

  flush() {
    if (this.flushing) return this.flushing;
    this.flushing = this.drain().finally(() => {
      this.flushing = null;
    });
    return this.flushing;
  }

  async drain() {
    while (this.entries.length) {
      if (navigator.onLine === false) return; // the `online` event starts us again
      const entry = this.entries[0];
      entry.attempts += 1;
      let result;
      try {
        result = await this.send(entry);
      } catch (err) {
        this.lastError = err.code || err.message;
        if (err instanceof SendError && !err.retry) {
          this.drop(entry);
          this.failed.push({ id: entry.id, kind: entry.kind, taskId: entry.taskId, code: err.code, message: err.message });
          this.failed.splice(0, Math.max(0, this.failed.length - KEPT_FAILURES));
          this.onFailed(entry, err);
          continue;
        }
        this.write(); // the attempt count survives a reload
        this.retryLater();
        this.onChange();
        return;
      }
      this.drop(entry);
      this.sent += 1;
      this.lastError = null;
      this.attempt = 0;
      this.onSent(entry, result);
    }
  }

  drop(entry) {
    this.entries = this.entries.filter((e) => e.id !== entry.id);
    this.write();
    this.onChange();
  }

  retryLater() {
    const delay = RETRY_DELAYS_MS[Math.min(this.attempt, RETRY_DELAYS_MS.length - 1)];
    this.attempt += 1;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.flush(), delay);
  }
}
