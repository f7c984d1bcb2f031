// One task in full on the wall: what, who, when, its source, every feedback entry (text,
// photos, position) and the audit trail (who changed what, when), with the operator's
// closing actions (verify, close with a score, reassign).
import { el } from "./dispatch-board.js";
import { photoUrl } from "./dispatch-api.js";
import { formatDue, formatTime, isOverdue, REASSIGNABLE } from "./dispatch-model.js";
import { formatLatLon } from "./wall-geo.js";

// Audit actions with a name in the catalogs; others are shown as the server spells them.
const AUDIT_ACTIONS = new Set(["task.created", "task.transition", "task.feedback", "task.reassigned", "task.overdue", "task.reminder"]);

/** "m_0a1b..." -> the member's name, "op:Li Lei" -> "Li Lei", "api" as is. */
export function actorName(model, actor) {
  if (!actor) return "";
  if (actor.startsWith("op:")) return actor.slice(3);
  if (actor.startsWith("m_")) return model.memberName(actor);
  return actor;
}

export class TaskDetail {
  /** act(task, action, values) performs verify / close / reassign and resolves with the task. */
  constructor(host, { i18n, model, api, act, assigneeOptions }) {
    Object.assign(this, { host, i18n, model, api, act, assigneeOptions });
    this.tr = (key, params) => this.i18n.t(key, params); // durations in the page's language
    this.dialog = null;
    this.taskId = null;
    this.choices = {};
    this.audit = [];
    model.onChange((what) => {
      if (what === "tasks" && this.dialog?.open) this.render();
    });
  }

  async open(taskId) {
    this.close();
    if (this.taskId !== taskId) this.choices = {}; // the score and reassignee picked so far
    this.taskId = taskId;
    this.audit = [];
    const dialog = el("dialog", "dispatch-dialog dispatch-detail", { id: "dispatch-task-detail", "data-task-id": taskId });
    // "close" fires later, maybe after the next open: it removes its own dialog only.
    dialog.addEventListener("close", () => {
      dialog.remove();
      if (this.dialog === dialog) this.dialog = null;
    });
    this.dialog = dialog;
    this.host.append(dialog);
    this.render();
    this.dialog.showModal();
    try {
      // A full GET: events carry the task too, but the audit trail only comes from here.
      const [task, audit] = await Promise.all([this.api.task(taskId), this.api.audit(taskId)]);
      this.model.put("tasks", task);
      this.audit = audit;
      this.error = null;
    } catch (err) {
      this.error = err.message;
    }
    if (this.dialog && this.taskId === taskId) this.render();
  }

  close() {
    const dialog = this.dialog;
    this.dialog = null;
    dialog?.close();
    dialog?.remove();
  }

  render() {
    const task = this.model.tasks.get(this.taskId);
    const t = (key, params) => this.i18n.t(key, params);
    const box = el("div", "stack");
    if (!task) {
      box.append(el("p", "", {}, t("dispatch.loading")));
      this.dialog.replaceChildren(box, this.closeButton());
      return;
    }
    const overdue = isOverdue(task, this.model.now());
    box.append(el("h2", overdue ? "is-overdue" : "", {}, task.title));
    const facts = el("dl", "dispatch-facts");
    const fact = (key, value) => {
      if (!value) return;
      facts.append(el("dt", "", {}, t(key)), el("dd", "", { "data-fact": key }, value));
    };
    fact("dispatch.detail.status", t(`dispatch.status.${task.status}`) + (overdue ? ` · ${t("dispatch.overdue")}` : ""));
    fact("dispatch.task.assignee", this.model.assigneeName(task));
    fact("dispatch.task.priority", t(`dispatch.priority.${task.priority}`));
    if (Number.isFinite(task.deadline)) {
      const now = this.model.now();
      const left = overdue ? t("dispatch.overdueBy", { time: formatDue(now, task.deadline, this.tr) }) : formatDue(task.deadline, now, this.tr);
      fact("dispatch.detail.deadline", `${formatTime(task.deadline, this.i18n.lang)} (${left})`);
    }
    fact("dispatch.task.details", task.details);
    if (task.incidentId) fact("dispatch.detail.incident", this.model.incidents.get(task.incidentId)?.title || task.incidentId);
    if (task.source?.kind) fact("dispatch.detail.source", t(`dispatch.source.${task.source.kind}`));
    if (task.reason) fact("dispatch.detail.reason", task.reason);
    if (task.score) fact("dispatch.detail.score", String(task.score));
    box.append(facts);
    if (this.error) box.append(el("p", "form-error", { role: "alert" }, this.error));
    box.append(el("h3", "", {}, t("dispatch.detail.feedback")));
    box.append(this.feedbackList(task));
    box.append(el("h3", "", {}, t("dispatch.detail.audit")));
    box.append(this.auditList());
    box.append(this.actions(task));
    this.dialog.replaceChildren(box);
  }

