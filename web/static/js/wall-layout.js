// An operator's wall layout: how many tiles, their order, pins, the spotlight and whether
// the map shows. Pure state (no DOM); the same JSON goes to localStorage and to
// PUT /api/rooms/{room_id}/wall-layout (signaling/wall_layout.py checks its shape).
export const TILE_COUNTS = [1, 4, 9, 16];
const MAX_REMEMBERED = 64; // keys kept in `order`, present or not (the server's limit)
const MAX_STRIP = 8; // small tiles beside a spotlight
const KEY_RE = /^[A-Za-z0-9_.-]{1,128}:[a-z]{1,16}$/;

export class WallLayout {
  constructor({ tiles = 4, order = [], pins = {}, spotlight = null, map = true } = {}) {
    this.tiles = TILE_COUNTS.includes(tiles) ? tiles : 4;
    this.order = order.filter((key) => KEY_RE.test(key));
    this.pins = {};
    for (const [key, slot] of Object.entries(pins || {})) {
      if (KEY_RE.test(key) && Number.isInteger(slot) && slot >= 0 && slot < 16 && !Object.values(this.pins).includes(slot)) this.pins[key] = slot;
    }
    this.spotlight = typeof spotlight === "string" && KEY_RE.test(spotlight) ? spotlight : null;
    this.map = map !== false;
  }

  static fromJSON(data) {
    return data && typeof data === "object" ? new WallLayout(data) : new WallLayout();
  }

  toJSON() {
    return { tiles: this.tiles, order: [...this.order], pins: { ...this.pins }, spotlight: this.spotlight, map: this.map };
  }

  /** Remember newly seen keys at the end of the order (they keep that place later). */
  learn(keys) {
    let changed = false;
    for (const key of keys) {
      if (!this.order.includes(key) && KEY_RE.test(key)) {
        this.order.push(key);
        changed = true;
      }
    }
    if (this.order.length > MAX_REMEMBERED) {
      const present = new Set(keys);
      // Forget the oldest keys that are not on the wall now.
      while (this.order.length > MAX_REMEMBERED) {
        const index = this.order.findIndex((key) => !present.has(key) && !(key in this.pins));
        this.order.splice(index >= 0 ? index : 0, 1);
      }
    }
    return changed;
  }

  /**
   * Slots for the present keys: pinned keys sit at their slot, the rest fill the free slots
   * in `order`. Free slots before a pinned one stay null, so a pin never moves. The result
   * is longer than `tiles` when there are more keys than tiles (the overflow is hidden).
   */
  arrange(presentKeys) {
    const present = new Set(presentKeys);
    const slots = [];
    for (const [key, slot] of Object.entries(this.pins)) {
      if (present.has(key) && slot < this.tiles) slots[slot] = key;
    }
    const placed = new Set(slots.filter(Boolean));
    const rank = (key) => {
      const index = this.order.indexOf(key);
      return index < 0 ? Infinity : index;
    };
    const rest = presentKeys.filter((key) => !placed.has(key)).sort((a, b) => rank(a) - rank(b));
    let next = 0;
    for (const key of rest) {
      while (slots[next] !== undefined && next < this.tiles) next += 1;
      slots[next] = key;
      next += 1;
    }
    return Array.from(slots, (key) => key ?? null);
  }

  /** {main, strip} when a present key is in the spotlight, else null. */
  spotlightView(presentKeys) {
    if (!this.spotlight || !presentKeys.includes(this.spotlight)) return null;
    const others = this.arrange(presentKeys).filter((key) => key && key !== this.spotlight);
    return { main: this.spotlight, strip: others.slice(0, Math.min(MAX_STRIP, this.tiles - 1)) };
  }

  setTiles(count) {
    if (!TILE_COUNTS.includes(count) || count === this.tiles) return false;
    this.tiles = count;
    return true;
  }

  togglePin(key, presentKeys) {
    if (key in this.pins) {
      delete this.pins[key];
      return true;
    }
    const slot = this.arrange(presentKeys).indexOf(key);
    if (slot < 0 || slot >= this.tiles) return false;
    this.pins[key] = slot;
    return true;
  }

  setSpotlight(key) {
    const next = key && KEY_RE.test(key) ? key : null;
    if (next === this.spotlight) return false;
    this.spotlight = next;
    return true;
  }

  toggleMap() {
    this.map = !this.map;
    return true;
  }

  /**
   * Swap the tile `key` with whatever is in slot `target` (a drag and drop). A slot held by
   * another pinned tile is refused: a pin means "this tile stays here".
   */
  moveTo(key, target, presentKeys) {
    const slots = this.arrange(presentKeys);
    const from = slots.indexOf(key);
    if (from < 0 || target < 0 || target >= Math.max(this.tiles, slots.length) || target === from) return false;
    const other = slots[target] ?? null;
    if (other !== null && other in this.pins) return false;
    slots[target] = key;
    slots[from] = other;
    this.rewrite(slots, { key, from, target, other });
    return true;
  }

  /** Move one slot left (-1) or right (+1), stepping over slots held by pinned tiles. */
  move(key, delta, presentKeys) {
    const slots = this.arrange(presentKeys);
    let target = slots.indexOf(key);
    if (target < 0) return false;
    do target += delta;
    while (target >= 0 && target < slots.length && slots[target] && slots[target] in this.pins);
    return this.moveTo(key, target, presentKeys);
  }

  rewrite(slots, { key, target, other, from }) {
    const shown = slots.filter(Boolean);
    this.order = [...shown, ...this.order.filter((k) => !shown.includes(k))];
    // Pins travel with their tiles; a tile dropped into an empty slot is pinned there, since
    // otherwise it would slide back to the first free slot.
    if (key in this.pins || other === null) this.pins[key] = target;
    if (other !== null && other in this.pins) this.pins[other] = from;
    for (const [k, slot] of Object.entries(this.pins)) {
      if (slot >= 16) delete this.pins[k];
    }
  }
}
