// Live dispatch events over the page's signalling socket (docs/protocol.md "Dispatch
// messages"): after every `joined` (a rejoin too) the page subscribes with its dispatch token
// and the server answers with the current state, so a page that was away catches up by itself.
// `withDispatch(Session, live)` makes a session class hand every socket it opens to `live`,
// so the wall's and the field page's sessions need no change of their own.

export class DispatchLive {
  /** token(): the dispatch credential or null; onSubscribed(msg), onEvent(msg), onError(code, message). */
  constructor({ token, onSubscribed, onEvent, onError = () => {} }) {
    Object.assign(this, { token, onSubscribed, onEvent, onError });
    this.signaling = null;
    this.subscribed = false;
    this.events = 0;
  }

  attach(signaling, isCurrent) {
    signaling.on("joined", () => {
      if (!isCurrent()) return;
      this.signaling = signaling;
      this.subscribed = false;
      this.subscribe();
    });
    signaling.on("*", (msg) => {
      if (!isCurrent() || typeof msg.type !== "string" || !msg.type.startsWith("dispatch_")) return;
      if (msg.type === "dispatch_subscribed") {
        this.subscribed = true;
        this.onSubscribed(msg);
      } else {
        this.events += 1;
        this.onEvent(msg);
      }
    });
    signaling.on("close", () => {
      if (isCurrent() || this.signaling === signaling) this.subscribed = false; // no more events
    });
    signaling.on("error", (msg) => {
      if (isCurrent() && msg.ref === "dispatch_subscribe") this.onError(msg.code, msg.message);
    });
  }

  /** Subscribe on the current socket (also when the token comes after the join). */
  subscribe() {
    const token = this.token();
    if (!token || !this.signaling) return false;
    return this.signaling.send({ type: "dispatch_subscribe", token });
  }
}

export function withDispatch(Session, live) {
  return class extends Session {
    listen(signaling) {
      super.listen(signaling);
      live.attach(signaling, () => signaling === this.signaling);
    }
  };
}
