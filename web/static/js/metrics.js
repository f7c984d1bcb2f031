// Time to first frame: from the subscribe connection connecting to the first decoded video
// frame, read from getStats. Tests and the debug handle read the figure.
const POLL_MS = 25;
const GIVE_UP_MS = 30000;

export class FirstFrameProbe {
  /** onFirstFrame(performanceNowMs) is called once. */
  constructor(pc, onFirstFrame) {
    this.pc = pc;
    this.onFirstFrame = onFirstFrame;
    this.started = performance.now();
    this.timer = setInterval(() => this.poll(), POLL_MS);
  }

  async poll() {
    if (this.busy) return;
    if (performance.now() - this.started > GIVE_UP_MS || this.pc.connectionState === "closed") {
      this.stop();
      return;
    }
    this.busy = true;
    try {
      const stats = await this.pc.getStats();
      let decoded = false;
      stats.forEach((r) => {
        if (r.type === "inbound-rtp" && r.kind === "video" && r.framesDecoded > 0) decoded = true;
      });
      if (decoded && this.timer !== null) {
        this.stop();
        this.onFirstFrame(performance.now());
      }
    } finally {
      this.busy = false;
    }
  }

  stop() {
    clearInterval(this.timer);
    this.timer = null;
  }
}
