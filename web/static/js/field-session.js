// A field unit on a phone: MeetingSession (join, resume token, publish) plus the back camera,
// camera switching without renegotiation, a low-bandwidth mode, audio-only fallback, GPS, and
// reconnection that never gives up (a unit in a tunnel must come back on its own).
import { AudioOnlyGrid } from "./field-audio.js";
import { GeoWatcher } from "./geo.js";
import { LinkMonitor } from "./link-monitor.js";
import { MeetingSession } from "./session.js";
import { SignalingClient, SignalingError } from "./signaling.js";

export const VIDEO_NORMAL = { width: { ideal: 640 }, height: { ideal: 480 }, frameRate: { ideal: 24, max: 30 } };
export const VIDEO_LOW = { width: { ideal: 320 }, height: { ideal: 240 }, frameRate: { ideal: 10, max: 10 } };
const AUDIO = { echoCancellation: true, noiseSuppression: true, autoGainControl: true };
const LOW_BITRATE_BPS = 150000;
const LOW_FRAMERATE = 10;
// Resume quickly first (the server keeps our place for 15 s), then keep trying every 2 s:
// after that a normal join brings the feed back under the same name.
const RETRY_DELAYS_MS = [300, 1000, 2000];
// Our own pings every 2 s (on top of signaling.js's 5 s ones) let a silent socket (the network
// vanished without a reset) show up within SILENCE_LIMIT_MS: two lost pongs and a margin.
const PING_INTERVAL_MS = 2000;
const SILENCE_LIMIT_MS = 5000;
// A WebSocket that cannot open on a dead link may hang for minutes before its error.
const CONNECT_TIMEOUT_MS = 4000;
const DISCONNECTED_GRACE_MS = 4000; // ICE "disconnected" this long: rebuild (no ICE restart)
// A new publish connection that has not connected by then will not (the browser would take
// ~30 s to call it failed): start over.
const CONNECT_DEADLINE_MS = 10000;
const LIVENESS_CHECK_MS = 500;
const FINAL_ERRORS = new Set(["auth_failed", "token_expired", "wrong_room", "room_not_found", "room_locked", "room_full", "forbidden"]);

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

export class FieldSession extends MeetingSession {
  /** ui: {notify, notifyError, changed, ended, localVideo(track), position(fix), geoError(code), audioContainer} */
  constructor(ui) {
    super({ ...ui, grid: new AudioOnlyGrid(ui.audioContainer) });
    this.facing = "environment";
    this.lowBandwidth = false;
    this.audioOnly = false;
    this.restToken = null;
    this.lastMessageAt = 0;
    this.reconnects = 0;
    this.cameraSwitches = 0;
    this.hiddenVideo = new Set();
    this.geo = new GeoWatcher({
      send: (fix) => this.sendLocation(fix),
      onFix: (fix) => ui.position(fix),
      onError: (code) => ui.geoError(code),
    });
    this.lastLocation = null;
    this.link = new LinkMonitor(this);
  }

  /** One tap: capture the back camera and microphone, join, publish, start GPS. */
  async start({ credentials, name, lowBandwidth = false }) {
    this.lowBandwidth = lowBandwidth;
    const [audio, video] = await Promise.allSettled([
      navigator.mediaDevices.getUserMedia({ audio: AUDIO }).then((s) => s.getAudioTracks()[0]),
      this.captureCamera(this.facing),
    ]);
    const mic = audio.status === "fulfilled" ? audio.value : null;
    const camera = video.status === "fulfilled" ? video.value : null;
    if (!mic && !camera) throw audio.reason || video.reason;
    if (!camera) this.ui.notify("field.noCamera", { reason: video.reason?.name || "" }, "warning");
    this.audioOnly = !camera;
    this.ui.localVideo(camera);
    await this.join({ credentials, name, media: { audio: mic, video: camera, audioOn: Boolean(mic), videoOn: Boolean(camera) } });
    this.geo.start();
    this.watchdog = setInterval(() => this.checkLiveness(), LIVENESS_CHECK_MS);
    this.link.start();
  }

