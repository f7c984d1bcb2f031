// One tile of the wall: a feed's or a person's video with its name, position, the age of
// the last decoded frame and its state. A tile turns red ("lost") when its feed says so or
// when no frame was decoded for `staleMs`.
import { setIcon } from "./icons.js";
import { formatLatLon } from "./wall-geo.js";

function el(tag, className, attrs = {}) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  for (const [key, value] of Object.entries(attrs)) node.setAttribute(key, value);
  return node;
}

const TOOLS = [
  ["pin", "wall.pin"],
  ["spotlight", "wall.spotlight"],
  ["left", "wall.moveLeft"],
  ["right", "wall.moveRight"],
];

export class WallTile {
  /** onAction(action, key) for the tile's buttons. */
  constructor(key, { i18n, onAction }) {
    this.key = key;
    this.i18n = i18n;
    this.unit = null;
    this.track = null;
    this.lastFrameAt = null; // performance.now() of the last frame shown or decoded
    this.watchFrom = performance.now(); // start of the current wait for frames
    this.frames = 0;
    this.build(onAction);
  }

  build(onAction) {
    this.root = el("div", "wall-tile", { "data-unit": this.key, draggable: "true" });
    this.video = el("video", "wall-video", { autoplay: "", playsinline: "" });
    this.video.muted = true; // a wall is silent; sound belongs to the operator's headset
    const head = el("div", "wall-tile-head");
    this.nameEl = el("span", "wall-tile-name");
    this.stateEl = el("span", "wall-tile-state");
    head.append(this.nameEl, this.stateEl);
    const foot = el("div", "wall-tile-foot");
    this.locationEl = el("span", "wall-tile-location");
    this.ageEl = el("span", "wall-tile-age");
    foot.append(this.locationEl, this.ageEl);
    this.tools = el("div", "wall-tile-tools");
    this.buttons = {};
    for (const [action] of TOOLS) {
      const button = el("button", "wall-tool", { type: "button", "data-action": action });
      setIcon(button, action);
      button.addEventListener("click", (event) => {
        event.stopPropagation();
        onAction(action, this.key);
      });
      this.buttons[action] = button;
      this.tools.append(button);
    }
    this.root.append(this.video, head, foot, this.tools);
    this.watchFrames();
    this.translate();
  }

  /** Count frames the browser shows; hidden videos show none (and are paused server-side). */
  watchFrames() {
    if (!("requestVideoFrameCallback" in HTMLVideoElement.prototype)) return;
    const onFrame = () => {
      this.lastFrameAt = performance.now();
      this.frames += 1;
      this.video.requestVideoFrameCallback(onFrame);
    };
    this.video.requestVideoFrameCallback(onFrame);
  }

  /** getStats saw framesDecoded grow for this tile's track. */
  noteDecoded(now = performance.now()) {
    this.lastFrameAt = Math.max(this.lastFrameAt ?? 0, now);
  }

  translate() {
    for (const [action, key] of TOOLS) {
      const text = this.i18n.t(key);
      this.buttons[action].title = text;
      this.buttons[action].setAttribute("aria-label", text);
    }
  }

  /** unit: {name, source, participantId, location, feed, track, mid, pinned, spotlit} */
  update(unit) {
    this.unit = unit;
    this.nameEl.textContent = unit.name || unit.participantId;
    this.root.dataset.participantId = unit.participantId;
    this.root.dataset.source = unit.source;
    this.root.classList.toggle("is-pinned", Boolean(unit.pinned));
    this.root.classList.toggle("is-spotlit", Boolean(unit.spotlit));
    this.buttons.pin.setAttribute("aria-pressed", String(Boolean(unit.pinned)));
    this.buttons.spotlight.setAttribute("aria-pressed", String(Boolean(unit.spotlit)));
    const loc = unit.location;
    this.locationEl.textContent = loc ? formatLatLon(loc.lat, loc.lon) + (loc.accuracy_m ? ` ±${Math.round(loc.accuracy_m)} m` : "") : "";
    this.setTrack(unit.track || null);
  }

  setTrack(track) {
    if (track === this.track) return;
    this.track = track;
    this.watchFrom = performance.now();
    this.video.srcObject = track ? new MediaStream([track]) : null;
    if (track) this.video.play().catch(() => {});
  }

  /** The tile came into view: give its video time to resume before calling it lost. */
  shown(visible) {
    if (visible && this.root.hidden) this.watchFrom = performance.now();
    this.root.hidden = !visible;
  }

  /** Refresh the age label and the lost state; staleMs: frame gap that means lost. */
  tick(now, staleMs, videoPaused = false) {
    const unit = this.unit || {};
    const feedState = unit.feed?.state || null;
    const since = Math.max(this.lastFrameAt ?? 0, this.watchFrom);
    const stale = now - since > staleMs;
    const expectsVideo = Boolean(this.track) || unit.hadVideo || (unit.feed && feedState !== "connecting");
    let state;
    if (feedState === "error") state = "error";
    else if (feedState === "lost") state = "lost";
    else if (unit.videoOff) state = "off";
    else if (expectsVideo && stale && videoPaused) state = "paused"; // our link, not the feed
    else if (expectsVideo && stale) state = "lost";
    else if (!this.track && feedState === "connecting") state = "connecting";
    else if (!this.track && !expectsVideo) state = "audio";
    else if (this.lastFrameAt === null || this.lastFrameAt < this.watchFrom) state = "connecting";
    else state = "live";
    const lost = state === "lost" || state === "error";
    this.root.classList.toggle("is-lost", lost);
    this.root.dataset.state = state;
    // A feed says why it is down (e.g. "Connection refused"); show it with the state.
    const why = (feedState === "error" || feedState === "lost") && unit.feed?.error ? `: ${unit.feed.error}` : "";
    this.stateEl.textContent = this.i18n.t(`wall.state.${state}`) + why;
    this.stateEl.title = this.stateEl.textContent;
    this.ageEl.textContent = this.lastFrameAt === null ? this.i18n.t("wall.noFrame")
      : this.i18n.t("wall.frameAge", { age: formatAge((now - this.lastFrameAt) / 1000) });
  }

  describe() {
    return {
      key: this.key,
      participantId: this.unit?.participantId ?? null,
      source: this.unit?.source ?? null,
      name: this.nameEl.textContent,
      location: this.locationEl.textContent,
      age: this.ageEl.textContent,
      state: this.root.dataset.state || null,
      lost: this.root.classList.contains("is-lost"),
      pinned: this.root.classList.contains("is-pinned"),
      spotlit: this.root.classList.contains("is-spotlit"),
      hidden: this.root.hidden,
      slot: Number(this.root.style.order || 0),
      label: this.root.innerText,
      hasTrack: Boolean(this.track),
      frames: this.frames,
      lastFrameAgeMs: this.lastFrameAt === null ? null : Math.round(performance.now() - this.lastFrameAt),
      width: Math.round(this.root.getBoundingClientRect().width),
      height: Math.round(this.root.getBoundingClientRect().height),
      videoWidth: this.video.videoWidth,
      videoHeight: this.video.videoHeight,
    };
  }

  remove() {
    this.video.srcObject = null;
    this.root.remove();
  }
}

function formatAge(seconds) {
  if (seconds < 10) return seconds.toFixed(1);
  return String(Math.round(seconds));
}
