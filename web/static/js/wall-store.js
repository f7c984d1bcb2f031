// Where an operator's wall layout lives: the server (Redis, through
// /api/rooms/{room_id}/wall-layout) so it follows the operator to any screen, and
// localStorage so a reload still finds it when the server cannot be reached.
import { storageGet, storageSet } from "./storage.js";
import { WallLayout } from "./wall-layout.js";

const SAVE_DELAY_MS = 400;
const RETRY_MS = 5000; // a save the server refused or never got is tried again

export class LayoutStore {
  /** credentials: {code} or {token}; operator: the name a share-code wall gives. */
  constructor({ credentials, operator }) {
    this.credentials = credentials;
    this.operator = operator;
    this.roomId = null;
    this.timer = null;
    this.lastSaved = null;
    this.saves = 0;
    this.failures = 0;
  }

  localKey() {
    const who = this.credentials.token ? "token" : `op:${this.operator}`;
    return `commandpost.wall.layout.${this.roomId || this.credentials.code}.${who}`;
  }

  url() {
    const query = this.credentials.token ? "" : `?operator=${encodeURIComponent(this.operator)}`;
    return `/api/rooms/${encodeURIComponent(this.roomId)}/wall-layout${query}`;
  }

  headers() {
    const auth = this.credentials.token ? `Bearer ${this.credentials.token}` : `Share ${this.credentials.code}`;
    return { Authorization: auth, "Content-Type": "application/json" };
  }

  /** The saved layout: the server's, else this browser's copy, else the default. */
  async load(roomId) {
    this.roomId = roomId;
    try {
      const response = await fetch(this.url(), { headers: this.headers() });
      if (response.ok) {
        const body = await response.json();
        if (body.layout) {
          this.source = "server";
          storageSet(localStorage, this.localKey(), JSON.stringify(body.layout)); // for offline reloads
          return WallLayout.fromJSON(body.layout);
        }
      }
    } catch (err) {
      console.warn("wall layout: server unreachable, using this browser's copy", err);
    }
    const local = storageGet(localStorage, this.localKey());
    if (local) {
      try {
        this.source = "local";
        return WallLayout.fromJSON(JSON.parse(local));
      } catch {
        /* a broken copy is the same as none */
      }
    }
    this.source = "default";
    return null;
  }

  /** Keep the layout here at once and on the server shortly (changes come in bursts). */
  save(layout) {
    const json = JSON.stringify(layout.toJSON());
    storageSet(localStorage, this.localKey(), json);
    if (!this.roomId) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.push(json), SAVE_DELAY_MS);
  }

  async push(json) {
    if (json === this.lastSaved) return;
    try {
      const response = await fetch(this.url(), { method: "PUT", headers: this.headers(), body: json });
      if (!response.ok) throw new Error(`${response.status} ${(await response.json()).message}`);
      this.lastSaved = json;
      this.saves += 1;
    } catch (err) {
      this.failures += 1;
      console.warn("wall layout not saved on the server (kept in this browser)", err.message);
      clearTimeout(this.timer);
      this.timer = setTimeout(() => this.push(json), RETRY_MS);
    }
  }
}
