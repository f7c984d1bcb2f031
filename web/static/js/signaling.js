// The WebSocket signalling channel (docs/protocol.md): JSON messages keyed by `type`.
const PING_INTERVAL_MS = 5000;

export function signalingUrl(loc = window.location) {
  const scheme = loc.protocol === "https:" ? "wss:" : "ws:";
  return `${scheme}//${loc.host}/ws`;
}

const JOIN_TIMEOUT_MS = 10000; // no `joined` (or refusal) by then: the join failed

export class SignalingClient {
  constructor(url = signalingUrl()) {
    this.url = url;
    this.ws = null;
    this.handlers = new Map();
    this.pingTimer = null;
    this.closedByUs = false;
  }

  /** Resolves once the socket is open; rejects if it cannot open. */
  connect() {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(this.url);
      this.ws = ws;
      ws.addEventListener("open", () => {
        this.pingTimer = setInterval(() => this.send({ type: "ping", t: Date.now() }), PING_INTERVAL_MS);
        resolve();
      }, { once: true });
      ws.addEventListener("error", () => reject(new Error(`cannot open ${this.url}`)), { once: true });
      ws.addEventListener("message", (event) => this.dispatch(event.data));
      ws.addEventListener("close", (event) => {
        clearInterval(this.pingTimer);
        this.emit({ type: "close", code: event.code, reason: event.reason, byUs: this.closedByUs });
      });
    });
  }

  dispatch(data) {
    let msg;
    try {
      msg = JSON.parse(data);
    } catch {
      console.warn("signalling: ignoring non-JSON frame", data);
      return;
    }
    if (msg && typeof msg.type === "string") this.emit(msg);
  }

  emit(msg) {
    for (const fn of this.handlers.get(msg.type) || []) fn(msg);
    for (const fn of this.handlers.get("*") || []) fn(msg);
  }

  /** Subscribe to one message type ("*" for all); returns an unsubscribe function. */
  on(type, fn) {
    if (!this.handlers.has(type)) this.handlers.set(type, new Set());
    this.handlers.get(type).add(fn);
    return () => this.handlers.get(type).delete(fn);
  }

  /** Resolve with the first message of `type`, reject on an `error` whose ref is `ref`. */
  waitFor(type, { ref = null, timeoutMs = 10000 } = {}) {
    return new Promise((resolve, reject) => {
      const offs = [];
      const done = (fn, value) => {
        offs.forEach((off) => off());
        clearTimeout(timer);
        fn(value);
      };
      const timer = setTimeout(() => done(reject, new SignalingError("timeout", `no ${type} within ${timeoutMs} ms`)), timeoutMs);
      offs.push(this.on(type, (msg) => done(resolve, msg)));
      offs.push(this.on("close", () => done(reject, new SignalingError("closed", "connection closed"))));
      if (ref) {
        offs.push(this.on("error", (msg) => {
          if (msg.ref === ref) done(reject, new SignalingError(msg.code, msg.message));
        }));
      }
    });
  }

  /** Send `join` (name, token or code, resume...) and resolve with `joined`; a refused
   * join rejects with its error code. Listeners must be attached before: `joined` is also
   * delivered to them. */
  join(fields, timeoutMs = JOIN_TIMEOUT_MS) {
    const joined = this.waitFor("joined", { ref: "join", timeoutMs });
    this.send({ type: "join", ...fields });
    return joined;
  }

  send(msg) {
    if (!this.ws || this.ws.readyState !== WebSocket.OPEN) return false;
    this.ws.send(JSON.stringify(msg));
    return true;
  }

  close() {
    this.closedByUs = true;
    clearInterval(this.pingTimer);
    if (this.ws) this.ws.close(1000);
  }
}

export class SignalingError extends Error {
  constructor(code, message) {
    super(message || code);
    this.code = code;
  }
}
