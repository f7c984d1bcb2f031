// Active speaker: the server's `active_speaker` once it arrives; until then (or from an
// older server) audio levels from getStats (remote: inbound-rtp by mid; self: media-source),
// smoothed, with hysteresis so the highlight does not flicker between people.
const POLL_MS = 200;
const SMOOTHING = 0.5; // weight of the previous smoothed value
const ON_LEVEL = 0.04; // roughly -28 dBov: clearly speaking
const OFF_LEVEL = 0.015;
const SWITCH_POLLS = 3; // a challenger must lead this many polls in a row (600 ms)
const SILENT_POLLS = 8; // the speaker loses the highlight after this much quiet (1.6 s)
const SWITCH_MARGIN = 1.3;

/** Pure state machine, kept apart from the polling so its behaviour is easy to reason about. */
export class SpeakerTracker {
  constructor() {
    this.smoothed = new Map();
    this.current = null;
    this.challenger = null;
    this.challengerPolls = 0;
    this.quietPolls = 0;
  }

  /** levels: Map participantId -> 0..1. Returns the active speaker id or null. */
  update(levels) {
    for (const id of this.smoothed.keys()) if (!levels.has(id)) this.smoothed.delete(id);
    for (const [id, level] of levels) {
      const prev = this.smoothed.get(id) ?? level;
      this.smoothed.set(id, prev * SMOOTHING + level * (1 - SMOOTHING));
    }
    this.updateCurrent();
    this.updateChallenger();
    return this.current;
  }

  updateCurrent() {
    if (this.current === null) return;
    const level = this.smoothed.get(this.current);
    this.quietPolls = level !== undefined && level >= OFF_LEVEL ? 0 : this.quietPolls + 1;
    if (level === undefined || this.quietPolls >= SILENT_POLLS) this.current = null;
  }

  updateChallenger() {
    let loudest = null;
    let loudestLevel = ON_LEVEL;
    for (const [id, level] of this.smoothed) {
      if (level >= loudestLevel) [loudest, loudestLevel] = [id, level];
    }
    const currentLevel = this.current === null ? 0 : this.smoothed.get(this.current) ?? 0;
    const leads = loudest !== null && loudest !== this.current && loudestLevel > currentLevel * SWITCH_MARGIN;
    if (!leads) {
      this.challenger = null;
      this.challengerPolls = 0;
      return;
    }
    this.challengerPolls = loudest === this.challenger ? this.challengerPolls + 1 : 1;
    this.challenger = loudest;
    if (this.challengerPolls >= SWITCH_POLLS || this.current === null) {
      this.current = loudest;
      this.quietPolls = 0;
      this.challenger = null;
      this.challengerPolls = 0;
    }
  }
}

/** Polls the connections and reports changes through onChange(participantId|null). */
export class ActiveSpeaker {
  constructor({ session, onChange }) {
    this.session = session;
    this.onChange = onChange;
    this.tracker = new SpeakerTracker();
    this.current = null;
    this.timer = setInterval(() => this.poll().catch(() => {}), POLL_MS);
  }

  /** The server's dominant speaker (active_speaker) replaces local detection for good. */
  fromServer(participantId) {
    clearInterval(this.timer);
    this.server = true;
    if (participantId !== this.current) {
      this.current = participantId;
      this.onChange(participantId);
    }
  }

  async poll() {
    if (this.server) return; // a poll that was already under way
    const levels = new Map();
    await Promise.all([this.remoteLevels(levels), this.localLevel(levels)]);
    const speaker = this.tracker.update(levels);
    if (!this.server && speaker !== this.current) {
      this.current = speaker;
      this.onChange(speaker);
    }
  }

  async remoteLevels(levels) {
    const sub = this.session.subscriber;
    if (!sub?.pc) return;
    const byMid = sub.audioByMid();
    const stats = await sub.pc.getStats();
    stats.forEach((report) => {
      if (report.type !== "inbound-rtp" || report.kind !== "audio") return;
      const entry = byMid.get(report.mid);
      if (!entry) return;
      const level = report.audioLevel ?? entry.receiver.getSynchronizationSources()[0]?.audioLevel ?? 0;
      levels.set(entry.info.participant_id, Math.max(levels.get(entry.info.participant_id) || 0, level));
    });
  }

  async localLevel(levels) {
    const { publisher, participantId } = this.session;
    if (!publisher || !participantId) return;
    if (!this.session.micEnabled()) {
      levels.set(participantId, 0);
      return;
    }
    const stats = await publisher.pc.getStats();
    stats.forEach((report) => {
      if (report.type === "media-source" && report.kind === "audio") levels.set(participantId, report.audioLevel ?? 0);
    });
  }

  stop() {
    clearInterval(this.timer);
  }
}
