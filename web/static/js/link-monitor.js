// Watches the publish connection's uplink estimate and steps down when video cannot go:
// first the low-bandwidth mode, then audio only. It never steps back up by itself (the unit
// taps to try again), so a flapping link does not make the feed flap too.
const INTERVAL_MS = 2000;
const WARMUP_MS = 10000; // the browser's estimate starts low and ramps up after connecting
const LOW_BPS = 250000; // below this for LOW_SAMPLES in a row: low-bandwidth mode
const LOW_SAMPLES = 3;
const AUDIO_ONLY_BPS = 70000; // below this in low-bandwidth mode: audio only
const AUDIO_ONLY_SAMPLES = 5;

export class LinkMonitor {
  constructor(session) {
    this.session = session;
    this.timer = null;
    this.weak = 0;
    this.connectedAt = null;
    this.lastEstimate = null;
  }

  start() {
    this.timer ??= setInterval(() => this.sample().catch(() => {}), INTERVAL_MS);
  }

  stop() {
    clearInterval(this.timer);
    this.timer = null;
  }

  async sample() {
    const session = this.session;
    const pc = session.publisher?.pc;
    if (session.state !== "joined" || !pc || pc.connectionState !== "connected" || session.audioOnly) {
      this.connectedAt = null;
      this.weak = 0;
      return;
    }
    this.connectedAt ??= Date.now();
    const estimate = await uplinkEstimate(pc);
    this.lastEstimate = estimate;
    if (estimate === null || Date.now() - this.connectedAt < WARMUP_MS) return;
    const threshold = session.lowBandwidth ? AUDIO_ONLY_BPS : LOW_BPS;
    this.weak = estimate < threshold ? this.weak + 1 : 0;
    if (!session.lowBandwidth && this.weak >= LOW_SAMPLES) {
      this.weak = 0;
      session.ui.notify("field.autoLowBandwidth", {}, "warning");
      await session.setLowBandwidth(true);
    } else if (session.lowBandwidth && this.weak >= AUDIO_ONLY_SAMPLES) {
      this.weak = 0;
      session.ui.notify("field.autoAudioOnly", {}, "warning");
      await session.setAudioOnly(true);
    }
  }
}

/** The browser's available outgoing bitrate on the selected candidate pair, or null. */
export async function uplinkEstimate(pc) {
  let estimate = null;
  (await pc.getStats()).forEach((report) => {
    if (report.type === "candidate-pair" && report.nominated && report.state === "succeeded"
        && typeof report.availableOutgoingBitrate === "number") {
      estimate = report.availableOutgoingBitrate;
    }
  });
  return estimate;
}
