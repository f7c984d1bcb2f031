// One meeting attendance: the signalling socket, both peer connections and local media.
// It knows nothing about buttons; the view listens through `ui` callbacks.
import { captureTrack, savedDevice } from "./devices.js";
import { FirstFrameProbe } from "./metrics.js";
import { Publisher } from "./publisher.js";
import { SignalingClient } from "./signaling.js";
import { Subscriber } from "./subscriber.js";
import { TrackViewReporter } from "./track-view.js";

// Retries fit inside the server's presence timeout (15 s), so a resume keeps our place.
const RECONNECT_DELAYS_MS = [500, 1500, 3000, 5000];
// Errors that another attempt cannot fix.
const FINAL_ERRORS = new Set(["auth_failed", "token_expired", "wrong_room", "room_not_found", "room_locked", "room_full", "forbidden"]);

export class MeetingSession {
  /** ui: {grid, notify(key, params, kind), changed(), ended(reason, detail)} */
  constructor(ui) {
    this.ui = ui;
    this.state = "idle";
    this.participantId = null;
    this.grants = [];
    this.locked = false;
    this.tracks = { microphone: null, camera: null, screen: null };
    this.audioOn = false;
    this.videoOn = false;
    this.metrics = { joinStartedAt: null, joinedAt: null, subscribeConnectedAt: null, firstFrameAt: null };
    this.publisher = null;
    this.subscriber = null;
    this.signaling = null;
    this.bandwidth = null; // the server's last `bandwidth` message about our downlink
  }

  isAdmin() {
    return this.grants.includes("admin");
  }

  micEnabled() {
    return Boolean(this.tracks.microphone && this.audioOn);
  }

  /** credentials: {code} or {token}; media: {audio, video, audioOn, videoOn} tracks from the preview. */
  async join({ credentials, name, media }) {
    this.state = "joining";
    this.metrics.joinStartedAt = performance.now();
    this.credentials = credentials;
    this.name = name;
    this.tracks.microphone = media.audio;
    this.tracks.camera = media.video;
    this.audioOn = Boolean(media.audio && media.audioOn);
    this.videoOn = Boolean(media.video && media.videoOn);
    if (media.audio) media.audio.enabled = this.audioOn;
    await this.connectAndJoin({});
    await this.startPublishing();
  }

  async connectAndJoin(extra) {
    const signaling = new SignalingClient();
    this.signaling = signaling;
    await signaling.connect();
    this.listen(signaling);
    await signaling.join({ name: this.name, ...this.credentials, ...extra });
  }

