// The wall's task board: one column per state of the task flow (plus rejected), a card per
// task with what, who, priority and the time left; overdue cards are red. The board redraws
// from the DispatchModel on every change and every 15 s (a deadline passes with no event).
import { BOARD_COLUMNS, formatDue, isOverdue } from "./dispatch-model.js";

const TICK_MS = 15000;

export function el(tag, className, attrs = {}, text = null) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  for (const [key, value] of Object.entries(attrs)) node.setAttribute(key, value);
  if (text !== null) node.textContent = text;
  return node;
}

export class DispatchBoard {
  /** onOpen(taskId) when a card is clicked. */
  constructor(root, { i18n, model, onOpen }) {
    Object.assign(this, { root, i18n, model, onOpen });
    this.tr = (key, params) => this.i18n.t(key, params); // durations in the page's language
    this.columns = new Map();
    for (const column of BOARD_COLUMNS) {
      const section = el("section", "dispatch-column", { "data-column": column.id });
      const head = el("h3", "dispatch-column-head");
      const list = el("ol", "dispatch-cards");
      section.append(head, list);
      root.append(section);
      this.columns.set(column.id, { section, head, list });
    }
    model.onChange((what) => {
      if (what === "tasks" || what === "units" || what === "members") this.render();
    });
    this.timer = setInterval(() => this.render(), TICK_MS);
    this.render();
  }

  render() {
    const now = this.model.now();
    const byColumn = this.model.tasksByColumn();
    for (const [id, { head, list, section }] of this.columns) {
      const tasks = byColumn.get(id) || [];
      head.textContent = `${this.i18n.t(`dispatch.column.${id}`)} (${tasks.length})`;
      section.classList.toggle("has-overdue", tasks.some((t) => isOverdue(t, now)));
      list.replaceChildren(...tasks.map((task) => this.card(task, now)));
    }
  }

  card(task, now) {
    const overdue = isOverdue(task, now);
    const li = el("li", `dispatch-card priority-${task.priority || "normal"}${overdue ? " is-overdue" : ""}`, {
      "data-task-id": task.id, "data-status": task.status,
    });
    const button = el("button", "dispatch-card-button", { type: "button" });
    button.append(
      el("span", "dispatch-card-title", {}, task.title || "?"),
      el("span", "dispatch-card-who", {}, this.model.assigneeName(task)),
    );
    const meta = el("span", "dispatch-card-meta");
    if (task.priority && task.priority !== "normal") meta.append(el("span", "dispatch-card-priority", {}, this.i18n.t(`dispatch.priority.${task.priority}`)));
    if (Number.isFinite(task.deadline)) {
      const due = overdue ? this.i18n.t("dispatch.overdueBy", { time: formatDue(now, task.deadline, this.tr) }) : formatDue(task.deadline, now, this.tr);
      meta.append(el("span", "dispatch-card-due", {}, due));
    }
    if (task.status === "rejected" && task.reason) meta.append(el("span", "dispatch-card-reason", {}, task.reason));
    button.append(meta);
    button.addEventListener("click", () => this.onOpen(task.id));
    li.append(button);
    return li;
  }

  describe() {
    const now = this.model.now();
    return [...this.model.tasks.values()].map((task) => {
      const card = this.root.querySelector(`[data-task-id="${CSS.escape(task.id)}"]`);
      return {
        id: task.id, title: task.title, status: task.status, column: card?.closest("[data-column]")?.dataset.column ?? null,
        overdue: isOverdue(task, now), red: Boolean(card?.classList.contains("is-overdue")), assignee: this.model.assigneeName(task),
      };
    });
  }
}
