// /minutes/<room_id>: the minutes of one meeting (docs/API.md "Transcripts and minutes").
// The REST token comes as a #token= fragment (moved into this tab's sessionStorage) or is
// pasted in. Hosts (admin grant) see the draft, edit, regenerate and publish; everyone else
// reads published minutes. Every time stamp plays the recording from that second when the
// token may fetch it (record grant), else scrolls the transcript there.
import { I18n } from "./i18n.js";
import { storageGet, storageSet } from "./storage.js";

const i18n = new I18n();
const $ = (sel) => document.querySelector(sel);
const roomId = decodeURIComponent(location.pathname.split("/").filter(Boolean)[1] || "");
const TOKEN_KEY = `commandpost.minutes.${roomId}`;
const page = { minutes: null, token: null, grants: [], editing: false, state: "loading", playerSrc: null };

function readToken() {
  const fragment = new URLSearchParams(location.hash.slice(1));
  const token = fragment.get("token");
  if (token) {
    storageSet(sessionStorage, TOKEN_KEY, token);
    fragment.delete("token");  // out of the address bar; a #t= stays
    const rest = fragment.toString();
    history.replaceState(null, "", location.pathname + location.search + (rest ? `#${rest}` : ""));
    return token;
  }
  return storageGet(sessionStorage, TOKEN_KEY);
}

function grantsOf(token) {
  try {
    const body = token.split(".")[1].replace(/-/g, "+").replace(/_/g, "/");
    return JSON.parse(decodeURIComponent(escape(atob(body)))).grants || [];
  } catch {
    return [];
  }
}

async function api(method, path, body) {
  const headers = { Authorization: `Bearer ${page.token}` };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const response = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  return response;
}

async function apiJson(method, path, body) {
  const response = await api(method, path, body);
  const data = await response.json().catch(() => ({}));
  if (!response.ok) {
    const err = new Error(data.message || response.statusText);
    err.status = response.status;
    throw err;
  }
  return data;
}

function message(key, params = {}) {
  const box = $("#min-message");
  box.hidden = !key;
  box.textContent = key ? i18n.t(key, params) : "";
}

function setState(state) {
  page.state = state;
  $("#min-state").textContent = state === "draft" || state === "published" ? i18n.t(`min.state.${state}`) : "";
}

function timeButton(item) {
  const button = document.createElement("button");
  button.type = "button";
  button.className = "min-time";
  button.textContent = item.t || "";
  button.dataset.startMs = item.start_ms ?? 0;
  if (item.recording_s !== undefined) button.dataset.second = item.recording_s;
  button.dataset.segment = item.segment_id || "";
  button.title = i18n.t("min.jump");
  button.addEventListener("click", () => jump(button.dataset));
  return button;
}

function textSpan(text, field) {
  const span = document.createElement("span");
  span.textContent = text || "";
  span.dataset.field = field;
  return span;
}

function listItems(list, items, fields) {
  list.replaceChildren(...items.map((item) => {
    const li = document.createElement("li");
    li.dataset.id = item.id;
    li.append(timeButton(item));
    if (item.speaker) li.append(Object.assign(document.createElement("span"), { className: "min-speaker", textContent: item.speaker }));
    for (const field of fields) li.append(textSpan(item[field], field));
    return li;
  }));
}

function renderActions(items) {
  $("#min-actions").replaceChildren(...items.map((item) => {
    const tr = document.createElement("tr");
    tr.dataset.id = item.id;
    const cell = (node) => { const td = document.createElement("td"); td.append(node); tr.append(td); return td; };
    cell(textSpan(item.owner || i18n.t("min.unassigned"), "owner"));
    cell(textSpan(item.what, "what"));
    const due = textSpan(item.deadline ? (item.deadline_has_time ? item.deadline.replace("T", " ").slice(0, 16) : item.deadline_date) : "", "deadline");
    const dueCell = cell(due);
    if (item.deadline_text) dueCell.append(Object.assign(document.createElement("div"), { className: "min-said", textContent: `“${item.deadline_text}”` }));
    const said = cell(timeButton(item));
    said.append(Object.assign(document.createElement("div"), { className: "min-said", textContent: item.text || "" }));
    return tr;
  }));
}

function renderTranscript(segments) {
  $("#min-transcript").replaceChildren(...segments.map((seg) => {
    const li = document.createElement("li");
    li.dataset.segment = seg.id;
    li.dataset.text = (seg.text || "").toLowerCase();
    const item = { t: clock(seg.start_ms), start_ms: seg.start_ms, segment_id: seg.id };
    if (page.minutes.recording) item.recording_s = Math.floor(seg.start_ms / 1000 + Number(page.minutes.recording.offset_s || 0));
    li.append(timeButton(item), Object.assign(document.createElement("span"), { className: "min-speaker", textContent: seg.speaker }),
      Object.assign(document.createElement("span"), { className: "min-text", textContent: seg.text }));
    return li;
  }));
}

