// Dispatch on the command wall: the panel under the tiles (toolbar, open incidents, the task
// board), the dialogs that create tasks (from scratch, an incident, a feed snapshot, a
// minutes action item), incidents (from scratch or a photo report) and alerts, the task
// detail, and the incidents and units the map shows. The wall acts as an operator: with the
// token of `#dispatch=<operator token>`, else one it asks for under the operator's name
// (allowed while the server has no api key).
import { DispatchApi, incidentRecord, memberRecord, taskRecord, unitRecord } from "./dispatch-api.js";
import { DispatchBoard, el } from "./dispatch-board.js";
import { TaskDetail } from "./dispatch-detail.js";
import { alertFields, assigneeOptions, incidentFields, openForm, parseAssignee, photoPreview, pickOne, taskFields } from "./dispatch-forms.js";
import { DispatchLive } from "./dispatch-live.js";
import { DispatchModel } from "./dispatch-model.js";
import { storageGet, storageSet } from "./storage.js";

const TOKEN_KEY = "commandpost.wall.dispatchToken";
const SHOWN_KEY = "commandpost.wall.dispatch";
const TASKS_LOADED = 200;

/** `#dispatch=<token>` in the address (taken out of it, kept for reloads of this tab). */
export function readDispatchToken(loc = window.location) {
  const fragment = new URLSearchParams(loc.hash.replace(/^#/, ""));
  const token = fragment.get("dispatch");
  if (token) {
    storageSet(sessionStorage, TOKEN_KEY, token);
    fragment.delete("dispatch");
    const rest = fragment.toString();
    history.replaceState(null, "", loc.pathname + loc.search + (rest ? `#${rest}` : ""));
    return token;
  }
  return storageGet(sessionStorage, TOKEN_KEY);
}

export class WallDispatch {
  /** root: the panel; host: where dialogs go; board(): the WallBoard (for snapshots);
   * reports(): recent photo reports; notify(text, kind); onMarkers() when the map must redraw. */
  constructor(root, { i18n, token, operator, shareCode, host, wallBoard, notify, onMarkers }) {
    Object.assign(this, { root, i18n, operator, shareCode, host, wallBoard, notify, onMarkers });
    this.token = token || null;
    this.roomId = null;
    this.restToken = null;
    this.state = "idle"; // idle | loading | ready | unavailable
    this.problem = null;
    this.model = new DispatchModel();
    this.api = new DispatchApi(() => this.token);
    this.live = new DispatchLive({
      token: () => this.token,
      onSubscribed: (msg) => this.subscribed(msg),
      onEvent: (msg) => this.event(msg),
      onError: (code, message) => this.unavailable(code, message),
    });
    this.build();
    this.model.onChange((what) => {
      if (what === "incidents") this.renderIncidents();
      if (what === "incidents" || what === "tasks" || what === "members" || what === "units") this.onMarkers();
    });
  }

  // --- the panel
  build() {
    const bar = el("div", "dispatch-toolbar");
    const button = (id, key, fn) => {
      const node = el("button", "", { type: "button", id, "data-i18n": key });
      node.addEventListener("click", () => this.guard(fn));
      bar.append(node);
      return node;
    };
    button("dispatch-new-task", "dispatch.newTask", () => this.newTask());
    button("dispatch-from-snapshot", "dispatch.fromSnapshot", () => this.taskFromSnapshot());
    button("dispatch-from-minutes", "dispatch.fromMinutes", () => this.taskFromMinutes());
    button("dispatch-new-incident", "dispatch.newIncident", () => this.newIncident());
    button("dispatch-alert", "dispatch.sendAlert", () => this.sendAlert());
    button("dispatch-member-link", "dispatch.memberLink", () => this.memberLink());
    this.statusEl = el("span", "dispatch-status", { role: "status", "aria-live": "polite" });
    bar.append(this.statusEl);
    const body = el("div", "dispatch-body");
    const incidents = el("section", "dispatch-incidents");
    this.incidentsTitle = el("h3", "dispatch-column-head", { "data-i18n": "dispatch.incidents" });
    this.incidentList = el("ol", "dispatch-incident-list");
    incidents.append(this.incidentsTitle, this.incidentList);
    const boardEl = el("div", "dispatch-board");
    body.append(incidents, boardEl);
    this.root.append(bar, body);
    this.board = new DispatchBoard(boardEl, { i18n: this.i18n, model: this.model, onOpen: (id) => this.detail.open(id) });
    this.detail = new TaskDetail(this.host, {
      i18n: this.i18n, model: this.model, api: this.api,
      act: (task, action, values) => this.act(task, action, values),
      assigneeOptions: () => assigneeOptions(this.model, this.i18n),
    });
    this.i18n.apply(this.root);
    this.renderStatus();
  }

  retranslate() {
    this.i18n.apply(this.root);
    this.board.render();
    this.renderIncidents();
    this.renderStatus();
  }

  static remembered() {
    return storageGet(localStorage, SHOWN_KEY) === "1";
  }

  static remember(shown) {
    storageSet(localStorage, SHOWN_KEY, shown ? "1" : "0");
  }

  renderStatus() {
    const text = {
      idle: "", loading: this.i18n.t("dispatch.loading"), ready: "",
      unavailable: this.i18n.t("dispatch.unavailable", { reason: this.problem || "" }),
    }[this.state];
    this.statusEl.textContent = text;
    this.root.dataset.state = this.state;
  }

  renderIncidents() {
    const open = [...this.model.incidents.values()].filter((i) => i.status !== "closed" && i.status !== "resolved")
      .sort((a, b) => (b.createdAt ?? 0) - (a.createdAt ?? 0));
    this.incidentList.replaceChildren(...open.map((incident) => {
      const li = el("li", `dispatch-incident severity-${incident.severity ?? 3}`, { "data-incident-id": incident.id });
      const text = el("div", "dispatch-incident-text");
      text.append(el("strong", "", {}, incident.title));
      const meta = [incident.category, this.i18n.t(`dispatch.incidentStatus.${incident.status}`), `${incident.taskIds.length} ${this.i18n.t("dispatch.tasksShort")}`];
      text.append(el("span", "dispatch-incident-meta", {}, meta.filter(Boolean).join(" · ")));
      const task = el("button", "", { type: "button", "data-action": "task-from-incident" }, this.i18n.t("dispatch.taskFromIncident"));
      task.addEventListener("click", () => this.guard(() => this.taskFromIncident(incident.id)));
      li.append(text, task);
      return li;
    }));
    if (!open.length) this.incidentList.append(el("li", "dispatch-empty", {}, this.i18n.t("dispatch.noIncidents")));
  }

  /** Nothing is possible before the dispatch data loaded: say why instead. */
  async guard(fn) {
    if (this.state !== "ready") {
      this.notify(this.i18n.t("dispatch.unavailable", { reason: this.problem || this.i18n.t("dispatch.loading") }), "warning");
      return;
    }
    try {
      await fn();
    } catch (err) {
      this.notify(this.i18n.t("dispatch.failed", { reason: err.message }), "error");
    }
  }

  // --- loading and live events
  /** After each `joined`: the room (for snapshots and minutes), then the data once, if the
   * wall does dispatch (a dispatch token, or the panel was opened): a wall that only watches
   * feeds makes no operator token. */
  async joined(roomId, restToken) {
    this.roomId = roomId;
    this.restToken = restToken;
    if (this.state === "idle" && (this.wanted || this.token)) await this.start();
  }

  want() {
    this.wanted = true;
    if (this.state === "idle" && this.roomId) this.start();
  }

  async start() {
    this.state = "loading";
    this.renderStatus();
    try {
      if (!this.token) {
        this.token = (await this.api.operatorToken(this.operator || "wall")).token;
        this.minted = true;
      }
      const me = await this.api.me();
      if (me.role !== "operator") throw Object.assign(new Error(this.i18n.t("dispatch.notOperator")), { code: "forbidden" });
      storageSet(sessionStorage, TOKEN_KEY, this.token);
      await this.reload();
      this.state = "ready";
      this.problem = null;
      this.live.subscribe();
    } catch (err) {
      this.unavailable(err.code, err.message);
    }
    this.renderStatus();
  }

  unavailable(code, message) {
    this.state = "unavailable";
    this.problem = message || code;
    this.renderStatus();
    // A wall runs for days, longer than an operator token lives: a token we made (or one kept
    // from an earlier load of this tab) is made again, at most once a minute.
    const renewable = this.minted || storageGet(sessionStorage, TOKEN_KEY) === this.token;
    if (renewable && (code === "token_expired" || code === "auth_failed") && !this.renewTimer) {
      this.renewTimer = setTimeout(() => {
        this.renewTimer = null;
        this.token = null;
        this.state = "idle";
        this.start();
      }, Date.now() - (this.renewedAt || 0) > 60000 ? 0 : 60000);
      this.renewedAt = Date.now();
    }
  }

  /** Everything from REST: at start and after every (re)subscription, which may follow an outage. */
  async reload() {
    const askedAt = Date.now();
    const [clock, units, members, incidents, tasks] = await Promise.all([
      this.api.clock(), this.api.units(), this.api.members(), this.api.incidents("?limit=200"), this.api.tasks(`?limit=${TASKS_LOADED}`),
    ]);
    this.model.setServerNow(clock.now);
    this.model.load("units", units, askedAt);
    this.model.load("members", members, askedAt);
    this.model.load("incidents", incidents, askedAt);
    this.model.load("tasks", tasks, askedAt);
  }

  subscribed(msg) {
    this.model.setServerNow(msg.now);
    for (const task of msg.tasks || []) this.model.put("tasks", taskRecord(task));
    if (this.state === "ready") this.reload().catch((err) => console.warn("dispatch: reload failed", err.message));
  }

  event(msg) {
    switch (msg.type) {
      case "dispatch_task":
        this.model.put("tasks", taskRecord(msg.task));
        if (msg.action === "overdue") this.noticeOnce(`overdue:${msg.task.task_id}`, this.i18n.t("dispatch.overdueNotice", { title: msg.task.title }), "error");
        else if (msg.action === "transition" && msg.task.status === "rejected") {
          this.notify(this.i18n.t("dispatch.rejectedNotice", { title: msg.task.title, reason: msg.task.reject_reason || "" }), "warning");
        }
        break;
      case "dispatch_incident":
        this.model.put("incidents", incidentRecord(msg.incident));
        break;
      case "dispatch_unit":
        if (msg.action === "deleted") this.model.remove("units", msg.unit.unit_id);
        else this.model.put("units", unitRecord(msg.unit));
        break;
      case "dispatch_member":
        if (msg.action === "deleted") this.model.remove("members", msg.member.member_id);
        else this.model.put("members", memberRecord(msg.member));
        break;
      case "dispatch_reminder":
        if (msg.task) {
          this.model.put("tasks", taskRecord(msg.task));
          // The overdue reminder comes with a dispatch_task "overdue": one notice for both.
          const overdue = msg.kind === "overdue";
          this.noticeOnce(`${overdue ? "overdue" : "due"}:${msg.task.task_id}`,
            this.i18n.t(overdue ? "dispatch.overdueNotice" : "dispatch.reminder.dueSoon", { title: msg.task.title }), overdue ? "error" : "warning");
        }
        break;
      case "dispatch_alert":
        this.notify(this.i18n.t("dispatch.alertNotice", { text: msg.alert.text }), msg.alert.level === "critical" ? "error" : "warning");
        break;
      case "dispatch_clock":
        this.model.setServerNow(msg.now);
        this.board.render();
        break;
      default:
        break;
    }
  }

  noticeOnce(key, text, kind) {
    this.noticed ??= new Set();
    if (this.noticed.has(key)) return;
    this.noticed.add(key);
    this.notify(text, kind);
  }

  // --- creating
  async newTask(prefill = {}, extra = {}, preview = null) {
    const fields = taskFields(this.model, this.i18n, prefill);
    return openForm(this.host, this.i18n, {
      id: "dispatch-task-form", title: this.i18n.t("dispatch.newTask"), fields, preview,
      submitLabel: this.i18n.t("dispatch.dispatch"),
      submit: async (values, clientId) => {
        const task = await this.api.createTask({
          title: values.title, details: values.details || undefined, priority: values.priority,
          assignee: assigneeBody(parseAssignee(values.assignee)), deadline_in_s: Math.round((values.deadline_min || 30) * 60), ...extra,
        }, clientId).catch(explain(this.i18n));
        this.model.put("tasks", task);
        this.notify(this.i18n.t("dispatch.dispatched", { title: task.title, who: this.model.assigneeName(task) }), "info");
        return task;
      },
    });
  }

  taskFromIncident(incidentId) {
    const incident = this.model.incidents.get(incidentId);
    if (!incident) return null;
    const photo = incident.photos.map((p) => p.url).find(Boolean);
    return this.newTask({ title: incident.title, details: incident.notes[0]?.text || "" },
      { incident_id: incident.id, source: { kind: "incident", incident_id: incident.id } },
      photo ? photoPreview(photo, incident.title) : null);
  }

  /** Pick a video on the wall, take a snapshot of it, dispatch with the snapshot attached. */
  async taskFromSnapshot() {
    const units = [...this.wallBoard().units().values()].filter((u) => u.trackId);
    const pick = await pickOne(this.host, this.i18n, {
      id: "dispatch-snapshot-pick", title: this.i18n.t("dispatch.pickFeed"), empty: this.i18n.t("dispatch.noFeeds"),
      items: units.map((u) => ({ label: u.name || u.participantId, detail: this.i18n.t(`dispatch.sourceKind.${u.source}`), value: u })),
    });
    if (!pick) return null;
    const snapshot = await this.snapshot(pick);
    const preview = snapshot.url ? photoPreview(snapshot.url, pick.name || "") : null;
    return this.newTask({ title: this.i18n.t("dispatch.snapshotTitle", { name: pick.name || pick.participantId }) },
      { source: { kind: "snapshot", room_id: this.roomId, snapshot_id: snapshot.snapshot_id } }, preview);
  }

  /** POST /api/rooms/{room}/snapshots (whiteboard/): a JPEG of one video, kept by the server.
   * It needs a room token with `subscribe`, or the `joined` REST token of a wall that is in
   * the room with subscribe (a wall opened by share code); the picture needs the token too,
   * so the preview is fetched and shown from a blob. */
  async snapshot(unit) {
    const headers = { Authorization: `Bearer ${this.restToken}` };
    const response = await fetch(`/api/rooms/${encodeURIComponent(this.roomId)}/snapshots`, {
      method: "POST", headers: { ...headers, "Content-Type": "application/json" }, body: JSON.stringify({ track_id: unit.trackId }),
    });
    const json = await response.json().catch(() => ({}));
    if ((response.status === 404 || response.status === 405) && !json.error) throw new Error(this.i18n.t("dispatch.noSnapshots"));
    if (response.status === 403) throw new Error(this.i18n.t("dispatch.snapshotNeedsToken"));
    if (!response.ok) throw new Error(json.message || json.error || `HTTP ${response.status}`);
    const snapshot = json.snapshot || json;
    let url = null;
    if (snapshot.url) {
      const image = await fetch(snapshot.url, { headers }).catch(() => null);
      if (image?.ok) url = URL.createObjectURL(await image.blob());
    }
    return { snapshot_id: snapshot.snapshot_id, url };
  }

  /** The room's minutes action items (when the room has minutes) -> a task. */
  async taskFromMinutes() {
    const items = await this.actionItems();
    const pick = await pickOne(this.host, this.i18n, {
      id: "dispatch-minutes-pick", title: this.i18n.t("dispatch.pickActionItem"),
      empty: items === null ? this.i18n.t("dispatch.noMinutes") : this.i18n.t("dispatch.noActionItems"),
      items: (items || []).map((item) => ({ label: item.text, detail: [item.owner, item.due].filter(Boolean).join(" · "), value: item })),
    });
    if (!pick) return null;
    const details = [pick.owner ? `${this.i18n.t("dispatch.owner")}: ${pick.owner}` : "", pick.said && pick.said !== pick.text ? pick.said : ""];
    // The owner is a name in the minutes: preselect the member or unit of that name, if any.
    const member = [...this.model.members.values()].find((m) => m.name === pick.owner);
    const unit = [...this.model.units.values()].find((u) => u.name === pick.owner);
    const minutes = pick.deadline ? Math.round((pick.deadline - this.model.now()) / 60000) : 0;
    return this.newTask({
      title: pick.text.slice(0, 200), details: details.filter(Boolean).join("\n"),
      assignee: member ? `member:${member.id}` : unit ? `unit:${unit.id}` : "", deadlineMin: minutes > 0 ? minutes : undefined,
    }, { source: { kind: "minutes_action_item", room_id: this.roomId, item_id: pick.id } });
  }

  /** null when the room has no minutes (or the minutes service is not there). */
  async actionItems() {
    try {
      const response = await fetch(`/api/rooms/${encodeURIComponent(this.roomId)}/minutes`, { headers: { Authorization: `Bearer ${this.restToken}` } });
      if (!response.ok) return null;
      return parseActionItems(await response.json());
    } catch {
      return null;
    }
  }

  async newIncident(prefill = {}, extra = {}, preview = null) {
    return openForm(this.host, this.i18n, {
      id: "dispatch-incident-form", title: this.i18n.t("dispatch.newIncident"), fields: incidentFields(this.i18n, prefill), preview,
      submit: async (values, clientId) => {
        const body = {
          title: values.title, category: values.category || undefined, severity: { low: 1, medium: 3, high: 4, critical: 5 }[values.severity] ?? 3,
          note: values.notes || undefined, source: { kind: "wall", room_id: this.roomId }, ...extra,
        };
        if (Number.isFinite(values.lat) && Number.isFinite(values.lon)) body.location = { lat: values.lat, lon: values.lon };
        const incident = await this.api.createIncident(body, clientId).catch(explain(this.i18n));
        this.model.put("incidents", incident);
        this.notify(this.i18n.t("dispatch.incidentCreated", { title: incident.title }), "info");
        return incident;
      },
    });
  }

  /** The photo report dialog's "Create incident": its note, place and photo come along. */
  incidentFromReport(report) {
    return this.guard(() => this.newIncident(
      { title: (report.note || "").split("\n")[0].slice(0, 200) || this.i18n.t("dispatch.fieldReport"), notes: report.note || "",
        lat: Number.isFinite(report.lat) ? report.lat : "", lon: Number.isFinite(report.lon) ? report.lon : "" },
      { source: { kind: "report", room_id: report.room_id || this.roomId, report_id: report.report_id } },
      photoPreview(report.photo_url, report.name || ""),
    ));
  }

  sendAlert() {
    const fields = [...alertFields(this.model, this.i18n), { name: "level", kind: "select", label: this.i18n.t("dispatch.alert.level"), value: "warning",
      options: ["info", "warning", "critical"].map((l) => ({ value: l, label: this.i18n.t(`dispatch.alert.levels.${l}`) })) }];
    return openForm(this.host, this.i18n, {
      id: "dispatch-alert-form", title: this.i18n.t("dispatch.sendAlert"), fields, submitLabel: this.i18n.t("dispatch.alert.send"),
      submit: async (values, clientId) => {
        const alert = await this.api.alert({ text: values.text, level: values.level, unit_id: values.target || null }, clientId).catch(explain(this.i18n));
        this.notify(this.i18n.t("dispatch.alertSent", { who: values.target ? this.model.unitName(values.target) : this.i18n.t("dispatch.alert.allUnits") }), "info");
        return alert;
      },
    });
  }

  /** A phone link for a member: the room's field page with a fresh member token in its
   * fragment (a wall opened with a token has no share code: then only the part to append). */
  async memberLink() {
    const members = [...this.model.members.values()].sort((a, b) => String(a.name).localeCompare(String(b.name)));
    const member = await pickOne(this.host, this.i18n, {
      id: "dispatch-member-pick", title: this.i18n.t("dispatch.memberLink"), empty: this.i18n.t("dispatch.noMembers"),
      items: members.map((m) => ({ label: m.name, detail: [m.role, this.model.unitName(m.unitId)].filter(Boolean).join(" · "), value: m })),
    });
    if (!member) return null;
    const minted = await this.api.write("POST", `/members/${encodeURIComponent(member.id)}/token`, {});
    const fragment = `#dispatch=${minted.token}`;
    const link = this.shareCode ? `${window.location.origin}/f/${encodeURIComponent(this.shareCode)}${fragment}` : fragment;
    const preview = el("div", "stack");
    preview.append(el("p", "", {}, this.i18n.t(this.shareCode ? "dispatch.memberLinkHelp" : "dispatch.memberLinkAppend", { name: member.name })));
    return openForm(this.host, this.i18n, {
      id: "dispatch-member-link-dialog", title: member.name, preview,
      fields: [{ name: "link", kind: "text", label: this.i18n.t("dispatch.link"), value: link }],
      submitLabel: this.i18n.t("dispatch.copy"),
      submit: async () => {
        await navigator.clipboard.writeText(link);
        this.notify(this.i18n.t("dispatch.copied"), "info");
        return link;
      },
    });
  }

  /** The detail dialog's operator actions. */
  async act(task, action, values) {
    let answer;
    if (action === "verify") answer = await this.api.transition(task.id, { status: "verified" });
    else if (action === "close") answer = await this.api.transition(task.id, { status: "closed", score: values.score, reason: task.status === "rejected" ? "closed" : undefined });
    else if (action === "reassign") {
      const raw = await this.api.write("POST", `/tasks/${encodeURIComponent(task.id)}/reassign`, { assignee: assigneeBody(parseAssignee(values.assignee)) });
      answer = { task: taskRecord(raw.task) };
    }
    if (answer?.task) this.model.put("tasks", answer.task);
    return answer?.task;
  }

  // --- the map
  /** The map's markers plus incidents with a place and units: a person on the wall who is one
   * of a unit's members gets the unit's name on their marker; a unit with nobody on the wall
   * is shown where its last feedback came from. */
  markers(wallUnits, markers) {
    const placed = new Set();
    for (const marker of markers) {
      if (marker.kind !== "person") continue;
      const member = [...this.model.members.values()].find((m) => m.identity === marker.id || m.name === marker.name);
      if (!member?.unitId || !this.model.units.has(member.unitId)) continue;
      marker.name = `${marker.name} · ${this.model.unitName(member.unitId)}`;
      placed.add(member.unitId);
    }
    for (const incident of this.model.incidents.values()) {
      if (!incident.location || incident.status === "closed") continue;
      markers.push({ id: incident.id, key: null, name: incident.title, lat: incident.location.lat, lon: incident.location.lon, kind: "incident",
        onPick: () => this.guard(() => this.taskFromIncident(incident.id)) });
    }
    for (const unit of this.model.units.values()) {
      if (placed.has(unit.id)) continue;
      const where = this.unitPosition(unit, wallUnits);
      if (where) markers.push({ id: unit.id, key: where.key ?? null, name: unit.name, lat: where.lat, lon: where.lon, kind: "unit" });
    }
    return markers;
  }

  unitPosition(unit, wallUnits) {
    const members = [...this.model.members.values()].filter((m) => m.unitId === unit.id);
    for (const wallUnit of wallUnits?.values() || []) {
      if (!wallUnit.location) continue;
      const member = members.find((m) => m.identity === wallUnit.participantId || m.name === wallUnit.name);
      if (member) return { lat: Number(wallUnit.location.lat), lon: Number(wallUnit.location.lon), key: wallUnit.key };
    }
    let latest = null;
    for (const task of this.model.tasks.values()) {
      if (task.assignee.unitId !== unit.id) continue;
      for (const entry of task.feedback) {
        if (entry.location && Number.isFinite(entry.location.lat) && (!latest || entry.at > latest.at)) latest = { ...entry.location, at: entry.at };
      }
    }
    return latest;
  }

  describe() {
    return {
      state: this.state, problem: this.problem, subscribed: this.live.subscribed, events: this.live.events,
      tasks: this.board.describe(), incidents: [...this.model.incidents.values()].map((i) => ({ id: i.id, title: i.title, status: i.status })),
      units: [...this.model.units.values()].map((u) => ({ id: u.id, name: u.name })),
    };
  }
}

function assigneeBody(assignee) {
  if (!assignee) return {};
  return assignee.kind === "member" ? { member_id: assignee.id } : { unit_id: assignee.id };
}

/** A refused write becomes an error the dialog can show in the operator's language. */
function explain(i18n) {
  return (err) => {
    const key = `dispatch.errors.${err.code}`;
    const text = i18n.t(key);
    throw Object.assign(new Error(text === key ? err.message : `${text} (${err.message})`), { code: err.code });
  };
}

/** Minutes JSON (`GET /api/rooms/{room}/minutes`: the published minutes, or the draft for a
 * token with `admin`) -> [{id, text, said, owner, due (text), deadline (ms or null)}]; other
 * field names are tried too, so a change of shape there does not blank the list. */
export function parseActionItems(body) {
  const nested = body?.minutes;
  const minutes = nested && typeof nested === "object" && !Array.isArray(nested) ? nested : body;
  const list = minutes?.action_items ?? minutes?.actions ?? minutes?.items ?? [];
  if (!Array.isArray(list)) return [];
  return list.map((item, index) => {
    if (typeof item === "string") return { id: `a${index + 1}`, text: item, said: "", owner: "", due: "", deadline: null };
    const deadline = Date.parse(item.deadline ?? "");
    return {
      id: String(item.id ?? item.item_id ?? `a${index + 1}`).slice(0, 64),
      text: String(item.what || item.text || item.title || item.task || ""), said: String(item.text || ""),
      owner: String(item.owner || item.assignee || ""), due: String(item.deadline_text || item.deadline_date || ""),
      deadline: Number.isFinite(deadline) ? deadline : null,
    };
  }).filter((item) => item.text);
}
