// Recording in the meeting: the "recording" indicator everyone sees, and the host's
// start/stop button (shown only with the `record` grant). State comes from the server's
// `recording` messages (docs/protocol.md "Recording messages"); a late joiner gets the
// current one right after `joined`.

const REC_ICON = '<svg viewBox="0 0 24 24" width="24" height="24" aria-hidden="true" focusable="false"><circle cx="12" cy="12" r="7" fill="currentColor"/></svg>';
const STOP_ICON = '<svg viewBox="0 0 24 24" width="24" height="24" aria-hidden="true" focusable="false"><rect x="6" y="6" width="12" height="12" rx="2" fill="currentColor"/></svg>';
// Final states that deserve a notice of their own.
const END_NOTICES = { stopped: ["rec.stopped", "info"], stopped_disk_full: ["rec.diskFull", "error"], failed: ["rec.failed", "error"] };

export class RecordingControl {
  constructor({ button, indicator, i18n, notify }) {
    Object.assign(this, { button, indicator, i18n, notify });
    this.state = null; // null: not recording; else the last message's state
    this.recordingId = null;
    this.canRecord = false;
    this.signaling = null;
    this.off = null;
    button.addEventListener("click", () => this.toggle());
    i18n.onChange(() => this.render());
    this.render();
  }

  get active() {
    return ["starting", "recording", "stopping"].includes(this.state);
  }

  /** Every (re)join: bind to the new socket; the server re-sends the state if active. */
  joined(msg, signaling) {
    this.off?.();
    this.signaling = signaling;
    this.canRecord = (msg.grants || []).includes("record");
    this.state = null;
    this.off = signaling.on("recording", (message) => this.update(message));
    this.render();
  }

  update(message) {
    const wasActive = this.active;
    this.state = message.state;
    this.recordingId = message.recording_id;
    if (!wasActive && message.active) this.notify("rec.started");
    const notice = END_NOTICES[message.state];
    if (notice && wasActive) this.notify(notice[0], {}, notice[1]);
    this.render();
  }

  toggle() {
    if (!this.canRecord || !this.signaling) return;
    this.signaling.send({ type: this.active ? "recording_stop" : "recording_start" });
  }

  render() {
    const t = (key) => this.i18n.t(key);
    this.indicator.hidden = !this.active;
    this.indicator.dataset.state = this.state || "off";
    this.indicator.querySelector("[data-rec-label]").textContent = t(this.state === "starting" ? "rec.starting" : "rec.on");
    const label = t(this.active ? "rec.stop" : "rec.start");
    this.button.hidden = !this.canRecord;
    this.button.disabled = this.state === "stopping";
    this.button.setAttribute("aria-pressed", String(this.active));
    this.button.querySelector(".tool-icon").innerHTML = this.active ? STOP_ICON : REC_ICON;
    this.button.querySelector(".tool-label").textContent = label;
    this.button.title = label;
  }

  describe() {
    return { state: this.state, active: this.active, recordingId: this.recordingId, canRecord: this.canRecord,
      indicatorVisible: !this.indicator.hidden, buttonVisible: !this.button.hidden };
  }
}

/** Wire the control into the meeting page; `window.commandpost.recording()` for tests. */
export function mountRecording({ button, indicator, i18n, notify }) {
  if (!button || !indicator) return null;
  const control = new RecordingControl({ button, indicator, i18n, notify });
  if (window.commandpost) window.commandpost.recording = () => control.describe();
  return control;
}

