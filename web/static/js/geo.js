// GPS for the field page: watch the position and hand the latest fix to `send` every few
// seconds (and at once for the first fix), so the wall's position and its age stay fresh.
const SEND_INTERVAL_MS = 5000;
const WATCH_OPTIONS = { enableHighAccuracy: true, maximumAge: 5000, timeout: 20000 };

/** A `location` message body from a GeolocationPosition; nulls where the phone gave nothing. */
export function fixFromPosition(position) {
  const c = position.coords;
  const finite = (v) => (typeof v === "number" && Number.isFinite(v) ? v : null);
  const heading = finite(c.heading);
  const speed = finite(c.speed);
  return {
    lat: c.latitude,
    lon: c.longitude,
    accuracy_m: finite(c.accuracy) === null ? null : Math.min(c.accuracy, 1e6),
    heading: heading === null || heading < 0 || heading >= 360 ? null : heading,
    speed_mps: speed === null || speed < 0 ? null : Math.min(speed, 1000),
  };
}

export class GeoWatcher {
  /** send(fix) returns true when the fix went out; onFix(fix) / onError(code) update the view. */
  constructor({ send, onFix, onError }) {
    Object.assign(this, { send, onFix, onError });
    this.watchId = null;
    this.timer = null;
    this.fix = null;
    this.sentAt = 0;
    this.sentCount = 0;
  }

  start() {
    if (this.watchId !== null) return;
    if (!navigator.geolocation) {
      this.onError("unsupported");
      return;
    }
    this.watchId = navigator.geolocation.watchPosition(
      (position) => this.onPosition(position),
      (err) => this.onError({ 1: "denied", 2: "unavailable", 3: "timeout" }[err.code] || "unavailable"),
      WATCH_OPTIONS,
    );
    this.timer = setInterval(() => this.flush(), SEND_INTERVAL_MS);
  }

  onPosition(position) {
    const first = this.fix === null;
    this.fix = fixFromPosition(position);
    this.onFix(this.fix);
    if (first) this.flush();
  }

  /** Send the latest fix now (also after a reconnect, so the wall gets it back at once). */
  flush() {
    if (this.fix && this.send(this.fix)) {
      this.sentAt = Date.now();
      this.sentCount += 1;
    }
  }

  stop() {
    if (this.watchId !== null) navigator.geolocation.clearWatch(this.watchId);
    clearInterval(this.timer);
    this.watchId = null;
    this.timer = null;
  }
}