function clock(ms) {
  const s = Math.floor((ms || 0) / 1000);
  return [Math.floor(s / 3600), Math.floor(s / 60) % 60, s % 60].map((n) => String(n).padStart(2, "0")).join(":");
}

function render(minutes) {
  page.minutes = minutes;
  $("#min-main").hidden = false;
  $("#min-title").textContent = minutes.title || "";
  const minutesLong = Math.round((minutes.duration_s || 0) / 60);
  $("#min-when").textContent = i18n.t("min.when", { start: (minutes.started_at || "").replace("T", " ").slice(0, 16), minutes: minutesLong });
  $("#min-attendees").textContent = (minutes.attendees || []).map((a) => a.name).join(i18n.t("min.separator"));
  $("#min-keywords").textContent = (minutes.keywords || []).map((k) => k.word).join(i18n.t("min.separator"));
  listItems($("#min-summary"), minutes.summary || [], ["text"]);
  listItems($("#min-decisions"), minutes.decisions || [], ["text"]);
  listItems($("#min-chapters"), minutes.chapters || [], ["title"]);
  renderActions(minutes.action_items || []);
  renderTranscript(minutes.transcript || []);
  setState(minutes.status);
  filterTranscript();
}

async function load() {
  try {
    render(await apiJson("GET", `/api/rooms/${encodeURIComponent(roomId)}/minutes`));
    message(null);
    await loadRecording();
  } catch (err) {
    if (err.status === 404) {
      setState("none");
      message(page.grants.includes("admin") ? "min.noneHost" : "min.notPublished");
    } else if (err.status === 401 || err.status === 403) {
      message("min.denied", { reason: err.message });
      showTokenForm();
    } else {
      message("min.failed", { reason: err.message });
    }
  }
}

async function loadRecording() {
  const rec = page.minutes && page.minutes.recording;
  $("#min-player-box").hidden = !rec;
  if (!rec) return;
  const note = $("#min-player-note");
  if (!page.grants.includes("record")) {
    note.hidden = false;
    note.textContent = i18n.t("min.recordingNeedsGrant");
    return;
  }
  try {
    const info = await apiJson("GET", rec.api);
    const files = info.files || [];
    const pick = files.find((f) => /\.mp4$/.test(f.name)) || files.find((f) => f.kind === "video") || files[0];
    if (!pick) throw new Error(i18n.t("min.noRecordingFile"));
    // <video> cannot send the bearer token: fetch the file and play it from memory.
    const response = await api("GET", `${rec.api}/files/${encodeURIComponent(pick.name)}`);
    if (!response.ok) throw new Error(response.statusText);
    page.playerSrc = URL.createObjectURL(await response.blob());
    $("#min-player").src = page.playerSrc;
    const hash = new URLSearchParams(location.hash.slice(1));
    if (hash.get("t")) jump({ second: hash.get("t") });
  } catch (err) {
    note.hidden = false;
    note.textContent = i18n.t("min.recordingFailed", { reason: err.message });
  }
}

function jump(where) {
  const player = $("#min-player");
  if (page.playerSrc && where.second !== undefined) {
    player.currentTime = Number(where.second);
    player.play().catch(() => {});
  }
  const row = where.segment && document.querySelector(`#min-transcript li[data-segment="${CSS.escape(where.segment)}"]`);
  for (const li of document.querySelectorAll("#min-transcript li.min-current")) li.classList.remove("min-current");
  if (row) {
    row.classList.add("min-current");
    row.scrollIntoView({ block: "center" });
  }
}

function filterTranscript(serverHits = null) {
  const words = $("#min-search").value.trim().toLowerCase().split(/\s+/).filter(Boolean);
  let shown = 0;
  for (const li of document.querySelectorAll("#min-transcript li")) {
    const hit = serverHits ? serverHits.has(li.dataset.segment)
      : words.every((w) => li.dataset.text.includes(w) || li.dataset.text.replace(/\s+/g, "").includes(w));
    li.classList.toggle("min-hidden", !hit);
    shown += hit ? 1 : 0;
  }
  $("#min-search-count").textContent = words.length ? i18n.t("min.found", { count: shown }) : "";
}

