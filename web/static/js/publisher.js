// The publish connection: we offer, the server answers. One sendonly transceiver per source
// (microphone, camera, screen); a source that stops is set inactive and reused when it restarts,
// so repeated screen shares never grow the offer. With simulcast the camera goes out as three
// layers (rid q/h/f: quarter, half and full size); the server's `layers` message switches off
// the ones nobody watches (docs/protocol.md). Screen share is always one full layer.
import { iceGatheringComplete, peerConfig } from "./ice.js";

const ANSWER_TIMEOUT_MS = 10000;
export const CAMERA_LAYERS = [
  { rid: "q", scaleResolutionDownBy: 4, maxBitrate: 150_000 },
  { rid: "h", scaleResolutionDownBy: 2, maxBitrate: 500_000 },
  { rid: "f", scaleResolutionDownBy: 1, maxBitrate: 1_500_000 },
];
const SINGLE_LAYER_HEIGHT = 360; // without simulcast a camera is sent at most this tall

export class Publisher {
  /** options.simulcast: publish the camera as three layers (the server's [sfu] simulcast). */
  constructor(signaling, iceServers, { simulcast = false } = {}) {
    this.signaling = signaling;
    this.simulcast = simulcast;
    this.pc = new RTCPeerConnection(peerConfig(iceServers));
    this.transceivers = new Map();
    this.queue = Promise.resolve();
    this.parameters = Promise.resolve(); // setParameters calls, one at a time
  }

  /** Send several tracks ({source: track}) with a single negotiation. */
  publishAll(tracks) {
    for (const [source, track] of Object.entries(tracks)) {
      if (track) this.attach(source, track);
    }
    return this.negotiate();
  }

  publish(source, track) {
    this.attach(source, track);
    return this.negotiate();
  }

  attach(source, track) {
    const existing = this.transceivers.get(source);
    if (existing) {
      existing.direction = "sendonly";
      existing.sender.replaceTrack(track);
      // The server starts a re-published track with every layer on: so do we.
      this.setActiveLayers(existing.mid, null).catch(() => {});
      return;
    }
    const init = { direction: "sendonly" };
    if (source === "camera") init.sendEncodings = this.cameraEncodings(track);
    const transceiver = this.pc.addTransceiver(track, init);
    this.transceivers.set(source, transceiver);
  }

  cameraEncodings(track) {
    if (this.simulcast) return CAMERA_LAYERS.map((layer) => ({ ...layer }));
    const height = track.getSettings?.().height || 0;
    const scale = height > SINGLE_LAYER_HEIGHT ? height / SINGLE_LAYER_HEIGHT : 1;
    return [{ scaleResolutionDownBy: scale }];
  }

  /**
   * The server's `layers` message: send only these rids on the m-section `mid` (null: all).
   * A layer switched back on starts with a keyframe, so subscribers can switch to it at once.
   */
  setActiveLayers(mid, rids) {
    const transceiver = [...this.transceivers.values()].find((t) => t.mid === mid);
    if (!transceiver) return Promise.resolve(false);
    const run = this.parameters.then(async () => {
      const sender = transceiver.sender;
      const params = sender.getParameters();
      let changed = false;
      for (const encoding of params.encodings || []) {
        if (!encoding.rid) continue;
        const active = rids === null || rids.includes(encoding.rid);
        if (encoding.active !== active) {
          encoding.active = active;
          changed = true;
        }
      }
      if (changed) await sender.setParameters(params);
      return changed;
    });
    this.parameters = run.catch(() => {});
    return run;
  }

  /** Which of the camera's rids are being sent (for the debug handle and tests). */
  activeLayers(source = "camera") {
    const transceiver = this.transceivers.get(source);
    if (!transceiver) return [];
    return (transceiver.sender.getParameters().encodings || []).filter((e) => e.rid && e.active).map((e) => e.rid);
  }

  async unpublish(source) {
    const transceiver = this.transceivers.get(source);
    if (!transceiver || transceiver.direction === "inactive") return;
    transceiver.direction = "inactive";
    await transceiver.sender.replaceTrack(null);
    await this.negotiate();
  }

  /** Swap the device behind a source without renegotiating (device change). */
  async replaceTrack(source, track) {
    const transceiver = this.transceivers.get(source);
    if (transceiver) await transceiver.sender.replaceTrack(track);
  }

  has(source) {
    const transceiver = this.transceivers.get(source);
    return Boolean(transceiver && transceiver.direction === "sendonly");
  }

  /** Negotiations run one at a time; a failed one does not block the next. */
  negotiate() {
    const run = this.queue.then(() => this.negotiateOnce());
    this.queue = run.catch(() => {});
    return run;
  }

  async negotiateOnce() {
    const offer = await this.pc.createOffer();
    await this.pc.setLocalDescription(offer);
    await iceGatheringComplete(this.pc);
    const answer = this.signaling.waitFor("answer", { ref: "publish", timeoutMs: ANSWER_TIMEOUT_MS });
    this.signaling.send({ type: "publish", sdp: this.pc.localDescription.sdp, sources: this.sources() });
    try {
      const msg = await answer;
      await this.pc.setRemoteDescription({ type: "answer", sdp: msg.sdp });
    } catch (err) {
      if (this.pc.signalingState === "have-local-offer") await this.pc.setLocalDescription({ type: "rollback" });
      throw err;
    }
  }

  sources() {
    const sources = {};
    for (const [source, transceiver] of this.transceivers) {
      if (transceiver.mid !== null && transceiver.direction === "sendonly") sources[transceiver.mid] = source;
    }
    return sources;
  }

  close() {
    this.pc.close();
  }
}
