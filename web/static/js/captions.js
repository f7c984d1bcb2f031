// Live captions in the meeting: each `caption` message (docs/protocol.md "Caption and
// transcript messages") shows under the speaker's tile, a partial result replaced as it
// grows and a final one kept for a few seconds. Everyone may switch captions off for
// themselves (toolbar button); the choice is remembered in this browser. The host (grant
// `admin`) also has a button that switches the room's transcription on and off
// (`transcription` messages, both ways).
import { storageGet, storageSet } from "./storage.js";

const STORE_KEY = "commandpost.captions";
const FINAL_KEEP_MS = 4000; // a final line stays this long unless the speaker goes on
const PARTIAL_KEEP_MS = 8000; // a partial with nothing after it (the speaker left)
const HISTORY = 50; // lines kept for window.commandpost.captions()
const TR_ICON = '<svg viewBox="0 0 24 24" width="24" height="24" aria-hidden="true" focusable="false"><path d="M4 6h16M4 10h10M4 14h16M4 18h8" fill="none" stroke="currentColor" stroke-width="2" stroke-linecap="round"/></svg>';
const CC_ICON = '<svg viewBox="0 0 24 24" width="24" height="24" aria-hidden="true" focusable="false"><rect x="3" y="5" width="18" height="14" rx="2" fill="none" stroke="currentColor" stroke-width="2"/><path d="M10 10.5a2 2 0 1 0 0 3M16 10.5a2 2 0 1 0 0 3" fill="none" stroke="currentColor" stroke-width="1.6"/></svg>';

export class CaptionControl {
  constructor({ button, transcribeButton, grid, i18n, notify }) {
    Object.assign(this, { button, transcribeButton, grid, i18n, notify });
    this.enabled = storageGet(localStorage, STORE_KEY) !== "off";
    this.lines = new Map(); // speaker id -> { el, timer }
    this.history = [];
    this.offs = [];
    this.signaling = null;
    this.isHost = false;
    this.transcribing = null; // the room's state from the last `transcription` message
    button?.addEventListener("click", () => this.setEnabled(!this.enabled));
    transcribeButton?.addEventListener("click", () => this.toggleTranscription());
    i18n.onChange(() => this.render());
    this.render();
  }

  /** Every (re)join: listen on the new socket; the server then says whether the room is transcribed. */
  joined(msg, signaling) {
    for (const off of this.offs) off();
    this.signaling = signaling;
    this.isHost = (msg.grants || []).includes("admin");
    this.offs = [signaling.on("caption", (message) => this.show(message)),
      signaling.on("transcription", (message) => this.roomState(message))];
    this.render();
  }

  roomState({ enabled }) {
    const was = this.transcribing;
    this.transcribing = Boolean(enabled);
    if (was !== null && was !== this.transcribing) this.notify?.(this.transcribing ? "cap.transcribingOn" : "cap.transcribingOff");
    this.render();
  }

  toggleTranscription() {
    if (!this.isHost || !this.signaling) return;
    this.signaling.send({ type: "transcription", enabled: !this.transcribing });
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
    if (this.button) renderButton(this.button, CC_ICON, this.i18n.t(this.enabled ? "cap.hide" : "cap.show"), this.enabled);
    if (this.transcribeButton) {
      this.transcribeButton.hidden = !this.isHost;
      renderButton(this.transcribeButton, TR_ICON, this.i18n.t(this.transcribing ? "cap.stopTranscribing" : "cap.startTranscribing"), Boolean(this.transcribing));
    }
  }

  describe() {
    const visible = [...this.lines.entries()].map(([id, line]) => ({ speakerId: id, text: line.el.textContent, partial: line.el.classList.contains("is-partial") }));
    return { enabled: this.enabled, visible, history: [...this.history], transcribing: this.transcribing,
      hostButtonVisible: Boolean(this.transcribeButton && !this.transcribeButton.hidden) };
  }
}

function renderButton(button, icon, label, pressed) {
  button.setAttribute("aria-pressed", String(pressed));
  button.querySelector(".tool-icon").innerHTML = icon;
  button.querySelector(".tool-label").textContent = label;
  button.title = label;
}

/** Wire captions into the meeting page; `window.commandpost.captions()` for tests. */
export function mountCaptions({ button, transcribeButton, grid, i18n, notify }) {
  const control = new CaptionControl({ button, transcribeButton, grid, i18n, notify });
  if (window.commandpost) window.commandpost.captions = () => control.describe();
  return control;
}
