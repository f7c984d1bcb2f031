// The dispatch REST API (docs/API.md "Dispatch") for the wall and the field page, and the
// translation of its JSON into the records DispatchModel holds (ids under `id`, times in
// milliseconds on this browser's clock). Every write carries a client id (`client_id` in
// the body, `Idempotency-Key` for raw photo uploads), so retrying one is always safe.
import { newClientId, SendError } from "./offline-queue.js";

const BASE = "/api/dispatch";
const RETRY_STATUSES = new Set([408, 425, 429, 500, 502, 503, 504]);

const ms = (seconds) => (Number.isFinite(seconds) ? seconds * 1000 : null);

/** Server task JSON -> the model's task (its raw fields are kept under `raw`). */
export function taskRecord(t) {
  const assignee = t.assignee || {};
  return {
    id: t.task_id, title: t.title, details: t.details || "", priority: t.priority || "normal",
    deadline: ms(t.deadline), status: t.status, overdue: Boolean(t.overdue), escalated: Boolean(t.escalated),
    assignee: assignee.member_id ? { kind: "member", id: assignee.member_id, unitId: assignee.unit_id || null }
      : { kind: "unit", id: assignee.unit_id || null, unitId: assignee.unit_id || null },
    incidentId: t.incident_id || null, source: t.source || null, reason: t.reject_reason || null, score: t.score ?? null,
    feedback: t.feedback || [], assignments: t.assignments ?? 1, createdBy: t.created_by || "", createdAt: ms(t.created_at), updatedAt: ms(t.updated_at),
    version: t.version,
  };
}

export function incidentRecord(i) {
  return {
    id: i.incident_id, title: i.title, category: i.category || "", severity: i.severity ?? null, status: i.status,
    location: i.location && Number.isFinite(i.location.lat) ? i.location : null, photos: i.photos || [],
    notes: i.notes || [], source: i.source || null, taskIds: i.task_ids || [], reporter: i.reporter || null,
    createdAt: ms(i.created_at), updatedAt: ms(i.updated_at), version: i.version,
  };
}

export function unitRecord(u) {
  return { id: u.unit_id, name: u.name, kind: u.kind, supervisorId: u.supervisor_id || null, version: u.version };
}

export function memberRecord(m) {
  return { id: m.member_id, name: m.name, role: m.role || "", unitId: m.unit_id || null, identity: m.identity || null, version: m.version };
}

/** A photo of a feedback entry or an incident: an id, or an object with a url. */
export function photoUrl(photo) {
  if (typeof photo === "string") return `${BASE}/photos/${encodeURIComponent(photo)}`;
  return photo?.url || (photo?.photo_id ? `${BASE}/photos/${encodeURIComponent(photo.photo_id)}` : null);
}

export class ApiError extends Error {
  constructor(status, body) {
    super(body?.message || body?.error || `HTTP ${status}`);
    this.status = status;
    this.code = body?.error || `http_${status}`;
    this.body = body || {};
  }
}

export class DispatchApi {
  /** token(): the dispatch credential (operator or member token). */
  constructor(token) {
    this.token = token;
  }

  async request(method, path, { body = null, raw = null, contentType = null, clientId = null } = {}) {
    const token = this.token();
    const headers = token ? { Authorization: `Bearer ${token}` } : {};
    let payload = null;
    if (raw) {
      payload = raw;
      headers["Content-Type"] = contentType || raw.type || "application/octet-stream";
      if (clientId) headers["Idempotency-Key"] = clientId;
    } else if (body) {
      payload = JSON.stringify(body);
      headers["Content-Type"] = "application/json";
    }
    const response = await fetch(`${BASE}${path}`, { method, headers, body: payload });
    const json = await response.json().catch(() => ({}));
    if (!response.ok) throw new ApiError(response.status, json);
    return json;
  }

  get(path) {
    return this.request("GET", path);
  }

  /** A write with a fresh client id unless the caller has one (a retry must reuse it). */
  write(method, path, body, clientId = newClientId()) {
    return this.request(method, path, { body: { ...body, client_id: clientId } });
  }

  me() {
    return this.get("/me");
  }

  async units() {
    return ((await this.get("/units")).units || []).map(unitRecord);
  }

  async members() {
    return ((await this.get("/members")).members || []).map(memberRecord);
  }

  async tasks(query = "") {
    return ((await this.get(`/tasks${query}`)).tasks || []).map(taskRecord);
  }

  async task(id) {
    return taskRecord(await this.get(`/tasks/${encodeURIComponent(id)}`));
  }

  async incidents(query = "") {
    return ((await this.get(`/incidents${query}`)).incidents || []).map(incidentRecord);
  }

  async audit(entityId) {
    return (await this.get(`/audit/${encodeURIComponent(entityId)}`)).entries || [];
  }

  async clock() {
    return this.get("/clock");
  }

  async createTask(body, clientId) {
    return taskRecord(await this.write("POST", "/tasks", body, clientId));
  }

  async createIncident(body, clientId) {
    return incidentRecord(await this.write("POST", "/incidents", body, clientId));
  }

  async transition(taskId, body, clientId) {
    const answer = await this.write("POST", `/tasks/${encodeURIComponent(taskId)}/transition`, body, clientId);
    return { applied: answer.applied !== false, task: answer.task ? taskRecord(answer.task) : null };
  }

  async alert(body, clientId) {
    return this.write("POST", "/alerts", body, clientId);
  }

  /** A photo as raw bytes; the same client id gives the same photo id on a retry. */
  async uploadPhoto(blob, clientId) {
    return this.request("POST", "/photos", { raw: blob, contentType: blob.type || "image/jpeg", clientId });
  }

  async operatorToken(name) {
    return this.write("POST", "/operator-token", { name });
  }
}

/** A data: URL (a queued photo) back to a Blob for the upload. */
export function dataUrlBlob(dataUrl) {
  const [head, data] = dataUrl.split(",", 2);
  const type = head.match(/^data:([^;]+)/)?.[1] || "image/jpeg";
  const bytes = Uint8Array.from(atob(data), (c) => c.charCodeAt(0));
  return new Blob([bytes], { type });
}

/** The offline queue's sender for a task update: upload the photo (if any), then the
 * transition, both under ids derived from the entry's, so a retry repeats neither. A network
 * failure or a 5xx may succeed later; any other refusal never will. */
export function taskUpdateSender(api) {
  return async (entry) => {
    try {
      const photos = [];
      if (entry.photo) photos.push((await api.uploadPhoto(dataUrlBlob(entry.photo), `${entry.id}-photo`)).photo_id);
      const body = { status: entry.status, photos };
      if (entry.status === "rejected") body.reason = entry.note;
      else if (entry.note) body.text = entry.note;
      if (entry.location) body.location = entry.location;
      return await api.transition(entry.taskId, body, entry.id);
    } catch (err) {
      if (err instanceof ApiError) {
        const refusal = new SendError(err.code, err.message, { retry: RETRY_STATUSES.has(err.status), status: err.status });
        refusal.body = err.body; // a conflict carries the task as it is now
        throw refusal;
      }
      throw new SendError("network", err.message, { retry: true });
    }
  };
}
