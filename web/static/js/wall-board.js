// The wall's tiles: which video sources exist (feeds, people's cameras and screens, people
// with a position but no video), where each one sits under the operator's layout, and the
// track_view reports that tell the server which videos are on screen and how big.
import { WallTile } from "./wall-tile.js";

const TICK_MS = 500;
const STATS_MS = 1000;

/** A participant's tile key; feeds always use the source "feed". */
export function unitKey(participantId, source) {
  return `${participantId}:${participantId.startsWith("feed-") ? "feed" : source || "camera"}`;
}

export class WallBoard {
  /** options: {i18n, layout (WallLayout), session (WallSession), staleMs, onLayoutChange(),
   * onUnitsChange(units), onLost(set of lost tile keys, every tick)} */
  constructor(container, options) {
    this.container = container;
    Object.assign(this, options);
    this.participants = new Map(); // id -> {id, name}
    this.feeds = new Map(); // feed participant id -> feed JSON
    this.locations = new Map(); // participant id -> location message
    this.videos = new Map(); // unit key -> {track, mid, info}
    this.hadVideo = new Set(); // unit keys that once had video (so its absence is a loss)
    this.tiles = new Map(); // unit key -> WallTile
    this.empties = [];
    this.decoded = new Map(); // mid -> framesDecoded at the last poll
    this.videoPaused = false; // the server paused all our video (bandwidth message)
    this.bindDrag();
    this.timer = setInterval(() => this.tick(), TICK_MS);
    this.statsTimer = setInterval(() => this.pollStats(), STATS_MS);
  }

  // --- inputs from the session
  joined(msg) {
    this.participants = new Map((msg.participants || []).map((p) => [p.id, p]));
    this.feeds = new Map((msg.feeds || []).map((f) => [feedParticipant(f), f]));
    this.locations = new Map((msg.locations || []).map((l) => [l.participant_id, l]));
    this.render();
  }

  event(msg) {
    switch (msg.type) {
      case "participant_joined":
        this.participants.set(msg.participant.id, msg.participant);
        break;
      case "participant_left":
        this.participants.delete(msg.participant_id);
        this.locations.delete(msg.participant_id);
        for (const key of this.hadVideo) {
          if (key.startsWith(`${msg.participant_id}:`)) this.hadVideo.delete(key); // a wall runs for days
        }
        break;
      case "participant_state": {
        const person = this.participants.get(msg.participant_id);
        if (!person) return;
        Object.assign(person, { audio: msg.audio, video: msg.video });
        break;
      }
      case "feed":
        this.feeds.set(feedParticipant(msg.feed), msg.feed);
        break;
      case "feed_removed":
        this.feeds.delete(`feed-${msg.feed_id}`);
        break;
      case "location":
        this.locations.set(msg.participant_id, msg);
        break;
      default:
        return;
    }
    this.render();
  }

  setTracks(entries) {
    this.videos = new Map();
    for (const entry of entries) {
      if (entry.info.kind !== "video") continue;
      const key = unitKey(entry.info.participant_id, entry.info.source);
      this.videos.set(key, entry);
      this.hadVideo.add(key);
    }
    this.render();
  }

  // --- the units on the wall
  units() {
    const units = new Map();
    const add = (key, participantId, source, name) => {
      if (!units.has(key)) units.set(key, { key, participantId, source, name });
      return units.get(key);
    };
    for (const [pid, feed] of this.feeds) add(unitKey(pid, "feed"), pid, "feed", feed.name);
    for (const [key, entry] of this.videos) {
      const { participant_id: pid, source, name } = entry.info;
      const unit = add(key, pid, pid.startsWith("feed-") ? "feed" : source || "camera", name);
      unit.name = this.participants.get(pid)?.name || unit.name || name;
      unit.track = entry.track;
      unit.mid = entry.mid;
      unit.trackId = entry.info.track_id;
    }
    // People who report a position but send no video still belong on the wall.
    for (const [pid, loc] of this.locations) {
      if (![...units.values()].some((u) => u.participantId === pid)) add(unitKey(pid, "camera"), pid, "camera", loc.name);
    }
    // A person whose video stopped (network loss) keeps the tile, shown as lost.
    for (const key of this.hadVideo) {
      const pid = key.slice(0, key.lastIndexOf(":"));
      if (!units.has(key) && this.participants.has(pid)) add(key, pid, key.slice(pid.length + 1), this.participants.get(pid).name);
    }
    for (const unit of units.values()) {
      const feed = this.feeds.get(unit.participantId);
      unit.feed = feed || null;
      if (feed) unit.name = feed.name || unit.name;
      else unit.name = this.participants.get(unit.participantId)?.name || unit.name;
      const loc = this.locations.get(unit.participantId);
      unit.location = loc ? loc : feed?.location && Number.isFinite(feed.location.lat) ? feed.location : null;
      unit.hadVideo = this.hadVideo.has(unit.key);
      // A person who turned the camera off is not a lost feed.
      unit.videoOff = unit.source === "camera" && this.participants.get(unit.participantId)?.video === false;
    }
    return units;
  }

