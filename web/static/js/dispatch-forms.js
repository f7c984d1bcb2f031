// The wall's dispatch dialogs: new task (from scratch, an incident, a feed snapshot or a
// minutes action item), new incident (from scratch or a field photo report), and a broadcast
// alert. Each dialog is built when it opens, from catalog keys, and resolves with the values
// the operator entered (or null when cancelled); the page does the REST call and shows errors
// in the dialog, which stays open until the write succeeds.
import { el } from "./dispatch-board.js";
import { newClientId } from "./offline-queue.js";

export const PRIORITIES = ["low", "normal", "high", "urgent"];
export const SEVERITIES = ["low", "medium", "high", "critical"];
export const DEFAULT_DEADLINE_MIN = 30;

/** A modal form in `host`: fields [{name, kind, label, options:[{value,label}], value, required,
 * min, max, maxlength}], an optional preview node; submit(values, clientId) may throw to keep
 * it open. The client id is made once per dialog: pressing Save again after a failure (a lost
 * answer) repeats the same write, which the server answers without doing it twice. */
export function openForm(host, i18n, { id, title, fields, preview = null, submitLabel, submit }) {
  const dialog = el("dialog", "dispatch-dialog", { id });
  const form = el("form", "stack dispatch-form", { method: "dialog", novalidate: "" });
  form.append(el("h2", "", {}, title));
  if (preview) form.append(preview);
  for (const field of fields) form.append(fieldNode(field));
  const error = el("p", "form-error", { role: "alert", "data-form-error": "" });
  error.hidden = true;
  const buttons = el("div", "dispatch-form-buttons");
  const cancel = el("button", "", { type: "button", "data-action": "cancel" }, i18n.t("dispatch.cancel"));
  const ok = el("button", "primary", { type: "submit", "data-action": "submit" }, submitLabel || i18n.t("dispatch.save"));
  buttons.append(cancel, ok);
  form.append(error, buttons);
  dialog.append(form);
  host.append(dialog);
  const clientId = newClientId();
  return new Promise((resolve) => {
    const finish = (value) => {
      dialog.close();
      dialog.remove();
      resolve(value);
    };
    cancel.addEventListener("click", () => finish(null));
    dialog.addEventListener("cancel", (event) => {
      event.preventDefault();
      finish(null);
    });
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const values = readForm(form, fields);
      const missing = fields.find((f) => f.required && (values[f.name] === "" || values[f.name] === null));
      if (missing) {
        showError(error, i18n.t("dispatch.required", { field: missing.label }));
        form.querySelector(`[name="${missing.name}"]`)?.focus();
        return;
      }
      ok.disabled = true;
      try {
        const result = await submit(values, clientId);
        finish(result ?? values);
      } catch (err) {
        showError(error, err.display || err.message);
        ok.disabled = false;
      }
    });
    dialog.showModal();
    form.querySelector("input:not([type=hidden]), textarea, select")?.focus();
  });
}

function showError(node, text) {
  node.textContent = text;
  node.hidden = false;
}

function fieldNode(field) {
  if (field.kind === "hidden") return el("input", "", { type: "hidden", name: field.name, value: field.value ?? "" });
  const label = el("label", "field");
  label.append(el("span", "", {}, field.label));
  let input;
  if (field.kind === "textarea") {
    input = el("textarea", "", { name: field.name, rows: "3", maxlength: String(field.maxlength || 2000) });
    input.value = field.value ?? "";
  } else if (field.kind === "select") {
    input = el("select", "", { name: field.name });
    for (const option of field.options) {
      if (option.group) {
        const group = el("optgroup", "", { label: option.group });
        for (const o of option.options) group.append(el("option", "", { value: o.value }, o.label));
        input.append(group);
      } else input.append(el("option", "", { value: option.value }, option.label));
    }
    if (field.value !== undefined) input.value = field.value;
  } else {
    input = el("input", "", { name: field.name, type: field.kind || "text" });
    for (const key of ["min", "max", "step", "maxlength"]) if (field[key] !== undefined) input.setAttribute(key, String(field[key]));
    input.value = field.value ?? "";
  }
  if (field.required) input.required = true;
  label.append(input);
  return label;
}

function readForm(form, fields) {
  const values = {};
  for (const field of fields) {
    const input = form.elements.namedItem(field.name);
    const raw = input ? String(input.value).trim() : "";
    values[field.name] = field.kind === "number" ? (raw === "" ? null : Number(raw)) : raw;
  }
  return values;
}

/** Options for "who": units, then members under their unit's name. */
export function assigneeOptions(model, i18n) {
  const units = [...model.units.values()].sort((a, b) => String(a.name).localeCompare(String(b.name)));
  const options = [];
  if (units.length) {
    options.push({ group: i18n.t("dispatch.units"), options: units.map((u) => ({ value: `unit:${u.id}`, label: u.name })) });
  }
  const members = [...model.members.values()].sort((a, b) => String(a.name).localeCompare(String(b.name)));
  if (members.length) {
    options.push({ group: i18n.t("dispatch.members"), options: members.map((m) => ({
      value: `member:${m.id}`, label: m.unitId ? `${m.name} · ${model.unitName(m.unitId)}` : m.name,
    })) });
  }
  return options;
}