  async captureCamera(facing) {
    const base = this.lowBandwidth ? VIDEO_LOW : VIDEO_NORMAL;
    let stream;
    try {
      stream = await navigator.mediaDevices.getUserMedia({ video: { ...base, facingMode: { exact: facing } } });
    } catch (err) {
      // One camera only, or a camera that does not say where it faces: take what there is.
      if (err.name !== "OverconstrainedError" && err.name !== "NotFoundError") throw err;
      stream = await navigator.mediaDevices.getUserMedia({ video: { ...base, facingMode: facing } });
    }
    return stream.getVideoTracks()[0];
  }

  // signalling
  async connectAndJoin(extra) {
    const signaling = new SignalingClient();
    this.signaling = signaling;
    let timer;
    const timeout = new Promise((_, reject) => {
      timer = setTimeout(() => reject(new SignalingError("timeout", "cannot reach the server")), CONNECT_TIMEOUT_MS);
    });
    try {
      await Promise.race([signaling.connect(), timeout]);
    } finally {
      clearTimeout(timer);
    }
    this.listen(signaling);
    await signaling.join({ name: this.name, ...this.credentials, ...extra });
  }

  listen(s) {
    super.listen(s);
    s.on("*", () => {
      if (s === this.signaling) this.lastMessageAt = Date.now();
    });
  }

  onJoined(msg) {
    super.onJoined(msg);
    this.lastMessageAt = Date.now();
    this.restToken = msg.token || null;
    this.hiddenVideo.clear();
    this.geo.flush(); // the wall gets the position back at once after a reconnect
  }

  /** Video from the room is not shown on the phone: ask the server not to send it. Voices play. */
  onTracks(entries) {
    this.ui.grid.setTracks(entries);
    for (const { info } of entries) {
      if (info.kind !== "video" || this.hiddenVideo.has(info.track_id)) continue;
      if (this.signaling?.send({ type: "track_view", track_id: info.track_id, visible: false })) this.hiddenVideo.add(info.track_id);
    }
  }

  sendLocation(fix) {
    if (this.state !== "joined" || !this.signaling?.send({ type: "location", ...fix })) return false;
    this.lastLocation = { ...fix, sentAt: Date.now() };
    this.ui.changed();
    return true;
  }

  // publishing
  async startPublishing() {
    await super.startPublishing();
    const publisher = this.publisher;
    if (!publisher) return;
    publisher.pc.addEventListener("connectionstatechange", () => this.onPublishState(publisher));
    clearTimeout(this.connectTimer);
    this.connectTimer = setTimeout(() => {
      if (publisher === this.publisher && this.state === "joined" && publisher.pc.connectionState !== "connected") this.reconnect();
    }, CONNECT_DEADLINE_MS);
    await this.applyEncoding();
    this.ui.changed();
  }

  onPublishState(publisher) {
    if (publisher !== this.publisher) return;
    const state = publisher.pc.connectionState;
    clearTimeout(this.disconnectTimer);
    if (state === "disconnected") {
      this.disconnectTimer = setTimeout(() => {
        if (publisher === this.publisher && publisher.pc.connectionState !== "connected" && this.state === "joined") this.reconnect();
      }, DISCONNECTED_GRACE_MS);
    }
    this.ui.changed();
  }

  cameraSender() {
    return this.publisher?.transceivers.get("camera")?.sender ?? null;
  }

  /** Low-bandwidth mode caps the camera's encodings (only the smallest simulcast layer stays on). */
  async applyEncoding() {
    const sender = this.cameraSender();
    if (!sender) return;
    const params = sender.getParameters();
    if (!params.encodings?.length) return;
    if (!this.originalEncodings || this.originalEncodings.sender !== sender) {
      this.originalEncodings = { sender, list: params.encodings.map((e) => ({ active: e.active, maxBitrate: e.maxBitrate, maxFramerate: e.maxFramerate })) };
    }
    const smallest = params.encodings.reduce((a, b) => ((b.scaleResolutionDownBy || 1) > (a.scaleResolutionDownBy || 1) ? b : a));
    params.encodings.forEach((encoding, i) => {
      const original = this.originalEncodings.list[i] || {};
      if (this.lowBandwidth) {
        encoding.active = encoding === smallest;
        encoding.maxBitrate = Math.min(original.maxBitrate || Infinity, LOW_BITRATE_BPS);
        encoding.maxFramerate = LOW_FRAMERATE;
      } else {
        encoding.active = original.active ?? true;
        for (const key of ["maxBitrate", "maxFramerate"]) {
          if (original[key] === undefined) delete encoding[key];
          else encoding[key] = original[key];
        }
      }
    });
    await sender.setParameters(params);
  }

