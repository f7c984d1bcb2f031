// The subscribe connection: the server offers whenever the room's tracks change, with a
// `tracks` map from mid to track. We map receivers by mid, not by ontrack order, because the
// server reuses idle m-sections for new tracks and ontrack does not fire again for them.
import { iceGatheringComplete, peerConfig } from "./ice.js";

export class Subscriber {
  /** onTracks(list of {mid, info, track, receiver}) is called after every applied offer. */
  constructor(signaling, iceServers, { onTracks, onStateChange }) {
    this.signaling = signaling;
    this.iceServers = iceServers;
    this.onTracks = onTracks;
    this.onStateChange = onStateChange;
    this.pc = null;
    this.queue = Promise.resolve();
    this.current = [];
  }

  handleOffer(msg) {
    const run = this.queue.then(() => this.applyOffer(msg));
    this.queue = run.catch((err) => console.error("subscribe offer failed", err));
    return run;
  }

  ensurePc() {
    if (this.pc) return this.pc;
    this.pc = new RTCPeerConnection(peerConfig(this.iceServers));
    this.pc.addEventListener("connectionstatechange", () => this.onStateChange?.(this.pc.connectionState));
    return this.pc;
  }

  async applyOffer(msg) {
    try {
      await this.negotiate(msg);
    } catch (err) {
      this.fail(err?.message || String(err));
      throw err;
    }
  }

  /** We cannot apply the server's offer (or it refused our answer): it would wait for an
   * answer forever. Tell it; its next offer comes on a new peer connection, so ours goes. */
  fail(reason) {
    this.signaling.send({ type: "offer_failed", error: String(reason).slice(0, 200) });
    this.pc?.close();
    this.pc = null;
    this.current = [];
    this.onTracks(this.current);
  }

  async negotiate(msg) {
    const pc = this.ensurePc();
    await pc.setRemoteDescription({ type: "offer", sdp: msg.sdp });
    await pc.setLocalDescription(await pc.createAnswer());
    await iceGatheringComplete(pc);
    this.signaling.send({ type: "answer", sdp: pc.localDescription.sdp });
    this.current = this.mapTracks(msg.tracks || {});
    this.onTracks(this.current);
  }

  mapTracks(tracks) {
    const list = [];
    for (const transceiver of this.pc.getTransceivers()) {
      const info = transceiver.mid !== null ? tracks[transceiver.mid] : undefined;
      if (!info || transceiver.currentDirection === "stopped") continue;
      list.push({ mid: transceiver.mid, info, track: transceiver.receiver.track, receiver: transceiver.receiver });
    }
    return list;
  }

  /** The receiver carrying audio for each participant, for speaker detection. */
  audioByMid() {
    const byMid = new Map();
    for (const entry of this.current) {
      if (entry.info.kind === "audio") byMid.set(entry.mid, entry);
    }
    return byMid;
  }

  close() {
    if (this.pc) this.pc.close();
  }
}
