// Dispatch on the field page: who this phone is for dispatch (the member token of
// `#dispatch=<token>`, kept in localStorage since the phone is personal), its tasks (REST at
// load, a copy kept for a reload without network, then live events once the page streams),
// the offline queue of its updates, and the beep/notification for new tasks and alerts.
import { DispatchApi, memberRecord, taskRecord, taskUpdateSender, unitRecord } from "./dispatch-api.js";
import { AttentionSignal } from "./dispatch-alert.js";
import { DispatchLive } from "./dispatch-live.js";
import { el } from "./dispatch-board.js";
import { DispatchModel, formatTime } from "./dispatch-model.js";
import { FieldTasks } from "./field-tasks.js";
import { OfflineQueue } from "./offline-queue.js";
import { storageGet, storageSet } from "./storage.js";

const TOKEN_KEY = "commandpost.field.dispatchToken";
const ME_KEY = "commandpost.field.dispatchMe";
const TASKS_KEY = "commandpost.field.dispatchTasks";
const QUEUE_KEY = "commandpost.field.dispatchQueue";
const RELOAD_RETRY_MS = 5000;
// Without a live subscription (the page is not streaming, or its socket is down) the task
// list is fetched this often, so a phone in a pocket still gets its tasks.
const POLL_MS = 10000;
const ALERTS_SHOWN = 3;

