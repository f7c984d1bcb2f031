// "My tasks" on the field page: the tasks dispatched to this unit (or its member), newest
// first; one tap acknowledges, the next steps (en route, on scene, resolved) send the current
// position and an optional photo, reject asks for a reason. Every update goes through the
// offline queue, so the card shows the new state at once and "waiting to send" until the
// server has it.
import { el } from "./dispatch-board.js";
import { FIELD_NEXT, FINISHED, formatDue, isOverdue } from "./dispatch-model.js";

const PHOTO_MAX_SIDE_PX = 1280; // queued photos live in localStorage: keep them small
const PHOTO_QUALITY = 0.8;
const FINISHED_SHOWN = 5;

/** A picture file scaled down to a JPEG data URL (what the queue can keep across a reload). */
export async function photoDataUrl(file) {
  const bitmap = await createImageBitmap(file);
  const scale = Math.min(1, PHOTO_MAX_SIDE_PX / Math.max(bitmap.width, bitmap.height));
  const canvas = document.createElement("canvas");
  canvas.width = Math.max(1, Math.round(bitmap.width * scale));
  canvas.height = Math.max(1, Math.round(bitmap.height * scale));
  canvas.getContext("2d").drawImage(bitmap, 0, 0, canvas.width, canvas.height);
  return canvas.toDataURL("image/jpeg", PHOTO_QUALITY);
}

export class FieldTasks {
  /** isMine(task); location() -> latest fix or null; update({taskId, status, note, photo,
   * location}) queues a write; alert: AttentionSignal. */
  constructor(root, { i18n, model, queue, isMine, location, update, alert }) {
    Object.assign(this, { root, i18n, model, queue, isMine, location, update, alert });
    this.tr = (key, params) => this.i18n.t(key, params); // durations in the page's language
    this.photos = new Map(); // task id -> data URL staged for the next update
    this.notes = new Map(); // task id -> note typed for the next update
    this.rejecting = null; // task id whose reject form is open
    this.announced = new Set();
    this.loaded = false;
    this.title = el("h2", "field-tasks-title");
    this.pendingNote = el("p", "field-tasks-pending", { role: "status", "aria-live": "polite" });
    this.list = el("ol", "field-tasks-list");
    this.empty = el("p", "field-tasks-empty");
    root.append(this.title, this.pendingNote, this.list, this.empty);
    model.onChange((what) => {
      if (what === "tasks") this.tasksChanged();
    });
    this.timer = setInterval(() => this.render(), 30000); // time left goes down
    this.render();
  }

  mine() {
    return [...this.model.tasks.values()].filter((task) => this.isMine(task));
  }

  /** Beep and notify for each new task (also ones that arrived while we were away, and one
   * reassigned to us: a new assignment is new work). */
  tasksChanged() {
    const key = (t) => `${t.id}#${t.assignments ?? 1}`;
    const fresh = this.mine().filter((t) => t.status === "dispatched" && !this.announced.has(key(t)));
    for (const task of fresh) this.announced.add(key(task));
    if (fresh.length === 1) {
      const task = fresh[0];
      this.alert.announce(this.i18n.t("dispatch.field.newTask"), task.title + (Number.isFinite(task.deadline) ? ` (${formatDue(task.deadline, this.model.now(), this.tr)})` : ""), { tag: task.id });
    } else if (fresh.length > 1) {
      this.alert.announce(this.i18n.t("dispatch.field.newTask"), this.i18n.t("dispatch.field.newTasks", { count: fresh.length }));
    }
    this.render();
  }

  /** The state a card shows: the last queued update for it, else the server's. */
  shownStatus(task) {
    const queued = this.queue.entries.filter((e) => e.taskId === task.id && e.status);
    return queued.length ? queued[queued.length - 1].status : task.status;
  }

  render() {
    // A redraw (an event for another task) must not take the text box from under a thumb.
    const focused = document.activeElement?.dataset?.noteFor;
    this.draw();
    if (focused) {
      const input = this.list.querySelector(`[data-note-for="${CSS.escape(focused)}"]`);
      input?.focus();
      input?.setSelectionRange(input.value.length, input.value.length);
    }
  }

  draw() {
    const now = this.model.now();
    const tasks = this.mine().sort((a, b) => (b.createdAt ?? 0) - (a.createdAt ?? 0));
    const open = tasks.filter((t) => !FINISHED.has(this.shownStatus(t)));
    const done = tasks.filter((t) => FINISHED.has(this.shownStatus(t))).slice(0, FINISHED_SHOWN);
    this.title.textContent = this.i18n.t("dispatch.field.myTasks", { count: open.length });
    this.list.replaceChildren(...open.map((t) => this.card(t, now)), ...done.map((t) => this.card(t, now)));
    this.empty.textContent = this.i18n.t("dispatch.field.noTasks");
    this.empty.hidden = tasks.length > 0;
    const pending = this.queue.entries.length;
    const failed = this.queue.failed.length;
    this.pendingNote.hidden = !pending && !failed;
    this.pendingNote.dataset.kind = failed && !pending ? "error" : "pending";
    this.pendingNote.textContent = [
      pending ? this.i18n.t("dispatch.field.pending", { count: pending }) : "",
      pending && !this.queue.persisted ? this.i18n.t("dispatch.field.notKept") : "",
      failed ? this.i18n.t("dispatch.field.failed", { count: failed, reason: this.queue.failed.at(-1).message || this.queue.failed.at(-1).code }) : "",
    ].filter(Boolean).join(" · ");
  }