  feedbackList(task) {
    const list = el("ol", "dispatch-feedback");
    if (!task.feedback.length) list.append(el("li", "dispatch-empty", {}, this.i18n.t("dispatch.detail.noFeedback")));
    for (const entry of task.feedback) {
      const li = el("li", "dispatch-feedback-entry");
      const head = [formatTime(entry.at * 1000, this.i18n.lang), actorName(this.model, entry.by)];
      if (entry.status) head.push(this.i18n.t(`dispatch.status.${entry.status}`));
      li.append(el("div", "dispatch-feedback-head", {}, head.join(" · ")));
      if (entry.text) li.append(el("div", "dispatch-feedback-text", {}, entry.text));
      if (entry.location && Number.isFinite(entry.location.lat)) li.append(el("div", "dispatch-feedback-where", {}, formatLatLon(entry.location.lat, entry.location.lon)));
      const photos = (entry.photos || []).map(photoUrl).filter(Boolean);
      if (photos.length) {
        const strip = el("div", "dispatch-photos");
        for (const src of photos) {
          const link = el("a", "", { href: src, target: "_blank", rel: "noopener" });
          link.append(el("img", "", { src, alt: entry.text || "", loading: "lazy" }));
          strip.append(link);
        }
        li.append(strip);
      }
      list.append(li);
    }
    return list;
  }

  auditList() {
    const list = el("ol", "dispatch-audit");
    if (!this.audit.length) list.append(el("li", "dispatch-empty", {}, this.i18n.t("dispatch.loading")));
    for (const entry of this.audit) {
      const data = entry.data || {};
      const change = data.from || data.to ? `${data.from ? this.i18n.t(`dispatch.status.${data.from}`) : ""} → ${data.to ? this.i18n.t(`dispatch.status.${data.to}`) : ""}` : "";
      const key = `dispatch.action.${entry.action}`;
      const action = AUDIT_ACTIONS.has(entry.action) ? this.i18n.t(key) : entry.action;
      const text = [formatTime(entry.at * 1000, this.i18n.lang), actorName(this.model, entry.by), action, change].filter(Boolean).join(" · ");
      list.append(el("li", "dispatch-audit-entry", { "data-action": entry.action }, text));
    }
    return list;
  }

  actions(task) {
    const box = el("div", "dispatch-form-buttons");
    const error = el("p", "form-error", { role: "alert" });
    error.hidden = true;
    const run = async (action, values = {}) => {
      try {
        await this.act(task, action, values);
        if (this.dialog) this.open(task.id); // the audit trail has a new entry
      } catch (err) {
        error.textContent = err.message;
        error.hidden = false;
      }
    };
    if (task.status === "resolved") {
      const verify = el("button", "", { type: "button", "data-action": "verify" }, this.i18n.t("dispatch.detail.verify"));
      verify.addEventListener("click", () => run("verify"));
      box.append(verify);
    }
    if (["resolved", "verified", "rejected"].includes(task.status)) {
      const score = el("select", "dispatch-score", { "aria-label": this.i18n.t("dispatch.detail.score") });
      for (const n of [5, 4, 3, 2, 1]) score.append(el("option", "", { value: String(n) }, `${n}`));
      // The detail redraws on every event for its task: what was picked must survive that.
      if (this.choices.score) score.value = this.choices.score;
      score.addEventListener("change", () => { this.choices.score = score.value; });
      const close = el("button", "", { type: "button", "data-action": "close-task" }, this.i18n.t("dispatch.detail.closeTask"));
      close.addEventListener("click", () => run("close", { score: Number(score.value) }));
      box.append(score, close);
    }
    if (REASSIGNABLE.has(task.status)) {
      const who = el("select", "dispatch-reassign", { "aria-label": this.i18n.t("dispatch.detail.reassign") });
      who.append(el("option", "", { value: "" }, this.i18n.t("dispatch.choose")));
      for (const group of this.assigneeOptions()) {
        const g = el("optgroup", "", { label: group.group });
        for (const o of group.options) g.append(el("option", "", { value: o.value }, o.label));
        who.append(g);
      }
      if (this.choices.assignee) who.value = this.choices.assignee;
      who.addEventListener("change", () => { this.choices.assignee = who.value; });
      const reassign = el("button", "", { type: "button", "data-action": "reassign" }, this.i18n.t("dispatch.detail.reassign"));
      reassign.addEventListener("click", () => {
        if (who.value) run("reassign", { assignee: who.value });
        else who.focus();
      });
      box.append(who, reassign);
    }
    box.append(this.closeButton());
    const wrap = el("div", "stack");
    wrap.append(error, box);
    return wrap;
  }

  closeButton() {
    const button = el("button", "", { type: "button", "data-action": "close" }, this.i18n.t("dispatch.close"));
    button.addEventListener("click", () => this.close());
    return button;
  }
}