/** "unit:u_1" -> {kind: "unit", id: "u_1"} */
export function parseAssignee(value) {
  const at = value.indexOf(":");
  return at < 0 ? null : { kind: value.slice(0, at), id: value.slice(at + 1) };
}

export function taskFields(model, i18n, { title = "", details = "", assignee = "", priority = "normal", deadlineMin = DEFAULT_DEADLINE_MIN } = {}) {
  const assignees = assigneeOptions(model, i18n);
  return [
    { name: "title", kind: "text", label: i18n.t("dispatch.task.title"), value: title, required: true, maxlength: 200 },
    { name: "details", kind: "textarea", label: i18n.t("dispatch.task.details"), value: details, maxlength: 2000 },
    { name: "assignee", kind: "select", label: i18n.t("dispatch.task.assignee"), required: true,
      options: [{ value: "", label: i18n.t("dispatch.choose") }, ...assignees], value: assignee },
    { name: "priority", kind: "select", label: i18n.t("dispatch.task.priority"), value: priority,
      options: PRIORITIES.map((p) => ({ value: p, label: i18n.t(`dispatch.priority.${p}`) })) },
    { name: "deadline_min", kind: "number", label: i18n.t("dispatch.task.deadlineMin"), value: String(deadlineMin), min: 1, max: 60 * 24 * 366 },
  ];
}

export function incidentFields(i18n, { title = "", notes = "", lat = "", lon = "", category = "" } = {}) {
  return [
    { name: "title", kind: "text", label: i18n.t("dispatch.incident.title"), value: title, required: true, maxlength: 200 },
    { name: "category", kind: "text", label: i18n.t("dispatch.incident.category"), value: category, maxlength: 64 },
    { name: "severity", kind: "select", label: i18n.t("dispatch.incident.severity"), value: "medium",
      options: SEVERITIES.map((s) => ({ value: s, label: i18n.t(`dispatch.severity.${s}`) })) },
    { name: "notes", kind: "textarea", label: i18n.t("dispatch.incident.notes"), value: notes, maxlength: 2000 },
    { name: "lat", kind: "number", label: i18n.t("dispatch.incident.lat"), value: lat === "" ? "" : String(lat), step: "any", min: -90, max: 90 },
    { name: "lon", kind: "number", label: i18n.t("dispatch.incident.lon"), value: lon === "" ? "" : String(lon), step: "any", min: -180, max: 180 },
  ];
}

export function alertFields(model, i18n) {
  const units = [...model.units.values()].map((u) => ({ value: u.id, label: u.name }));
  return [
    { name: "target", kind: "select", label: i18n.t("dispatch.alert.target"), value: "",
      options: [{ value: "", label: i18n.t("dispatch.alert.allUnits") }, ...units] },
    { name: "text", kind: "textarea", label: i18n.t("dispatch.alert.text"), required: true, maxlength: 500 },
  ];
}

/** A picture shown at the top of a form (a report's photo, a snapshot). */
export function photoPreview(src, caption = "") {
  const figure = el("figure", "dispatch-preview");
  figure.append(el("img", "", { src, alt: caption }));
  if (caption) figure.append(el("figcaption", "", {}, caption));
  return figure;
}

/** A list to pick one item from (feeds for a snapshot, action items): resolves with the item
 * or null. items: [{label, detail, value}]. */
export function pickOne(host, i18n, { id, title, items, empty }) {
  const dialog = el("dialog", "dispatch-dialog", { id });
  const box = el("div", "stack");
  box.append(el("h2", "", {}, title));
  const list = el("ul", "dispatch-pick");
  box.append(list);
  if (!items.length) box.append(el("p", "dispatch-empty", {}, empty));
  const cancel = el("button", "", { type: "button", "data-action": "cancel" }, i18n.t("dispatch.cancel"));
  box.append(cancel);
  dialog.append(box);
  host.append(dialog);
  return new Promise((resolve) => {
    const finish = (value) => {
      dialog.close();
      dialog.remove();
      resolve(value);
    };
    items.forEach((item, index) => {
      const button = el("button", "dispatch-pick-item", { type: "button", "data-index": String(index) });
      button.append(el("span", "dispatch-pick-label", {}, item.label));
      if (item.detail) button.append(el("span", "dispatch-pick-detail", {}, item.detail));
      button.addEventListener("click", () => finish(item.value));
      const li = el("li");
      li.append(button);
      list.append(li);
    });
    cancel.addEventListener("click", () => finish(null));
    dialog.addEventListener("cancel", (event) => {
      event.preventDefault();
      finish(null);
    });
    dialog.showModal();
  });
}