  // --- layout
  render() {
    const units = this.units();
    const keys = [...units.keys()];
    if (this.layout.learn(keys)) this.onLayoutChange?.();
    for (const [key, tile] of this.tiles) {
      if (!units.has(key)) {
        tile.remove();
        this.tiles.delete(key);
      }
    }
    const spot = this.layout.spotlightView(keys);
    const slots = spot ? [spot.main, ...spot.strip] : this.layout.arrange(keys);
    const shownCount = spot ? slots.length : this.layout.tiles;
    this.container.dataset.mode = spot ? "spotlight" : "grid";
    this.container.dataset.tiles = String(this.layout.tiles);
    this.container.style.setProperty("--cols", String(spot ? Math.max(1, spot.strip.length) : Math.sqrt(this.layout.tiles)));
    for (const [key, unit] of units) {
      let tile = this.tiles.get(key);
      if (!tile) {
        tile = new WallTile(key, { i18n: this.i18n, onAction: (action, k) => this.action(action, k) });
        this.tiles.set(key, tile);
        this.container.append(tile.root);
      }
      const slot = slots.indexOf(key);
      tile.update({ ...unit, pinned: key in this.layout.pins, spotlit: this.layout.spotlight === key });
      tile.root.style.order = String(slot < 0 ? 1000 : slot);
      tile.root.classList.toggle("is-main", Boolean(spot && slot === 0));
      tile.shown(slot >= 0 && slot < shownCount);
    }
    this.renderEmpties(spot ? [] : slots, shownCount);
    this.syncViews();
    this.tick();
    this.onUnitsChange?.(units);
  }

  /** Placeholders keep the grid's shape when there are fewer sources than tiles. */
  renderEmpties(slots, shownCount) {
    for (const node of this.empties) node.remove();
    this.empties = [];
    for (let slot = 0; slot < shownCount; slot += 1) {
      if (slots[slot]) continue;
      const node = document.createElement("div");
      node.className = "wall-empty";
      node.dataset.slot = String(slot);
      node.style.order = String(slot);
      node.textContent = this.i18n.t("wall.emptySlot");
      this.container.append(node);
      this.empties.push(node);
    }
  }

  syncViews() {
    const pairs = [];
    for (const [key, tile] of this.tiles) {
      const entry = this.videos.get(key);
      if (entry) pairs.push([entry.info.track_id, tile.root]);
    }
    this.session.trackViews().sync(pairs);
  }

  action(action, key) {
    const keys = [...this.tiles.keys()];
    const changed = {
      pin: () => this.layout.togglePin(key, keys),
      spotlight: () => this.layout.setSpotlight(this.layout.spotlight === key ? null : key),
      left: () => this.layout.move(key, -1, keys),
      right: () => this.layout.move(key, 1, keys),
    }[action]?.();
    if (changed) this.changed();
  }

  changed() {
    this.render();
    this.onLayoutChange?.();
  }

  bindDrag() {
    this.container.addEventListener("dragstart", (event) => {
      const tile = event.target.closest?.(".wall-tile");
      if (!tile) return;
      event.dataTransfer.setData("text/plain", tile.dataset.unit);
      event.dataTransfer.effectAllowed = "move";
    });
    this.container.addEventListener("dragover", (event) => {
      if (event.target.closest?.(".wall-tile, .wall-empty")) event.preventDefault();
    });
    this.container.addEventListener("drop", (event) => {
      const target = event.target.closest?.(".wall-tile, .wall-empty");
      const key = event.dataTransfer.getData("text/plain");
      if (!target || !key) return;
      event.preventDefault();
      const slot = Number(target.style.order);
      if (this.layout.spotlight || !Number.isFinite(slot)) return;
      if (this.layout.moveTo(key, slot, [...this.tiles.keys()])) this.changed();
    });
  }

  // --- frame ages
  tick() {
    const now = performance.now();
    const lost = new Set();
    for (const [key, tile] of this.tiles) {
      tile.tick(now, this.staleMs, this.videoPaused);
      if (tile.root.classList.contains("is-lost")) lost.add(key);
    }
    this.onLost?.(lost);
  }

  async pollStats() {
    const pc = this.session.subscriber?.pc;
    if (!pc || this.polling) return;
    this.polling = true;
    try {
      const byMid = new Map();
      for (const [key, entry] of this.videos) byMid.set(entry.mid, key);
      const now = performance.now();
      (await pc.getStats()).forEach((r) => {
        if (r.type !== "inbound-rtp" || r.kind !== "video" || !byMid.has(r.mid)) return;
        const before = this.decoded.get(r.mid) ?? 0;
        this.decoded.set(r.mid, r.framesDecoded ?? 0);
        if ((r.framesDecoded ?? 0) > before) this.tiles.get(byMid.get(r.mid))?.noteDecoded(now);
      });
    } finally {
      this.polling = false;
    }
  }

  retranslate() {
    for (const tile of this.tiles.values()) tile.translate();
    this.render();
  }

  describe() {
    return [...this.tiles.values()].map((tile) => tile.describe()).sort((a, b) => a.slot - b.slot);
  }
}

function feedParticipant(feed) {
  return feed.participant_id || `feed-${feed.feed_id}`;
}
