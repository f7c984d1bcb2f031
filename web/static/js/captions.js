// Live captions in the meeting: each `caption` message (docs/protocol.md "Caption and
// transcript messages") shows under the speaker's tile, a partial result replaced as it
// grows and a final one kept for a few seconds. Everyone may switch captions off for
// themselves (toolbar button); the choice is remembered in this browser.
import { storageGet, storageSet } from "./storage.js";

const STORE_KEY = "commandpost.captions";
const FINAL_KEEP_MS = 4000; // a final line stays this long unless the speaker goes on
const PARTIAL_KEEP_MS = 8000; // a partial with nothing after it (the speaker left)
const HISTORY = 50; // lines kept for window.commandpost.captions()
const CC_ICON = '<svg viewBox="0 0 24 24" width="24" height="24" aria-hidden="true" focusable="false"><rect x="3" y="5" width="18" height="14" rx="2" fill="none" stroke="currentColor" stroke-width="2"/><path d="M10 10.5a2 2 0 1 0 0 3M16 10.5a2 2 0 1 0 0 3" fill="none" stroke="currentColor" stroke-width="1.6"/></svg>';

export class CaptionControl {
  constructor({ button, grid, i18n }) {
    Object.assign(this, { button, grid, i18n });
    this.enabled = storageGet(localStorage, STORE_KEY) !== "off";
    this.lines = new Map(); // speaker id -> { el, timer }
    this.history = [];
    this.off = null;
    button?.addEventListener("click", () => this.setEnabled(!this.enabled));
    i18n.onChange(() => this.render());
    this.render();
  }

  /** Every (re)join: listen on the new socket. */
  joined(_msg, signaling) {
    this.off?.();
    this.off = signaling.on("caption", (message) => this.show(message));
  }

  setEnabled(enabled) {
    this.enabled = Boolean(enabled);
    storageSet(localStorage, STORE_KEY, this.enabled ? "on" : "off");
    if (!this.enabled) for (const id of [...this.lines.keys()]) this.clear(id);
    this.render();
  }

  show(message) {
    const { speaker_id: id, speaker, text, final } = message;
    if (typeof id !== "string" || typeof text !== "string") return;
    this.history.push({ speakerId: id, speaker, text, final: Boolean(final), shown: this.enabled });
    if (this.history.length > HISTORY) this.history.shift();
    if (!this.enabled) return;
    const tile = this.grid.tileMap.get(`${id}:camera`);
    if (!tile) return;
    let line = this.lines.get(id);
    if (!line || !line.el.isConnected) {
      const el = document.createElement("p");
      el.className = "tile-caption";
      el.setAttribute("aria-live", "polite");
      tile.root.append(el);
      line = { el, timer: null };
      this.lines.set(id, line);
    }
    line.el.textContent = text;
    line.el.classList.toggle("is-partial", !final);
    clearTimeout(line.timer);
    line.timer = setTimeout(() => this.clear(id), final ? FINAL_KEEP_MS : PARTIAL_KEEP_MS);
  }

  clear(id) {
    const line = this.lines.get(id);
    if (!line) return;
    clearTimeout(line.timer);
    line.el.remove();
    this.lines.delete(id);
  }

  render() {
    if (!this.button) return;
    const label = this.i18n.t(this.enabled ? "cap.hide" : "cap.show");
    this.button.setAttribute("aria-pressed", String(this.enabled));
    this.button.querySelector(".tool-icon").innerHTML = CC_ICON;
    this.button.querySelector(".tool-label").textContent = label;
    this.button.title = label;
  }

  describe() {
    const visible = [...this.lines.entries()].map(([id, line]) => ({ speakerId: id, text: line.el.textContent, partial: line.el.classList.contains("is-partial") }));
    return { enabled: this.enabled, visible, history: [...this.history] };
  }
}

/** Wire captions into the meeting page; `window.commandpost.captions()` for tests. */
export function mountCaptions({ button, grid, i18n }) {
  const control = new CaptionControl({ button, grid, i18n });
  if (window.commandpost) window.commandpost.captions = () => control.describe();
  return control;
}
