// Entry point of /f/<code>: the field page. One tap streams the back camera with GPS; the
// status line says live / reconnecting / offline; photo reports go to the room.
import { withDispatch } from "./dispatch-live.js";
import { FieldDispatch, readMemberToken } from "./field-dispatch.js";
import { FieldSession } from "./field-session.js";
import { grabFrame, preparePhoto, sendReport } from "./field-report.js";
import { I18n } from "./i18n.js";
import { storageGet, storageSet } from "./storage.js";
import { Toasts } from "./toast.js";

const $ = (selector) => document.querySelector(selector);
const NAME_KEY = "commandpost.fieldName";

/** The share code from /f/<code>. */
export function fieldCode(loc = window.location) {
  const match = loc.pathname.match(/^\/f\/([^/]+)\/?$/);
  return match ? decodeURIComponent(match[1]) : null;
}

class FieldPage {
  constructor() {
    this.i18n = new I18n();
    this.toasts = new Toasts($("#toasts"));
    this.code = fieldCode();
    this.session = null;
    this.fix = null;
    this.geoError = null;
    this.photo = null;
    this.reports = []; // what this page sent, for the test handle
    this.online = navigator.onLine;
    // Dispatch: "my tasks" for a phone opened with #dispatch=<member token> (field-dispatch.js).
    this.dispatch = new FieldDispatch({
      root: $("#field-tasks"), banner: $("#dispatch-banner"), header: $("#field-dispatch-who"),
      i18n: this.i18n, token: readMemberToken(), location: () => this.fix,
    });
    this.Session = withDispatch(FieldSession, this.dispatch.live);
  }

  init() {
    this.i18n.apply();
    this.i18n.bindSwitch($("#lang-switch"));
    this.i18n.onChange(() => {
      this.render();
      this.dispatch.retranslate();
    });
    $("#field-name").value = storageGet(localStorage, NAME_KEY) || "";
    this.dispatch.start().then(() => {
      if (!$("#field-name").value && this.dispatch.me?.name) $("#field-name").value = this.dispatch.me.name;
    });
    $("#field-start-form").addEventListener("submit", (event) => {
      event.preventDefault();
      this.start();
    });
    $("#field-switch").addEventListener("click", () => this.act(() => this.session.switchCamera()));
    $("#field-lowbw").addEventListener("click", () => this.act(() => this.session.setLowBandwidth(!this.session.lowBandwidth)));
    $("#field-audio").addEventListener("click", () => this.act(() => this.session.setAudioOnly(!this.session.audioOnly)));
    $("#field-stop").addEventListener("click", () => this.session?.leave());
    $("#field-photo-input").addEventListener("change", (event) => this.pickPhoto(event.target.files[0]));
    $("#field-snap").addEventListener("click", () => this.act(async () => this.setPhoto(await grabFrame($("#field-video")))));
    $("#field-send").addEventListener("click", () => this.send());
    window.addEventListener("online", () => this.setOnline(true));
    window.addEventListener("offline", () => this.setOnline(false));
    window.addEventListener("pagehide", () => {
      if (this.session?.state === "joined") this.session.leave();
    });
    document.addEventListener("click", () => {
      this.session?.ui.grid.resumeAudio();
      this.dispatch.attention.prime(); // audio and notifications start from a tap
    });
    document.addEventListener("visibilitychange", () => {
      if (["joined", "reconnecting"].includes(this.session?.state)) this.keepScreenOn();
    });
    this.exposeHandle();
    if (!this.code) this.showError("field.noLink");
    this.render();
  }

  ui() {
    return {
      audioContainer: document.body,
      notify: (key, params = {}, kind = "info") => this.toasts.show(this.i18n.t(key, params), { kind }),
      notifyError: (code, message) => this.toasts.show(this.errorText(code, message), { kind: "error" }),
      changed: () => this.render(),
      ended: (reason, detail) => this.ended(reason, detail),
      localVideo: (track) => this.showLocal(track),
      position: (fix) => {
        this.fix = fix;
        this.geoError = null;
        this.render();
      },
      geoError: (code) => {
        this.geoError = code;
        this.render();
      },
    };
  }

