// The wall's attendance: it joins as a subscriber that never publishes, receives every
// video, and comes back by itself when the socket or the media connection drops (a wall
// runs unattended, so it never gives up on errors another attempt can fix).
import { SignalingClient } from "./signaling.js";
import { Subscriber } from "./subscriber.js";
import { TrackViewReporter } from "./track-view.js";

const RETRY_DELAYS_MS = [500, 1500, 3000, 5000]; // then every 5 s
// Watchdog: the room has tracks our subscribe connection still lacks this long after the
// last offer (the server is stuck waiting on us, or an offer went astray): rejoin, at most
// once per WATCHDOG_GAP_MS.
const WATCHDOG_STALE_MS = 8000;
const WATCHDOG_GAP_MS = 30000;
const WATCHDOG_TICK_MS = 2000;
const FINAL_ERRORS = new Set(["auth_failed", "token_expired", "wrong_room", "room_not_found", "forbidden"]);
// Room events the page reacts to; each is handed on as it is (docs/protocol.md).
const EVENTS = ["participant_joined", "participant_left", "participant_state", "tracks", "feed", "feed_removed", "location", "report", "bandwidth"];

export class WallSession {
  /** ui: {joined(msg), tracks(entries), event(msg), state(state), ended(reason, err)} */
  constructor(ui) {
    this.ui = ui;
    this.state = "idle";
    this.signaling = null;
    this.subscriber = null;
    this.participantId = null;
    this.roomId = null;
    this.resumeToken = null;
    this.iceServers = [];
    this.reconnects = 0;
    this.offerFailures = 0;
    this.watchdogRejoins = 0;
    this.roomTracks = new Set(); // track ids of others' tracks, from joined/tracks
    this.tracksChangedAt = 0;
    this.lastOfferAt = 0;
    this.offered = null; // track ids of the last offer
    this.lastWatchdogAt = -Infinity;
    this.watchdog = setInterval(() => this.checkMissing(), WATCHDOG_TICK_MS);
  }

  /** credentials: {code} or {token}. */
  async start(credentials, name) {
    this.credentials = credentials;
    this.name = name;
    this.setState("joining");
    await this.connect({});
  }

  setState(state) {
    this.state = state;
    this.ui.state(state);
  }

  async connect(extra) {
    const signaling = new SignalingClient();
    this.signaling = signaling;
    await signaling.connect();
    this.listen(signaling);
    await signaling.join({ name: this.name, ...this.credentials, ...extra });
  }

  listen(s) {
    const on = (type, fn) => s.on(type, (msg) => {
      if (s === this.signaling) fn(msg); // a replaced socket's late messages are stale
    });
    on("joined", (msg) => this.onJoined(msg));
    on("offer", (msg) => {
      this.lastOfferAt = performance.now();
      this.offered = new Set(Object.values(msg.tracks || {}).map((t) => t.track_id));
      this.onOffer(msg);
    });
    on("tracks", (msg) => this.setRoomTracks(msg.tracks));
    for (const type of EVENTS) on(type, (msg) => this.ui.event(msg));
    on("kicked", () => this.end("kicked"));
    on("error", (msg) => {
      if (msg.ref !== "join" && msg.ref !== "track_view") console.warn("server error", msg.code, msg.message);
      if (msg.ref === "answer") this.subscriber?.fail(msg.message);
      if (msg.ref === "offer_failed" && this.state === "joined") this.reconnect();
    });
    on("close", ({ byUs }) => {
      if (!byUs && this.state === "joined") this.reconnect();
    });
  }

  onJoined(msg) {
    this.participantId = msg.participant_id;
    this.roomId = msg.room_id;
    this.resumeToken = msg.resume_token || null;
    this.iceServers = msg.ice_servers || [];
    this.setRoomTracks(msg.tracks);
    this.setState("joined");
    this.ui.joined(msg);
  }

  onOffer(msg) {
    if (!this.subscriber) {
      const subscriber = new Subscriber(this.signaling, this.iceServers, {
        onTracks: (entries) => this.ui.tracks(entries),
        onStateChange: (state) => {
          if (state === "failed" && subscriber === this.subscriber && this.state === "joined") this.reconnect();
        },
      });
      this.subscriber = subscriber;
    }
    this.subscriber.handleOffer(msg).catch((err) => {
      // The subscriber sent offer_failed: the server offers again on a new connection (and
      // says limit_reached when that keeps failing; then we rejoin).
      console.error("subscribe offer refused, asked for a new one", err);
      this.offerFailures += 1;
    });
  }

  setRoomTracks(tracks) {
    this.roomTracks = new Set((tracks || []).filter((t) => t.participant_id !== this.participantId).map((t) => t.track_id));
    this.tracksChangedAt = performance.now();
  }

  checkMissing() {
    if (this.state !== "joined" || !this.roomTracks.size) return;
    const now = performance.now();
    if (now - Math.max(this.lastOfferAt, this.tracksChangedAt) < WATCHDOG_STALE_MS) return;
    if (now - this.lastWatchdogAt < WATCHDOG_GAP_MS) return;
    // Compared with what the server offered (not what the browser took): a track the
    // browser declined (a codec it lacks) must not make us rejoin forever.
    const offered = this.subscriber ? this.offered || new Set() : new Set();
    const missing = [...this.roomTracks].filter((id) => !offered.has(id));
    if (!missing.length) return;
    console.warn(`wall: ${missing.length} tracks never offered, rejoining`);
    this.lastWatchdogAt = now;
    this.watchdogRejoins += 1;
    this.reconnect();
  }

  /** The server's track_view reports; the board hands it [trackId, element] pairs. */
  trackViews() {
    this.views ??= new TrackViewReporter((msg) => Boolean(this.signaling?.send(msg)));
    return this.views;
  }

  /** New socket and peer connection (aiortc has no ICE restart), resuming our place. */
  async reconnect() {
    if (this.state === "reconnecting" || this.state === "ended") return;
    this.setState("reconnecting");
    const old = this.signaling;
    this.signaling = null;
    this.subscriber?.close();
    this.subscriber = null;
    this.views?.reset();
    this.ui.tracks([]);
    for (let attempt = 0; this.state === "reconnecting"; attempt += 1) {
      await new Promise((resolve) => setTimeout(resolve, RETRY_DELAYS_MS[Math.min(attempt, RETRY_DELAYS_MS.length - 1)]));
      if (this.state !== "reconnecting") break;
      try {
        await this.connect(this.resumeToken ? { resume: this.resumeToken } : {});
        this.reconnects += 1;
        old?.close();
        return;
      } catch (err) {
        this.signaling?.close();
        this.signaling = null;
        if (FINAL_ERRORS.has(err.code)) {
          old?.close();
          this.end("failed", err);
          return;
        }
      }
    }
  }

  end(reason, err = null) {
    if (this.state === "ended") return;
    this.setState("ended");
    clearInterval(this.watchdog);
    this.subscriber?.close();
    this.views?.close();
    this.signaling?.close();
    this.ui.ended(reason, err);
  }
}
