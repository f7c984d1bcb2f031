// The publish connection: we offer, the server answers. One sendonly transceiver per source
// (microphone, camera, screen); a source that stops is set inactive and reused when it restarts,
// so repeated screen shares never grow the offer.
import { iceGatheringComplete, peerConfig } from "./ice.js";

const ANSWER_TIMEOUT_MS = 10000;

export class Publisher {
  constructor(signaling, iceServers) {
    this.signaling = signaling;
    this.pc = new RTCPeerConnection(peerConfig(iceServers));
    this.transceivers = new Map();
    this.queue = Promise.resolve();
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
      return;
    }
    const transceiver = this.pc.addTransceiver(track, { direction: "sendonly" });
    this.transceivers.set(source, transceiver);
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
