// Getting a unit's attention when a task or an alert arrives: a beep made with WebAudio (no
// sound file to download on a weak link), a system notification when the user allowed them
// (the phone may be in a pocket with the page in the background), else a banner in the page.
const BEEP_TONES_HZ = [880, 1320, 880];
const TONE_S = 0.14;
const GAP_S = 0.06;
const BANNER_MS = 12000;

export class AttentionSignal {
  /** banner: an element to show the text in when notifications are not allowed. */
  constructor({ banner }) {
    this.banner = banner;
    this.ctx = null;
    this.log = []; // {at, text, sound, via: "notification"|"banner"}, for the test handle
    this.bannerTimer = null;
  }

  /** Call from a user gesture (a tap): browsers start audio and ask for permission only then. */
  prime() {
    try {
      this.ctx ??= new AudioContext();
      if (this.ctx.state === "suspended") this.ctx.resume().catch(() => {});
    } catch {
      this.ctx = null; // no WebAudio: the banner still shows
    }
    if ("Notification" in window && Notification.permission === "default") {
      Notification.requestPermission().catch(() => {});
    }
  }

  /** Three short tones; returns the audio context's state ("running" when it was heard). */
  beep() {
    try {
      this.ctx ??= new AudioContext();
      const ctx = this.ctx;
      if (ctx.state === "suspended") ctx.resume().catch(() => {});
      let t = ctx.currentTime + 0.02;
      for (const hz of BEEP_TONES_HZ) {
        const osc = ctx.createOscillator();
        const gain = ctx.createGain();
        osc.type = "square";
        osc.frequency.value = hz;
        // Short ramps: a hard start or stop clicks.
        gain.gain.setValueAtTime(0.0001, t);
        gain.gain.exponentialRampToValueAtTime(0.25, t + 0.01);
        gain.gain.exponentialRampToValueAtTime(0.0001, t + TONE_S);
        osc.connect(gain).connect(ctx.destination);
        osc.start(t);
        osc.stop(t + TONE_S + 0.02);
        t += TONE_S + GAP_S;
      }
      return ctx.state;
    } catch {
      return "unavailable";
    }
  }

  /** Beep and tell: a notification if allowed, else (and also while the page is visible) a banner. */
  announce(title, body, { tag = null } = {}) {
    const sound = this.beep();
    let via = "banner";
    if ("Notification" in window && Notification.permission === "granted") {
      try {
        const note = new Notification(title, { body, tag: tag || undefined, renotify: Boolean(tag) });
        note.onclick = () => window.focus();
        via = "notification";
      } catch {
        via = "banner"; // Android Chrome allows notifications only from a service worker
      }
    }
    if (via === "banner" || document.visibilityState === "visible") this.showBanner(`${title}: ${body}`);
    this.log.push({ at: Date.now(), text: `${title}: ${body}`, sound, via });
    if (this.log.length > 50) this.log.shift();
    return via;
  }

  showBanner(text) {
    if (!this.banner) return;
    this.banner.textContent = text;
    this.banner.hidden = false;
    clearTimeout(this.bannerTimer);
    this.bannerTimer = setTimeout(() => {
      this.banner.hidden = true;
    }, BANNER_MS);
  }
}