  card(task, now) {
    const status = this.shownStatus(task);
    const waiting = this.queue.entries.some((e) => e.taskId === task.id);
    const li = el("li", `field-task priority-${task.priority || "normal"}${isOverdue({ ...task, status }, now) ? " is-overdue" : ""}`, {
      "data-task-id": task.id, "data-status": status, "data-waiting": String(waiting),
    });
    const head = el("div", "field-task-head");
    head.append(el("strong", "field-task-title", {}, task.title || "?"));
    head.append(el("span", "field-task-status", {}, this.i18n.t(`dispatch.status.${status}`) + (waiting ? ` · ${this.i18n.t("dispatch.field.waiting")}` : "")));
    li.append(head);
    if (task.details) li.append(el("p", "field-task-details", {}, task.details));
    const meta = [];
    if (task.priority && task.priority !== "normal") meta.push(this.i18n.t(`dispatch.priority.${task.priority}`));
    if (Number.isFinite(task.deadline) && !FINISHED.has(status)) meta.push(this.i18n.t("dispatch.field.due", { time: formatDue(task.deadline, now, this.tr) }));
    const incident = task.incidentId ? this.model.incidents.get(task.incidentId) : null;
    if (incident) meta.push(incident.title);
    if (meta.length) li.append(el("p", "field-task-meta", {}, meta.join(" · ")));
    const next = FIELD_NEXT[status] || [];
    if (next.length) li.append(this.actions(task, next));
    if (this.rejecting === task.id) li.append(this.rejectForm(task));
    return li;
  }

  actions(task, next) {
    const box = el("div", "field-task-actions");
    for (const status of next) {
      if (status === "rejected") continue;
      const big = status === "acknowledged";
      const button = el("button", big ? "primary field-big" : "", { type: "button", "data-action": status }, this.i18n.t(`dispatch.field.do.${status}`));
      button.addEventListener("click", () => this.send(task, status));
      box.append(button);
    }
    if (!next.includes("acknowledged")) {
      box.append(this.photoButton(task));
      const note = el("input", "field-task-note", { type: "text", maxlength: "2000", "data-note-for": task.id,
        placeholder: this.i18n.t("dispatch.field.notePlaceholder") });
      note.value = this.notes.get(task.id) || "";
      note.addEventListener("input", () => this.notes.set(task.id, note.value));
      box.append(note);
    }
    if (next.includes("rejected")) {
      const reject = el("button", "", { type: "button", "data-action": "reject" }, this.i18n.t("dispatch.field.reject"));
      reject.addEventListener("click", () => {
        this.rejecting = this.rejecting === task.id ? null : task.id;
        this.render();
      });
      box.append(reject);
    }
    return box;
  }

  photoButton(task) {
    const label = el("label", `button field-task-photo${this.photos.has(task.id) ? " has-photo" : ""}`);
    label.append(document.createTextNode(this.i18n.t(this.photos.has(task.id) ? "dispatch.field.photoReady" : "dispatch.field.addPhoto")));
    const input = el("input", "", { type: "file", accept: "image/*", capture: "environment", "data-photo-for": task.id });
    input.hidden = true;
    input.addEventListener("change", async () => {
      const file = input.files[0];
      if (!file) return;
      try {
        this.photos.set(task.id, await photoDataUrl(file));
      } catch {
        this.alert.showBanner(this.i18n.t("dispatch.field.photoUnreadable"));
      }
      this.render();
    });
    label.append(input);
    return label;
  }

  rejectForm(task) {
    const form = el("form", "field-task-reject stack");
    const key = `reject:${task.id}`;
    const reason = el("textarea", "", { rows: "2", maxlength: "500", name: "reason", "data-note-for": key,
      placeholder: this.i18n.t("dispatch.field.reasonPlaceholder") });
    reason.value = this.notes.get(key) || "";
    reason.addEventListener("input", () => this.notes.set(key, reason.value));
    const send = el("button", "danger", { type: "submit", "data-action": "confirm-reject" }, this.i18n.t("dispatch.field.confirmReject"));
    form.append(reason, send);
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      const text = reason.value.trim();
      if (!text) {
        reason.focus();
        return;
      }
      this.rejecting = null;
      this.notes.delete(key);
      this.send(task, "rejected", text);
    });
    if (!this.notes.has(key)) queueMicrotask(() => reason.focus());
    return form;
  }

  send(task, status, reason = "") {
    const photo = this.photos.get(task.id) || null;
    const note = reason || (this.notes.get(task.id) || "").trim();
    this.photos.delete(task.id);
    this.notes.delete(task.id);
    this.update({ taskId: task.id, status, note, photo, location: this.location() });
    this.render();
  }

  describe() {
    return this.mine().map((task) => ({
      id: task.id, title: task.title, status: task.status, shown: this.shownStatus(task),
      waiting: this.queue.entries.some((e) => e.taskId === task.id),
    }));
  }
}