/** The member token from `#dispatch=` (taken out of the address), else the remembered one. */
export function readMemberToken(loc = window.location) {
  const fragment = new URLSearchParams(loc.hash.replace(/^#/, ""));
  const token = fragment.get("dispatch");
  if (token) {
    storageSet(localStorage, TOKEN_KEY, token);
    fragment.delete("dispatch");
    const rest = fragment.toString();
    history.replaceState(null, "", loc.pathname + loc.search + (rest ? `#${rest}` : ""));
    return token;
  }
  return storageGet(localStorage, TOKEN_KEY);
}

function readJson(key) {
  try {
    return JSON.parse(storageGet(localStorage, key) || "null");
  } catch {
    return null;
  }
}

export class FieldDispatch {
  /** root: the "my tasks" section; banner: the in-page notice; location(): the latest fix. */
  constructor({ root, banner, header, i18n, token, location }) {
    Object.assign(this, { root, header, i18n, token, location });
    this.model = new DispatchModel();
    this.api = new DispatchApi(() => this.token);
    this.me = readJson(ME_KEY);
    this.sentUpdates = [];
    this.alerts = [];
    this.attention = new AttentionSignal({ banner });
    this.queue = new OfflineQueue({
      key: QUEUE_KEY,
      send: taskUpdateSender(this.api),
      onSent: (entry, result) => this.sent(entry, result),
      onFailed: (entry, err) => this.failed(entry, err),
      onChange: () => this.tasks?.render(),
    });
    this.live = new DispatchLive({
      token: () => this.token,
      onSubscribed: (msg) => this.subscribed(msg),
      onEvent: (msg) => this.event(msg),
      onError: (code, message) => this.problem(code, message),
    });
    this.tasks = new FieldTasks(root, {
      i18n, model: this.model, queue: this.queue, alert: this.attention,
      isMine: (task) => this.isMine(task),
      location: () => this.fix(),
      update: (op) => this.queue.add({ kind: "transition", ...op }),
    });
    this.model.onChange((what) => {
      if (what === "tasks") storageSet(localStorage, TASKS_KEY, JSON.stringify([...this.model.tasks.values()]));
    });
    this.alertList = el("ol", "field-alerts");
    root.append(this.alertList);
    root.hidden = !token;
  }

  /** The latest alerts under the tasks (newest first): a banner fades, these stay. */
  renderAlerts() {
    const latest = [...this.alerts].sort((a, b) => (b.at ?? 0) - (a.at ?? 0)).slice(0, ALERTS_SHOWN);
    this.alertList.replaceChildren(...latest.map((alert) => {
      const li = el("li", `field-alert level-${alert.level || "info"}`, { "data-alert-id": alert.alert_id });
      li.append(el("span", "field-alert-when", {}, formatTime(alert.at * 1000, this.i18n.lang)), el("span", "", {}, alert.text));
      return li;
    }));
  }

  /** Who we are and our tasks; works from the stored copies when the network is down. */
  async start() {
    if (!this.token) return;
    const cached = readJson(TASKS_KEY);
    if (Array.isArray(cached)) this.model.load("tasks", cached);
    this.renderHeader();
    try {
      const me = await this.api.me();
      if (me.role !== "member") throw new Error(this.i18n.t("dispatch.field.notMember"));
      this.me = { memberId: me.member?.member_id ?? me.actor, unitId: me.unit?.unit_id ?? me.member?.unit_id ?? null,
        name: me.member?.name ?? "", unitName: me.unit?.name ?? "" };
      storageSet(localStorage, ME_KEY, JSON.stringify(this.me));
      if (me.member) this.model.put("members", memberRecord(me.member));
      if (me.unit) this.model.put("units", unitRecord(me.unit));
      await this.reload();
      this.error = null;
    } catch (err) {
      this.error = err.message;
      // Offline at load: try again later (the `online` event also brings the queue back).
      if (!(err.status >= 400 && err.status < 500)) setTimeout(() => this.start(), RELOAD_RETRY_MS);
    }
    this.renderHeader();
    this.queue.flushNow();
    this.poller ??= setInterval(() => this.poll(), POLL_MS);
  }

  poll() {
    if (this.live.subscribed || navigator.onLine === false) return;
    this.reload().catch((err) => console.warn("dispatch: poll failed", err.message));
  }

  async reload() {
    const askedAt = Date.now();
    const [clock, tasks] = await Promise.all([this.api.clock(), this.api.tasks("?limit=100")]);
    this.model.setServerNow(clock.now);
    this.model.load("tasks", tasks, askedAt);
  }

  renderHeader() {
    if (!this.header) return;
    const me = this.me;
    this.header.textContent = this.error ? this.i18n.t("dispatch.field.problem", { reason: this.error })
      : me ? [me.name, me.unitName].filter(Boolean).join(" · ") : this.i18n.t("dispatch.loading");
  }

  /** A unit's task is every member's; a member's task only theirs. */
  isMine(task) {
    if (!this.me) return true; // before we know (offline at first load) the server's list is ours
    if (task.assignee.kind === "member") return task.assignee.id === this.me.memberId;
    return task.assignee.id === this.me.unitId;
  }

  fix() {
    const fix = this.location();
    if (!fix || !Number.isFinite(fix.lat)) return null;
    const location = { lat: fix.lat, lon: fix.lon };
    if (Number.isFinite(fix.accuracy_m)) location.accuracy_m = fix.accuracy_m;
    return location;
  }

  sent(entry, result) {
    this.sentUpdates.push({ id: entry.id, taskId: entry.taskId, status: entry.status, attempts: entry.attempts, applied: result?.applied ?? true });
    if (result?.task) this.model.put("tasks", result.task);
    this.tasks.render();
  }

  failed(entry, err) {
    // A refusal that names the task as it is now (a conflict) shows the truth on the card.
    const current = err.body?.current || err.body?.task;
    if (current?.task_id) this.model.put("tasks", taskRecord(current));
    this.attention.showBanner(this.i18n.t("dispatch.field.updateRefused", { reason: err.message }));
    this.tasks.render();
  }

  problem(code, message) {
    this.error = message || code;
    this.renderHeader();
  }

  subscribed(msg) {
    this.model.setServerNow(msg.now);
    if (!this.me && msg.member_id) {
      // `GET /me` failed at load (no network then): the subscription says who we are.
      this.me = { memberId: msg.member_id, unitId: msg.unit_id ?? null, name: "", unitName: "" };
      this.error = null;
      this.renderHeader();
    }
    for (const task of msg.tasks || []) this.model.put("tasks", taskRecord(task));
    for (const alert of msg.alerts || []) this.alerts.some((a) => a.alert_id === alert.alert_id) || this.alerts.push(alert);
    this.renderAlerts();
    // Back after an outage: what changed meanwhile (reassigned away, closed) comes by REST.
    this.reload().catch((err) => console.warn("dispatch: reload failed", err.message));
    this.queue.flushNow();
  }

  event(msg) {
    if (msg.type === "dispatch_task" || (msg.type === "dispatch_reminder" && msg.task)) {
      this.model.put("tasks", taskRecord(msg.task));
      if (msg.type === "dispatch_reminder" && this.isMine(taskRecord(msg.task))) {
        this.attention.announce(this.i18n.t(`dispatch.reminder.${msg.kind === "overdue" ? "overdue" : "dueSoon"}`, { title: msg.task.title }), msg.task.title, { tag: msg.task.task_id });
      }
    } else if (msg.type === "dispatch_alert") {
      if (this.alerts.some((a) => a.alert_id === msg.alert.alert_id)) return;
      this.alerts.push(msg.alert);
      this.renderAlerts();
      this.attention.announce(this.i18n.t(`dispatch.alert.levels.${msg.alert.level || "info"}`), msg.alert.text, { tag: msg.alert.alert_id });
    } else if (msg.type === "dispatch_clock") {
      this.model.setServerNow(msg.now);
    }
  }

  retranslate() {
    this.tasks.render();
    this.renderAlerts();
    this.renderHeader();
  }

  describe() {
    return this.tasks.describe();
  }
}
