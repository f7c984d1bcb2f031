// The dispatch state a page holds: units, members, incidents and tasks by id, from a REST load
// and then from live events. A record only replaces one that is not newer (events and REST
// answers may cross), so the board never steps back.

// The task flow (docs/API.md "Dispatch"); each column of the wall's board is one or more states.
export const TASK_FLOW = ["dispatched", "acknowledged", "en_route", "on_scene", "resolved", "verified", "closed"];
export const BOARD_COLUMNS = [
  { id: "dispatched", states: ["dispatched"] },
  { id: "acknowledged", states: ["acknowledged"] },
  { id: "en_route", states: ["en_route"] },
  { id: "on_scene", states: ["on_scene"] },
  { id: "resolved", states: ["resolved"] },
  { id: "closed", states: ["verified", "closed"] },
  { id: "rejected", states: ["rejected"] },
];
// Where a task's clock no longer runs: it cannot be overdue.
export const FINISHED = new Set(["resolved", "verified", "closed", "rejected"]);
// What a field unit may do next from each state: dispatch/flow.py's NEXT for the assignee
// (the server checks too; no step may be skipped).
export const FIELD_NEXT = {
  dispatched: ["acknowledged", "rejected"],
  acknowledged: ["en_route", "rejected"],
  en_route: ["on_scene", "rejected"],
  on_scene: ["resolved", "rejected"],
};
// Where an operator may still reassign a task (open, or rejected).
export const REASSIGNABLE = new Set(["dispatched", "acknowledged", "en_route", "on_scene", "rejected"]);

/** A task is overdue when the server says so, or its deadline passed while it was open. */
export function isOverdue(task, now = Date.now()) {
  if (FINISHED.has(task.status)) return false;
  if (task.overdue) return true;
  return Number.isFinite(task.deadline) && task.deadline < now;
}

/** How long until the deadline: "12 min", "2 h 05 min", "3 d" (negative when past), in the
 * page's language when given its `t` (keys dispatch.dur.*). */
export function formatDue(deadlineMs, now = Date.now(), t = null) {
  if (!Number.isFinite(deadlineMs)) return "";
  const minutes = Math.round((deadlineMs - now) / 60000);
  const sign = minutes < 0 ? "-" : "";
  const abs = Math.abs(minutes);
  const say = (key, params, fallback) => sign + (t ? t(`dispatch.dur.${key}`, params) : fallback);
  if (abs < 60) return say("min", { n: abs }, `${abs} min`);
  const hours = Math.floor(abs / 60);
  const m = String(abs % 60).padStart(2, "0");
  if (hours < 48) return say("hm", { h: hours, m }, `${hours} h ${m} min`);
  const days = Math.round(hours / 24);
  return say("d", { n: days }, `${days} d`);
}

export function formatTime(ms, lang) {
  if (!Number.isFinite(ms)) return "";
  return new Date(ms).toLocaleString(lang, { month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit" });
}

/** Is `next` newer than (or as new as) `prev`? By version, else by update time. */
function newer(next, prev) {
  if (!prev) return true;
  if (Number.isFinite(next.version) && Number.isFinite(prev.version)) return next.version >= prev.version;
  if (Number.isFinite(next.updatedAt) && Number.isFinite(prev.updatedAt)) return next.updatedAt >= prev.updatedAt;
  return true;
}

export class DispatchModel {
  constructor() {
    this.units = new Map();
    this.members = new Map();
    this.incidents = new Map();
    this.tasks = new Map();
    this.listeners = new Set();
    this.skewMs = 0; // the dispatch clock minus ours (a test clock may run ahead)
    this.touched = new Map(); // "kind:id" -> when an event or a write's answer last put it (ms, ours)
  }

  /** Now on the dispatch clock, in ms: deadlines are on that clock. */
  now() {
    return Date.now() + this.skewMs;
  }

  setServerNow(seconds) {
    if (Number.isFinite(seconds)) this.skewMs = seconds * 1000 - Date.now();
  }

  onChange(fn) {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  changed(what) {
    for (const fn of this.listeners) fn(what);
  }

  /** Replace a whole collection with a REST answer to a request sent at `askedAt` (ms, our
   * clock): records newer than the answer are kept, and so are records the answer lacks that
   * an event brought after the request went out (the answer was made before they existed). */
  load(kind, records, askedAt = -Infinity) {
    const map = this[kind];
    const fresh = new Map();
    for (const record of records) {
      const prev = map.get(record.id);
      fresh.set(record.id, newer(record, prev) ? record : prev);
    }
    for (const [id, record] of map) {
      if (!fresh.has(id) && (this.touched.get(`${kind}:${id}`) ?? -Infinity) >= askedAt) fresh.set(id, record);
    }
    this[kind] = fresh;
    this.changed(kind);
  }

  /** One record from an event or a write's answer; true when it changed what we hold. */
  put(kind, record) {
    if (!record?.id) return false;
    const prev = this[kind].get(record.id);
    if (!newer(record, prev)) return false;
    // Events may carry less than a full GET (no audit trail): keep what we had.
    this[kind].set(record.id, prev ? { ...prev, ...stripUndefined(record) } : record);
    this.touched.set(`${kind}:${record.id}`, Date.now());
    this.changed(kind);
    return true;
  }

  remove(kind, id) {
    if (this[kind].delete(id)) this.changed(kind);
  }

  unitName(id) {
    return this.units.get(id)?.name ?? id ?? "";
  }

  memberName(id) {
    return this.members.get(id)?.name ?? id ?? "";
  }

  assigneeName(task) {
    if (task.assignee?.name) return task.assignee.name;
    if (task.assignee?.kind === "member") return this.memberName(task.assignee.id);
    return this.unitName(task.assignee?.id);
  }

  tasksByColumn() {
    const columns = new Map(BOARD_COLUMNS.map((c) => [c.id, []]));
    for (const task of this.tasks.values()) {
      const column = BOARD_COLUMNS.find((c) => c.states.includes(task.status));
      if (column) columns.get(column.id).push(task);
    }
    for (const list of columns.values()) {
      // Overdue first, then the nearest deadline, then the newest.
      const now = this.now();
      list.sort((a, b) => (isOverdue(b, now) - isOverdue(a, now)) || ((a.deadline ?? Infinity) - (b.deadline ?? Infinity)) || (b.createdAt ?? 0) - (a.createdAt ?? 0));
    }
    return columns;
  }
}

function stripUndefined(record) {
  return Object.fromEntries(Object.entries(record).filter(([, v]) => v !== undefined));
}