  async start() {
    if (!this.code || this.session?.state === "joining") return;
    const name = $("#field-name").value.trim() || this.i18n.t("field.defaultName");
    storageSet(localStorage, NAME_KEY, $("#field-name").value.trim());
    $("#field-error").hidden = true;
    const session = new this.Session(this.ui());
    this.session = session;
    $("#field-start").disabled = true;
    this.render();
    try {
      await session.start({ credentials: { code: this.code }, name, lowBandwidth: $("#field-start-lowbw").checked });
      this.keepScreenOn();
    } catch (err) {
      if (session.state !== "ended") session.end("failed", err);
    }
    this.render();
  }

  /** A phone whose screen sleeps stops its camera: hold a wake lock while streaming (it is
   * released when the page is hidden, so take it again when the page comes back). */
  async keepScreenOn() {
    if (!navigator.wakeLock || document.visibilityState !== "visible") return;
    try {
      this.wakeLock = await navigator.wakeLock.request("screen");
    } catch (err) {
      console.warn("no wake lock", err.name);
    }
  }

  async act(fn) {
    try {
      await fn();
    } catch (err) {
      this.toasts.show(this.i18n.t("field.actionFailed", { reason: err.name || err.message }), { kind: "error" });
    }
    this.render();
  }

  ended(reason, detail) {
    this.endReason = reason;
    this.wakeLock?.release().catch(() => {});
    this.wakeLock = null;
    this.showLocal(null);
    $("#field-start").disabled = false;
    if (reason !== "left") this.showError(detail ? null : `ended.${reason}`, detail);
    this.render();
  }

  showError(key, detail = null) {
    const el = $("#field-error");
    el.hidden = false;
    el.textContent = detail ? this.errorText(detail.code, detail.message) : this.i18n.t(key);
  }

  errorText(code, message) {
    const key = `errors.${code}`;
    const text = this.i18n.t(key);
    return text === key ? this.i18n.t("errors.unknown", { reason: message || code || "" }) : text;
  }

  showLocal(track) {
    const video = $("#field-video");
    video.srcObject = track ? new MediaStream([track]) : null;
    video.classList.toggle("mirrored", Boolean(track) && this.session?.facing === "user");
  }

  setOnline(online) {
    this.online = online;
    // Back online: do not wait for the silence timeout if the socket died meanwhile.
    if (online && this.session?.state === "joined") this.session.checkLiveness();
    this.render();
  }

  /** idle | connecting | live | reconnecting | offline */
  status() {
    const s = this.session;
    if (!this.online) return "offline";
    if (!s || s.state === "idle") return "idle";
    if (s.state === "ended") return this.endReason === "left" ? "idle" : "offline";
    if (s.state === "joining") return "connecting";
    if (s.state === "reconnecting") return "reconnecting";
    return s.publisher?.pc.connectionState === "connected" ? "live" : "connecting";
  }

  render() {
    const s = this.session;
    const status = this.status();
    const streaming = Boolean(s) && ["joining", "joined", "reconnecting"].includes(s.state);
    document.body.dataset.status = status;
    $("#field-status").textContent = this.i18n.t(`field.status.${status}`);
    $("#field-start-form").hidden = streaming;
    $("#field-controls").hidden = !streaming;
    $("#field-report").hidden = !streaming;
    if (s) {
      $("#field-lowbw").setAttribute("aria-pressed", String(s.lowBandwidth));
      $("#field-audio").setAttribute("aria-pressed", String(s.audioOnly));
      $("#field-switch").disabled = s.audioOnly;
      $("#field-snap").disabled = s.audioOnly;
      $("#field-audio-only").hidden = !s.audioOnly;
    }
    $("#field-position").textContent = this.positionText();
    $("#field-send").disabled = !this.photo || this.sending || s?.state !== "joined";
  }

  positionText() {
    if (this.fix) {
      const f = this.fix;
      const accuracy = f.accuracy_m === null ? "" : ` ±${Math.round(f.accuracy_m)} m`;
      return this.i18n.t("field.position", { lat: f.lat.toFixed(5), lon: f.lon.toFixed(5), accuracy });
    }
    if (this.geoError) return this.i18n.t(`field.geo.${this.geoError}`);
    return this.session ? this.i18n.t("field.geo.waiting") : "";
  }

