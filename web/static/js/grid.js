// The participant grid: one camera tile per participant, one extra tile per screen share,
// one hidden <audio> per remote audio track, and a layout that fits any screen.
import { Tile } from "./tile.js";

const GAP = 8;

/** Tiles are 16:9 on landscape screens, 4:3 on portrait phones (video is cropped to fit). */
export function tileAspect(width, height) {
  return height > width ? 4 / 3 : 16 / 9;
}

/** Columns that give the largest tiles of the given aspect for n tiles in a width x height box. */
export function bestColumns(n, width, height, aspect = tileAspect(width, height)) {
  let best = { cols: 1, tileWidth: 0 };
  for (let cols = 1; cols <= Math.max(1, n); cols += 1) {
    const rows = Math.ceil(n / cols);
    const w = Math.min((width - GAP * (cols - 1)) / cols, ((height - GAP * (rows - 1)) / rows) * aspect);
    if (w > best.tileWidth) best = { cols, tileWidth: Math.floor(w) };
  }
  return best;
}

export class Grid {
  constructor(container, i18n, { onTileAdded } = {}) {
    this.container = container;
    this.i18n = i18n;
    this.onTileAdded = onTileAdded;
    this.participants = new Map(); // id -> {id, name, audio, video, admin, local}
    this.tileMap = new Map(); // key -> Tile
    this.audio = new Map(); // mid -> <audio>
    this.audioBox = document.createElement("div");
    this.audioBox.hidden = true;
    container.after(this.audioBox);
    new ResizeObserver(() => this.layout()).observe(container);
    i18n.onChange(() => this.relabel());
  }

  setSelf(participant, track) {
    if (this.selfId && this.selfId !== participant.id) this.removeParticipant(this.selfId); // rejoined as someone new
    this.selfId = participant.id;
    this.upsertParticipant({ ...participant, local: true });
    this.tile(participant.id, "camera").setTrack(track);
  }

  upsertParticipant(p) {
    const known = this.participants.get(p.id) || { audio: true, video: true };
    const merged = { ...known, ...p };
    this.participants.set(p.id, merged);
    const tile = this.tile(p.id, "camera");
    tile.setState(merged);
    tile.setAdmin(merged.admin);
    this.relabel();
  }

  setState(id, state) {
    const p = this.participants.get(id);
    if (!p) return;
    Object.assign(p, state);
    this.tileMap.get(`${id}:camera`)?.setState(state);
  }

  removeParticipant(id) {
    this.participants.delete(id);
    for (const [key, tile] of this.tileMap) {
      if (tile.participantId === id) {
        tile.remove();
        this.tileMap.delete(key);
      }
    }
    this.layout();
  }

  tile(participantId, source) {
    const key = `${participantId}:${source}`;
    let tile = this.tileMap.get(key);
    if (!tile) {
      tile = new Tile({ key, participantId, source, local: participantId === this.selfId });
      this.tileMap.set(key, tile);
      this.container.append(tile.root);
      this.order();
      this.relabel();
      this.onTileAdded?.(tile);
      this.layout();
    }
    return tile;
  }

  /** Apply the subscribe connection's mid map (see Subscriber.onTracks). */
  setTracks(entries) {
    const videoKeys = new Set();
    const audioMids = new Set();
    for (const { mid, info, track } of entries) {
      if (!this.participants.has(info.participant_id)) this.upsertParticipant({ id: info.participant_id, name: info.name });
      if (info.kind === "audio") {
        audioMids.add(mid);
        this.playAudio(mid, track, info.participant_id);
      } else {
        const source = info.source === "screen" ? "screen" : "camera";
        const tile = this.tile(info.participant_id, source);
        tile.setTrack(track);
        videoKeys.add(tile.key);
      }
    }
    for (const [key, tile] of this.tileMap) {
      if (tile.local || videoKeys.has(key)) continue;
      if (tile.source === "screen") {
        tile.remove();
        this.tileMap.delete(key);
      } else {
        tile.setTrack(null);
      }
    }
    for (const [mid, audio] of this.audio) {
      if (!audioMids.has(mid)) {
        audio.srcObject = null;
        audio.remove();
        this.audio.delete(mid);
      }
    }
    this.layout();
  }

  playAudio(mid, track, participantId) {
    let audio = this.audio.get(mid);
    if (!audio) {
      audio = document.createElement("audio");
      audio.autoplay = true;
      this.audioBox.append(audio);
      this.audio.set(mid, audio);
    }
    audio.dataset.participantId = participantId;
    if (audio.srcObject?.getTracks()[0] !== track) audio.srcObject = new MediaStream([track]);
    audio.play().catch(() => {}); // blocked autoplay resumes on the next click (see meeting.js)
  }

  resumeAudio() {
    for (const audio of this.audio.values()) audio.play().catch(() => {});
  }

  setLocalScreen(track) {
    if (track) {
      this.tile(this.selfId, "screen").setTrack(track);
    } else {
      const key = `${this.selfId}:screen`;
      this.tileMap.get(key)?.remove();
      this.tileMap.delete(key);
      this.layout();
    }
  }

  setSpeaking(participantId) {
    for (const tile of this.tileMap.values()) tile.setSpeaking(tile.source === "camera" && tile.participantId === participantId);
  }

  /** levels: {participantId: 0..1} from the server; anyone not named is silent. */
  setLevels(levels) {
    for (const tile of this.tileMap.values()) {
      if (tile.source === "camera") tile.setLevel(levels[tile.participantId] ?? 0);
    }
  }

  relabel() {
    const t = (key, params) => this.i18n.t(key, params);
    const labels = { micOff: t("meeting.micOff"), camOff: t("meeting.camOff"), host: t("meeting.host") };
    for (const tile of this.tileMap.values()) {
      const name = this.participants.get(tile.participantId)?.name || "";
      let text = tile.local ? t("meeting.you", { name }) : name;
      if (tile.source === "screen") text = t("meeting.screenOf", { name: text });
      tile.setName(text, name);
      tile.setLabels(labels);
    }
  }

  /** Screens first (they carry the most detail), then yourself, then everyone in join order. */
  order() {
    const rank = (tile) => (tile.source === "screen" ? 0 : tile.local ? 1 : 2);
    const sorted = [...this.tileMap.values()].sort((a, b) => rank(a) - rank(b));
    sorted.forEach((tile, index) => (tile.root.style.order = String(index)));
  }

  layout() {
    const n = this.tileMap.size;
    const { width, height } = this.container.getBoundingClientRect();
    if (!n || !width || !height) return;
    const aspect = tileAspect(width, height);
    const { tileWidth } = bestColumns(n, width, height, aspect);
    this.container.style.setProperty("--tile-w", `${tileWidth}px`);
    this.container.style.setProperty("--tile-h", `${Math.floor(tileWidth / aspect)}px`);
  }

  tiles() {
    return [...this.tileMap.values()].map((tile) => tile.describe());
  }

  clear() {
    for (const tile of this.tileMap.values()) tile.remove();
    for (const audio of this.audio.values()) audio.remove();
    this.tileMap.clear();
    this.audio.clear();
    this.participants.clear();
  }
}