async function searchServer(event) {
  event.preventDefault();
  const q = $("#min-search").value.trim();
  if (!q) return filterTranscript();
  try {
    const data = await apiJson("GET", `/api/search?q=${encodeURIComponent(q)}&room_id=${encodeURIComponent(roomId)}`);
    filterTranscript(new Set((data.results || []).map((r) => r.segment_id || r.id)));
  } catch (err) {
    message("min.failed", { reason: err.message });
  }
}

function setEditing(on) {
  page.editing = on;
  for (const el of document.querySelectorAll("#min-title, #min-decisions [data-field], #min-actions [data-field], #min-chapters [data-field]")) {
    el.contentEditable = on ? "true" : "false";
  }
  $("#min-edit").hidden = on;
  $("#min-save").hidden = !on;
}

function collectEdit() {
  const m = page.minutes;
  const byId = (items) => Object.fromEntries((items || []).map((x) => [x.id, x]));
  const read = (root, field) => (root.querySelector(`[data-field="${field}"]`)?.textContent || "").trim();
  const decisions = byId(m.decisions);
  const actions = byId(m.action_items);
  const chapters = byId(m.chapters);
  return {
    title: $("#min-title").textContent.trim(),
    decisions: [...document.querySelectorAll("#min-decisions li")].map((li) => ({ ...decisions[li.dataset.id], text: read(li, "text") })).filter((d) => d.text),
    chapters: [...document.querySelectorAll("#min-chapters li")].map((li) => ({ ...chapters[li.dataset.id], title: read(li, "title") })).filter((c) => c.title),
    action_items: [...document.querySelectorAll("#min-actions tr")].map((tr) => {
      const old = actions[tr.dataset.id];
      const owner = read(tr, "owner");
      const due = read(tr, "deadline");
      return { ...old, owner: owner && owner !== i18n.t("min.unassigned") ? owner : null, what: read(tr, "what"),
        deadline: due ? due.replace(" ", "T") : null };
    }).filter((a) => a.what),
  };
}

async function hostAction(kind) {
  const base = `/api/rooms/${encodeURIComponent(roomId)}/minutes`;
  try {
    if (kind === "save") {
      render(await apiJson("PUT", base, collectEdit()));
      setEditing(false);
      message("min.saved");
    } else if (kind === "publish") {
      render(await apiJson("POST", `${base}/publish`));
      message("min.publishedNote");
    } else if (kind === "regenerate") {
      render(await apiJson("POST", base));
      message("min.regenerated");
    }
  } catch (err) {
    message("min.failed", { reason: err.message });
  }
}

async function download(format) {
  const response = await api("GET", `/api/rooms/${encodeURIComponent(roomId)}/minutes?format=${format}`);
  if (!response.ok) return message("min.failed", { reason: response.statusText });
  const link = Object.assign(document.createElement("a"), { href: URL.createObjectURL(await response.blob()), download: `minutes-${roomId}.${format}` });
  link.click();
  setTimeout(() => URL.revokeObjectURL(link.href), 10000);
}

function showTokenForm() {
  $("#min-token-form").hidden = false;
}

function start(token) {
  page.token = token;
  page.grants = grantsOf(token);
  $("#min-token-form").hidden = true;
  $("#min-host").hidden = !page.grants.includes("admin");
  load();
}

i18n.apply();
i18n.bindSwitch($("#lang-switch"));
i18n.onChange(() => { if (page.minutes) render(page.minutes); });
$("#min-search").addEventListener("input", () => filterTranscript());
$("#min-search-form").addEventListener("submit", searchServer);
$("#min-edit").addEventListener("click", () => setEditing(true));
$("#min-save").addEventListener("click", () => hostAction("save"));
$("#min-publish").addEventListener("click", () => hostAction("publish"));
$("#min-regenerate").addEventListener("click", () => hostAction("regenerate"));
for (const button of document.querySelectorAll(".min-downloads button")) button.addEventListener("click", () => download(button.dataset.format));
$("#min-token-form").addEventListener("submit", (event) => {
  event.preventDefault();
  const token = $("#min-token").value.trim();
  storageSet(sessionStorage, TOKEN_KEY, token);
  start(token);
});

// For the end-to-end tests.
window.commandpost = {
  state: () => page.state,
  minutes: () => page.minutes,
  playerTime: () => $("#min-player").currentTime,
  playerReady: () => Boolean(page.playerSrc) && $("#min-player").readyState >= 1,
  visibleSegments: () => [...document.querySelectorAll("#min-transcript li:not(.min-hidden)")].map((li) => li.dataset.segment),
};

const token = readToken();
if (token) start(token);
else showTokenForm();
