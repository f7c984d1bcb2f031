// One tile of the grid: a participant's camera (or screen), name, mute icons, host menu.
import { setIcon } from "./icons.js";

function el(tag, className, attrs = {}) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  for (const [key, value] of Object.entries(attrs)) node.setAttribute(key, value);
  return node;
}

function initials(name) {
  const trimmed = (name || "?").trim();
  // Chinese names read best as their last one or two characters; Latin names as initials.
  if (/[\u3400-\u9fff]/.test(trimmed)) return trimmed.slice(-2);
  return trimmed.split(/\s+/).slice(0, 2).map((word) => word[0]).join("").toUpperCase() || "?";
}

export class Tile {
  /** key: "<participant>:camera" or "<participant>:screen". */
  constructor({ key, participantId, source, local = false }) {
    Object.assign(this, { key, participantId, source, local });
    this.name = "";
    this.track = null;
    this.audioMuted = false;
    this.videoMuted = false;
    this.build();
  }

  build() {
    this.root = el("div", `tile tile-${this.source}`, { "data-tile": this.key, "data-participant-id": this.participantId, "data-source": this.source });
    if (this.local) this.root.classList.add("tile-local");
    this.video = el("video", "tile-video", { autoplay: "", playsinline: "" });
    this.video.muted = true; // sound plays through per-track <audio> elements
    this.avatar = el("div", "tile-avatar", { "aria-hidden": "true" });
    const bar = el("div", "tile-bar");
    this.micIcon = el("span", "tile-icon tile-mic-off", { role: "img" });
    setIcon(this.micIcon, "micOff");
    this.camIcon = el("span", "tile-icon tile-cam-off", { role: "img" });
    setIcon(this.camIcon, "camOff");
    this.hostBadge = el("span", "tile-icon tile-host", { role: "img" });
    setIcon(this.hostBadge, "host");
    this.label = el("span", "tile-name");
    // Audio level from the server (audio_levels), a bar beside the name; decorative.
    this.level = el("span", "tile-level", { "aria-hidden": "true" });
    this.level.append(el("span", "tile-level-fill"));
    bar.append(this.hostBadge, this.label, this.level, this.micIcon, this.camIcon);
    this.root.append(this.video, this.avatar, bar);
    this.render();
  }

  setName(text, avatarName = text) {
    this.label.textContent = text;
    this.avatar.textContent = initials(avatarName);
    this.root.dataset.name = avatarName;
  }

  setLabels({ micOff, camOff, host }) {
    for (const [node, text] of [[this.micIcon, micOff], [this.camIcon, camOff], [this.hostBadge, host]]) {
      node.setAttribute("aria-label", text);
      node.title = text;
    }
  }

  setTrack(track) {
    if (track === this.track) return;
    this.track = track;
    this.video.srcObject = track ? new MediaStream([track]) : null;
    if (track) this.video.play().catch(() => {}); // autoplay of muted video is always allowed
    this.render();
  }

  setState({ audio, video }) {
    if (audio !== undefined) this.audioMuted = !audio;
    if (video !== undefined) this.videoMuted = !video;
    this.render();
  }

  setAdmin(isAdmin) {
    this.root.classList.toggle("is-admin", Boolean(isAdmin));
  }

  setSpeaking(speaking) {
    this.root.classList.toggle("speaking", speaking);
  }

  /** level: 0..1 loudness of this participant's microphone. */
  setLevel(level) {
    const value = Math.max(0, Math.min(1, Number(level) || 0));
    if (String(value) === this.root.dataset.level) return;
    this.root.dataset.level = String(value);
    this.root.style.setProperty("--level", String(value));
  }

  /** Host menu button; onOpen(anchorButton) shows the menu. */
  enableHostMenu(label, onOpen) {
    if (!this.menuButton) {
      this.menuButton = el("button", "tile-menu-button", { type: "button" });
      setIcon(this.menuButton, "more");
      this.menuButton.addEventListener("click", (event) => {
        event.stopPropagation();
        onOpen(this.menuButton);
      });
      this.root.append(this.menuButton);
    }
    this.menuButton.setAttribute("aria-label", label);
    this.menuButton.title = label;
  }

  render() {
    const showVideo = Boolean(this.track) && !(this.source === "camera" && this.videoMuted);
    this.root.classList.toggle("has-video", showVideo);
    this.root.classList.toggle("audio-muted", this.audioMuted && this.source === "camera");
    this.root.classList.toggle("video-muted", this.videoMuted && this.source === "camera");
    this.root.dataset.audioMuted = String(this.audioMuted);
    this.root.dataset.videoMuted = String(this.videoMuted);
  }

  describe() {
    return {
      key: this.key,
      participantId: this.participantId,
      source: this.source,
      name: this.root.dataset.name || "",
      label: this.label.textContent,
      local: this.local,
      audioMuted: this.audioMuted,
      videoMuted: this.videoMuted,
      hasTrack: Boolean(this.track),
      trackId: this.track ? this.track.id : null,
      speaking: this.root.classList.contains("speaking"),
      level: Number(this.root.dataset.level || 0),
      videoWidth: this.video.videoWidth,
      videoHeight: this.video.videoHeight,
    };
  }

  remove() {
    this.video.srcObject = null;
    this.root.remove();
  }
}