  async pickPhoto(file) {
    if (!file) return;
    this.setPhoto(await preparePhoto(file));
  }

  setPhoto(blob) {
    this.photo = blob;
    const img = $("#field-photo-preview");
    if (img.src) URL.revokeObjectURL(img.src);
    img.src = URL.createObjectURL(blob);
    img.hidden = false;
    $("#field-report-result").hidden = true;
    this.render();
  }

  async send() {
    const s = this.session;
    if (!this.photo || !s) return;
    this.sending = true;
    this.render();
    const result = $("#field-report-result");
    try {
      const report = await sendReport({ roomId: s.roomId, token: s.restToken, photo: this.photo, note: $("#field-note").value.trim(), fix: this.fix });
      this.reports.push(report);
      result.textContent = this.i18n.t("field.reportSent");
      result.dataset.kind = "ok";
      this.photo = null;
      $("#field-note").value = "";
      $("#field-photo-preview").hidden = true;
      $("#field-photo-input").value = "";
    } catch (err) {
      result.textContent = this.i18n.t("field.reportFailed", { reason: this.errorText(err.code, err.message) });
      result.dataset.kind = "error";
    }
    result.hidden = false;
    this.sending = false;
    this.render();
  }

  exposeHandle() {
    const page = this;
    window.commandpost = {
      get state() { return page.session?.state ?? "idle"; },
      get status() { return page.status(); },
      get participantId() { return page.session?.participantId ?? null; },
      get roomId() { return page.session?.roomId ?? null; },
      get name() { return page.session?.name ?? null; },
      get publishPc() { return page.session?.publisher?.pc ?? null; },
      get subscribePc() { return page.session?.subscriber?.pc ?? null; },
      get lastLocation() { return page.session?.lastLocation ?? null; },
      get facing() { return page.session?.facing ?? null; },
      get lowBandwidth() { return page.session?.lowBandwidth ?? false; },
      get audioOnly() { return page.session?.audioOnly ?? false; },
      get reconnects() { return page.session?.reconnects ?? 0; },
      get cameraSwitches() { return page.session?.cameraSwitches ?? 0; },
      get uplinkEstimate() { return page.session?.link.lastEstimate ?? null; },
      get reports() { return page.reports.slice(); },
      get cameraTrack() { return page.session?.tracks.camera ?? null; },
      get wakeLock() { return Boolean(page.wakeLock && !page.wakeLock.released); },
      tiles: () => [],
      toasts: () => page.toasts.log.slice(),
      /** What the subscribe connection receives: voices should flow, video should not. */
      async inbound() {
        const sub = page.session?.subscriber;
        if (!sub?.pc) return [];
        const byMid = new Map(sub.current.map((entry) => [entry.mid, entry.info]));
        const rows = [];
        (await sub.pc.getStats()).forEach((r) => {
          if (r.type !== "inbound-rtp") return;
          const info = byMid.get(r.mid) || {};
          rows.push({ mid: r.mid, kind: r.kind, participantId: info.participant_id ?? null, source: info.source ?? null,
            framesDecoded: r.framesDecoded ?? 0, totalAudioEnergy: r.totalAudioEnergy ?? 0, bytesReceived: r.bytesReceived ?? 0 });
        });
        return rows;
      },
      get audioPlayers() { return page.session?.ui.grid.players.size ?? 0; },
      metrics: {},
      session: () => page.session,
      setLang: (lang) => page.i18n.setLang(lang),
      // dispatch (field-dispatch.js)
      dispatchTasks: () => page.dispatch.describe(),
      pendingUpdates: () => page.dispatch.queue.pending(),
      failedUpdates: () => page.dispatch.queue.failed.slice(),
      sentUpdates: () => page.dispatch.sentUpdates.slice(),
      dispatchAlerts: () => page.dispatch.attention.log.slice(),
      get dispatchSubscribed() { return page.dispatch.live.subscribed; },
      get dispatchMe() { return page.dispatch.me; },
    };
  }
}

new FieldPage().init();
