// The meeting toolbar: microphone, camera, screen share, invite, lock (host), leave.
import { setIcon } from "./icons.js";

export function shareLink(code, loc = window.location) {
  return code ? `${loc.origin}/j/${encodeURIComponent(code)}` : `${loc.origin}${loc.pathname}`;
}

export class Toolbar {
  constructor(root, { session, i18n, notify, shareCode }) {
    Object.assign(this, { root, session, i18n, notify, shareCode });
    this.buttons = {};
    for (const button of root.querySelectorAll("button[data-tool]")) this.buttons[button.dataset.tool] = button;
    this.bind();
    i18n.onChange(() => this.render());
  }

  bind() {
    const { session } = this;
    const guard = (fn) => async () => {
      try {
        await fn();
      } catch (err) {
        this.notify("toast.mediaFailed", { reason: err.name || err.message }, "error");
      }
    };
    this.on("mic", () => session.setMic(!session.audioOn));
    this.on("cam", guard(() => session.setCam(!session.videoOn)));
    this.on("share", async () => {
      if (session.tracks.screen) return session.stopScreen();
      try {
        await session.startScreen();
      } catch (err) {
        // Cancelling the browser's picker is a choice, not an error worth a red toast.
        if (err.name !== "NotAllowedError") this.notify("toast.shareFailed", { reason: err.name || err.message }, "error");
      }
    });
    this.on("invite", () => this.copyLink());
    this.on("lock", () => session.setLocked(!session.locked));
    this.on("leave", () => session.leave());
  }

  on(name, fn) {
    this.buttons[name]?.addEventListener("click", fn);
  }

  async copyLink() {
    const url = shareLink(this.shareCode);
    try {
      await navigator.clipboard.writeText(url);
      this.notify("toast.linkCopied");
    } catch {
      this.notify("toast.copyManually", { url });
    }
  }

  set(name, { icon, label, pressed = null, hidden = false, disabled = false }) {
    const button = this.buttons[name];
    if (!button) return;
    button.hidden = hidden;
    button.disabled = disabled;
    if (pressed !== null) button.setAttribute("aria-pressed", String(pressed));
    setIcon(button.querySelector(".tool-icon"), icon);
    button.querySelector(".tool-label").textContent = label;
    button.title = label;
  }

  render() {
    const { session } = this;
    const t = (key) => this.i18n.t(key);
    const canPublish = session.grants.includes("publish");
    const micOn = session.micEnabled();
    this.set("mic", { icon: micOn ? "mic" : "micOff", label: t(micOn ? "controls.micOff" : "controls.micOn"), pressed: !micOn, hidden: !canPublish, disabled: !session.tracks.microphone });
    this.set("cam", { icon: session.videoOn ? "cam" : "camOff", label: t(session.videoOn ? "controls.camOff" : "controls.camOn"), pressed: !session.videoOn, hidden: !canPublish });
    const sharing = Boolean(session.tracks.screen);
    const canShare = canPublish && Boolean(navigator.mediaDevices?.getDisplayMedia);
    this.set("share", { icon: sharing ? "screenStop" : "screen", label: t(sharing ? "controls.shareStop" : "controls.shareStart"), pressed: sharing, hidden: !canShare });
    this.set("invite", { icon: "link", label: t("controls.copyLink"), hidden: !session.isAdmin() });
    this.set("lock", { icon: session.locked ? "lock" : "unlock", label: t(session.locked ? "controls.unlock" : "controls.lock"), pressed: session.locked, hidden: !session.isAdmin() });
    this.set("leave", { icon: "leave", label: t("controls.leave") });
  }
}