  async setLowBandwidth(on) {
    this.lowBandwidth = on;
    const track = this.tracks.camera;
    if (track) {
      try {
        await track.applyConstraints(on ? VIDEO_LOW : VIDEO_NORMAL);
      } catch (err) {
        console.warn("camera constraints", err);
      }
    }
    await this.applyEncoding();
    this.ui.changed();
  }

  /** Back <-> front: a new capture on the same sender (replaceTrack), no renegotiation. */
  async switchCamera() {
    if (this.audioOnly || !this.tracks.camera) return;
    const next = this.facing === "environment" ? "user" : "environment";
    this.tracks.camera.stop(); // most phones open one camera at a time
    let track;
    try {
      track = await this.captureCamera(next);
      this.facing = next;
    } catch (err) {
      track = await this.captureCamera(this.facing);
      this.ui.notify("field.switchFailed", { reason: err.name || err.message }, "error");
    }
    this.tracks.camera = track;
    await this.publisher?.replaceTrack("camera", track);
    this.cameraSwitches += 1;
    this.ui.localVideo(track);
    this.ui.changed();
  }

  /** Audio only: the camera is released and its sender sends nothing; the voice goes on. */
  async setAudioOnly(on) {
    if (on === this.audioOnly) return;
    if (on) {
      this.tracks.camera?.stop();
      this.tracks.camera = null;
      this.videoOn = false;
      await this.publisher?.replaceTrack("camera", null);
    } else {
      const track = await this.captureCamera(this.facing);
      this.tracks.camera = track;
      this.videoOn = true;
      if (this.publisher?.transceivers.has("camera")) await this.publisher.replaceTrack("camera", track);
      else await this.ensurePublisher().publish("camera", track);
      await this.applyEncoding();
    }
    this.audioOnly = on;
    this.ui.localVideo(this.tracks.camera);
    this.sendState();
    this.ui.changed();
  }

  // staying connected
  checkLiveness() {
    if (this.state !== "joined") return;
    if (Date.now() - this.lastMessageAt > SILENCE_LIMIT_MS) {
      this.reconnect();
      return;
    }
    if (Date.now() - (this.lastPingAt || 0) >= PING_INTERVAL_MS) {
      this.lastPingAt = Date.now();
      this.signaling?.send({ type: "ping", t: this.lastPingAt });
    }
  }

  /** Like MeetingSession.reconnect, but it never gives up: resume while the server keeps our
   * place, then join afresh under the same name. */
  async reconnect() {
    if (this.state === "reconnecting" || this.state === "ended") return;
    this.state = "reconnecting";
    this.reconnects += 1;
    const old = this.signaling;
    this.signaling = null;
    this.dropMedia();
    this.ui.notify("toast.reconnecting", {}, "warning");
    this.ui.changed();
    let lastTry = 0;
    for (let attempt = 0; ; attempt += 1) {
      // An attempt that hung until its timeout already waited: retry at once after it.
      const delay = RETRY_DELAYS_MS[Math.min(attempt, RETRY_DELAYS_MS.length - 1)];
      await sleep(Math.max(100, delay - (Date.now() - lastTry)));
      lastTry = Date.now();
      if (this.state === "ended") return old?.close();
      try {
        await this.connectAndJoin(this.resumeToken ? { resume: this.resumeToken } : {});
        old?.close();
        if (this.state === "ended") return this.signaling?.close();
        await this.startPublishing();
        this.ui.notify("toast.reconnected");
        this.ui.changed();
        return;
      } catch (err) {
        this.signaling?.close();
        this.signaling = null;
        if (FINAL_ERRORS.has(err.code)) {
          old?.close();
          return this.end("failed", err);
        }
      }
    }
  }

  end(reason, detail = null) {
    clearInterval(this.watchdog);
    clearTimeout(this.disconnectTimer);
    clearTimeout(this.connectTimer);
    this.geo.stop();
    this.link.stop();
    super.end(reason, detail);
  }
}
