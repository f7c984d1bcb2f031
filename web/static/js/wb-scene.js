// One board's elements as this browser knows them, merged with the server's rule: a higher
// `version` wins; equal versions: the lower `version_nonce` wins (the Excalidraw model, the
// same comparison as whiteboard/ on the server), so every client converges on one scene
// whatever order updates arrive in. Deleted elements stay as tombstones so a late, older
// copy cannot bring them back.
import { compareZ } from "./wb-geom.js";

/** True when `incoming` should replace `current` (same element id). */
export function wins(incoming, current) {
  if (!current) return true;
  if (incoming.version !== current.version) return incoming.version > current.version;
  // Equal version and nonce is the same edit (e.g. the server's echo of ours, which may carry
  // fields it adds such as the author's name): take it.
  return incoming.version_nonce <= current.version_nonce;
}

export function randomNonce() {
  return Math.floor(Math.random() * 2 ** 31);
}

export class Scene {
  constructor() {
    this.elements = new Map(); // id -> element (tombstones included)
    this.listeners = new Set();
    this.sorted = null; // cache of the visible elements in z-order
  }

  /** Merge elements; returns how many changed. */
  apply(elements) {
    let changed = 0;
    for (const element of elements || []) {
      if (!element || typeof element.id !== "string") continue;
      if (!wins(element, this.elements.get(element.id))) continue;
      this.elements.set(element.id, element);
      changed += 1;
    }
    if (changed) this.changed();
    return changed;
  }

  /** The server's full scene (join, reload, resync): the server's copy is the truth. */
  replace(elements) {
    this.elements = new Map();
    for (const element of elements || []) this.elements.set(element.id, element);
    this.changed();
  }

  changed() {
    this.sorted = null;
    for (const fn of this.listeners) fn();
  }

  onChange(fn) {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  get(id) {
    return this.elements.get(id);
  }

  /** Visible elements, bottom to top. */
  visible() {
    this.sorted ??= [...this.elements.values()].filter((e) => !e.deleted).sort(compareZ);
    return this.sorted;
  }

  topIndex() {
    let top = null;
    for (const element of this.elements.values()) {
      if (element.index && (top === null || element.index > top)) top = element.index;
    }
    return top;
  }

  /** The element list for tests and exports: visible ones, z-ordered, as plain JSON. */
  toJSON() {
    return this.visible().map((e) => ({ ...e }));
  }
}