  /**
   * The socket dropped: come back with the resume token (same participant id if the server
   * still holds us) and new peer connections, since aiortc has no ICE restart.
   */
  async reconnect() {
    this.state = "reconnecting";
    // The old socket may still be open (media failure): stop listening to it now; the server
    // drops it when the resume arrives on the new one.
    const old = this.signaling;
    this.signaling = null;
    this.dropMedia();
    this.ui.notify("toast.reconnecting", {}, "warning");
    this.ui.changed();
    for (const delay of RECONNECT_DELAYS_MS) {
      await new Promise((resolve) => setTimeout(resolve, delay));
      if (this.state === "ended") return old?.close();
      try {
        await this.connectAndJoin(this.resumeToken ? { resume: this.resumeToken } : {});
        old?.close();
        if (this.state === "ended") return this.signaling?.close(); // left while we reconnected
        await this.startPublishing();
        this.ui.notify("toast.reconnected");
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
    old?.close();
    this.end("lost");
  }

  dropMedia() {
    this.probe?.stop();
    this.publisher?.close();
    this.subscriber?.close();
    this.publisher = null;
    this.subscriber = null;
    this.trackViews?.reset();
    this.ui.grid.setTracks([]);
    this.bandwidth = null;
    this.ui.bandwidth?.({ videoPaused: false });
  }

  listen(s) {
    const on = (type, fn) => s.on(type, (msg) => {
      if (s === this.signaling) fn(msg); // a replaced socket's late messages are stale
    });
    on("joined", (msg) => this.onJoined(msg));
    on("offer", (msg) => this.onOffer(msg));
    on("participant_joined", ({ participant }) => {
      this.ui.grid.upsertParticipant(participant);
      this.ui.notify("toast.joined", { name: participant.name });
      this.ui.changed();
    });
    on("participant_left", (msg) => this.onParticipantLeft(msg));
    on("participant_state", ({ participant_id: id, audio, video }) => this.ui.grid.setState(id, { audio, video }));
    on("muted", (msg) => this.onMutedByHost(msg));
    on("active_speaker", ({ participant_id: id }) => this.ui.activeSpeaker?.(id ?? null));
    on("audio_levels", ({ levels }) => this.ui.grid.setLevels(levels || {}));
    on("bandwidth", (msg) => {
      this.bandwidth = { estimateBps: msg.estimate_bps, videoPaused: Boolean(msg.video_paused) };
      this.ui.bandwidth?.(this.bandwidth);
    });
    on("layers", ({ mid, active }) => {
      this.publisher?.setActiveLayers(mid, Array.isArray(active) ? active : null)
        ?.catch((err) => console.warn("layers: setParameters failed", err));
    });
    on("kicked", () => this.end("kicked"));
    on("room_locked", ({ locked }) => {
      this.locked = Boolean(locked);
      this.ui.notify(this.locked ? "toast.roomLocked" : "toast.roomUnlocked");
      this.ui.changed();
    });
    on("error", (msg) => {
      // track_view is advisory (a track may leave as we report it): nothing to tell the user.
      if (msg.ref === "track_view") console.warn("track_view refused", msg.code, msg.message);
      else if (msg.ref !== "join") this.ui.notifyError(msg.code, msg.message);
      // The server refused our answer: it would wait forever; ask for a new offer.
      if (msg.ref === "answer") this.subscriber?.fail(msg.message);
      // It offered a new connection several times in a minute: only a rejoin may help.
      if (msg.ref === "offer_failed" && msg.code === "limit_reached" && this.state === "joined") this.reconnect();
    });
    on("close", ({ byUs }) => {
      if (byUs || this.state === "ended" || this.state === "reconnecting") return;
      if (this.state === "joined") this.reconnect();
      else this.end("failed");
    });
  }

  onJoined(msg) {
    if (this.state === "ended") return; // a rejoin that completed after the user left
    this.state = "joined";
    this.metrics.joinedAt = performance.now();
    this.participantId = msg.participant_id;
    this.roomId = msg.room_id;
    this.grants = msg.grants || [];
    this.locked = Boolean(msg.locked);
    this.iceServers = msg.ice_servers || [];
    this.resumeToken = msg.resume_token || null;
    this.simulcast = msg.simulcast !== false;
    const grid = this.ui.grid;
    grid.setSelf({ id: msg.participant_id, name: msg.name || this.name, audio: this.audioOn, video: this.videoOn, admin: this.isAdmin() },
      this.videoOn ? this.tracks.camera : null);
    if (this.tracks.screen) grid.setLocalScreen(this.tracks.screen);
    const present = new Set((msg.participants || []).map((p) => p.id));
    for (const id of [...grid.participants.keys()]) {
      if (id !== this.participantId && !present.has(id)) grid.removeParticipant(id); // left while we were away
    }
    for (const p of msg.participants || []) {
      if (p.id !== this.participantId) grid.upsertParticipant(p);
    }
    this.ui.changed();
    this.ui.joined?.(msg, this.signaling); // extensions (whiteboard) listen on this socket
  }

  onOffer(msg) {
    if (!this.subscriber) {
      this.subscriber = new Subscriber(this.signaling, this.iceServers, {
        onTracks: (entries) => this.onTracks(entries),
        onStateChange: (state) => this.onSubscribeState(state),
      });
    }
    // The subscriber has asked the server for a new offer (offer_failed); only if the server
    // gives up (error limit_reached, ref offer_failed) does the user hear about it.
    this.subscriber.handleOffer(msg).catch((err) => console.warn("subscribe offer refused, asked for a new one", err));
  }

  onTracks(entries) {
    const grid = this.ui.grid;
    grid.setTracks(entries);
    this.trackViews ??= new TrackViewReporter((msg) => Boolean(this.signaling?.send(msg)));
    this.trackViews.sync(entries.filter(({ info }) => info.kind === "video").map(({ info }) => {
      const source = info.source === "screen" ? "screen" : "camera";
      return [info.track_id, grid.tileMap.get(`${info.participant_id}:${source}`)?.root];
    }));
  }

  onSubscribeState(state) {
    if (state === "connected" && this.metrics.subscribeConnectedAt === null) {
      this.metrics.subscribeConnectedAt = performance.now();
      this.probe = new FirstFrameProbe(this.subscriber.pc, (at) => (this.metrics.firstFrameAt = at));
    }
    if (state === "failed") this.onMediaFailed();
  }

  async startPublishing() {
    this.sendState();
    if (!this.grants.includes("publish") || !(this.tracks.microphone || this.tracks.camera)) return;
    this.ensurePublisher();
    try {
      const { microphone, camera, screen } = this.tracks;
      await this.publisher.publishAll({ microphone, camera: this.videoOn ? camera : null, screen });
    } catch (err) {
      this.ui.notify("toast.mediaFailed", { reason: err.code || err.message }, "error");
    }
  }

  onParticipantLeft({ participant_id: id, reason }) {
    const name = this.ui.grid.participants.get(id)?.name || "";
    this.ui.grid.removeParticipant(id);
    const key = { kicked: "toast.removed", timeout: "toast.timedOut" }[reason] || "toast.left";
    this.ui.notify(key, { name });
    this.ui.changed();
  }

  onMutedByHost({ kind }) {
    if (kind === "audio") this.setMic(false);
    else this.setCam(false);
    this.ui.notify(kind === "audio" ? "toast.mutedAudio" : "toast.mutedVideo", {}, "warning");
  }

  sendState() {
    this.signaling?.send({ type: "state", audio: this.micEnabled(), video: Boolean(this.videoOn && this.tracks.camera) });
    this.ui.grid.setState(this.participantId, { audio: this.micEnabled(), video: this.videoOn });
  }

  /** The microphone keeps its track and only stops sending sound, so unmuting is instant. */
  setMic(on) {
    if (!this.tracks.microphone) return;
    this.audioOn = on;
    this.tracks.microphone.enabled = on;
    this.sendState();
    this.ui.changed();
  }

  /** The camera is released when off (its light goes out) and captured again when on. */
  async setCam(on) {
    if (on === this.videoOn) return;
    this.videoOn = on;
    if (!on) {
      this.tracks.camera?.stop();
      this.tracks.camera = null;
      await this.publisher?.replaceTrack("camera", null);
    } else {
      try {
        this.tracks.camera = await captureTrack("video", savedDevice("videoinput"));
      } catch (err) {
        this.videoOn = false;
        throw err;
      }
      if (this.publisher?.transceivers.has("camera")) await this.publisher.replaceTrack("camera", this.tracks.camera);
      else await this.ensurePublisher().publish("camera", this.tracks.camera);
    }
    this.ui.grid.tile(this.participantId, "camera").setTrack(this.tracks.camera);
    this.sendState();
    this.ui.changed();
  }

  ensurePublisher() {
    if (!this.publisher) {
      const publisher = new Publisher(this.signaling, this.iceServers, { simulcast: this.simulcast !== false });
      publisher.pc.addEventListener("connectionstatechange", () => {
        if (publisher === this.publisher && publisher.pc.connectionState === "failed") this.onMediaFailed();
      });
      this.publisher = publisher;
    }
    return this.publisher;
  }

  /** ICE failed but signalling may be fine: rejoin anyway, since only new connections recover. */
  onMediaFailed() {
    if (this.state !== "joined") return;
    this.ui.notify("toast.mediaFailed", { reason: "ICE" }, "error");
    this.reconnect();
  }

  async startScreen() {
    const stream = await navigator.mediaDevices.getDisplayMedia({ video: { frameRate: { ideal: 15 } }, audio: false });
    const track = stream.getVideoTracks()[0];
    track.contentHint = "detail";
    track.addEventListener("ended", () => this.stopScreen());
    this.tracks.screen = track;
    this.ui.grid.setLocalScreen(track);
    this.ui.changed();
    await this.ensurePublisher().publish("screen", track);
  }

  async stopScreen() {
    const track = this.tracks.screen;
    if (!track) return;
    this.tracks.screen = null;
    track.stop();
    this.ui.grid.setLocalScreen(null);
    this.ui.changed();
    await this.publisher?.unpublish("screen");
  }

  hostMute(participantId, kind) {
    this.signaling?.send({ type: "mute", participant_id: participantId, kind });
  }

  kick(participantId) {
    this.signaling?.send({ type: "kick", participant_id: participantId });
  }

  setLocked(locked) {
    this.signaling?.send({ type: "lock", locked });
  }

  leave() {
    this.signaling?.send({ type: "leave" });
    this.end("left");
  }

  /** Tear everything down; reason: left | kicked | lost | failed. */
  end(reason, detail = null) {
    if (this.state === "ended") return;
    this.state = "ended";
    this.probe?.stop();
    this.publisher?.close();
    this.subscriber?.close();
    this.trackViews?.close();
    this.signaling?.close();
    for (const track of Object.values(this.tracks)) track?.stop();
    this.ui.ended(reason, detail);
  }
}
