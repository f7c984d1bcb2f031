// Entry point of /wall/<share code> (or /wall?token=...): the command wall for large
// screens. The operator names themself once (remembered), the wall joins without
// publishing, and their layout is restored from the server or this browser.
import { withDispatch } from "./dispatch-live.js";
import { readDispatchToken, WallDispatch } from "./dispatch-wall.js";
import { I18n } from "./i18n.js";
import { storageGet, storageSet } from "./storage.js";
import { Toasts } from "./toast.js";
import { WallBoard } from "./wall-board.js";
import { WallLayout } from "./wall-layout.js";
import { WallMap } from "./wall-map.js";
import { WallReports } from "./wall-reports.js";
import { WallSession } from "./wall-session.js";
import { LayoutStore } from "./wall-store.js";
import { mountWallWhiteboard } from "./wb-mount.js";

const $ = (selector) => document.querySelector(selector);
const OPERATOR_KEY = "commandpost.wall.operator";
const TOKEN_KEY = "commandpost.wall.token";
const DEFAULT_SETTINGS = { map_tile_url: "", map_max_zoom: 18, map_attribution: "", frame_stale_s: 3 };
// Keyboard: digits pick the layout ("6" for 16), m toggles the map, Escape ends a spotlight.
const KEY_TILES = { 1: 1, 4: 4, 9: 9, 6: 16 };

/** Share code from the path; a token from ?token= or #token= (kept for reloads of this tab). */
export function readCredentials(loc = window.location) {
  const match = loc.pathname.match(/^\/wall\/([^/]+)\/?$/);
  const code = match ? decodeURIComponent(match[1]) : null;
  const query = new URLSearchParams(loc.search);
  const fragment = new URLSearchParams(loc.hash.replace(/^#/, ""));
  let token = fragment.get("token") || query.get("token");
  if (token) {
    storageSet(sessionStorage, TOKEN_KEY, token);
    query.delete("token");
    const search = query.toString();
    history.replaceState(null, "", loc.pathname + (search ? `?${search}` : ""));
  } else if (!code) {
    token = storageGet(sessionStorage, TOKEN_KEY);
  }
  return { code: token ? null : code, token: token || null, operator: query.get("operator") };
}

async function loadSettings() {
  try {
    const response = await fetch("/api/wall/config");
    if (response.ok) return { ...DEFAULT_SETTINGS, ...(await response.json()) };
  } catch {
    /* the defaults draw a coordinate map and still work */
  }
  return DEFAULT_SETTINGS;
}

class WallPage {
  constructor(i18n, credentials, settings, dispatchToken = null) {
    this.i18n = i18n;
    this.dispatchToken = dispatchToken;
    this.credentials = credentials;
    this.settings = settings;
    this.toasts = new Toasts($("#toasts"));
    this.session = null;
    this.board = null;
  }

  async start(operator) {
    this.operator = operator;
    show("wall");
    $("#wall-controls").hidden = false;
    $("#wall-operator").textContent = operator || "";
    this.store = new LayoutStore({ credentials: this.credentials, operator });
    const credentials = this.credentials.token ? { token: this.credentials.token } : { code: this.credentials.code };
    // Dispatch (dispatch-wall.js): the panel under the tiles; its live events ride our socket.
    this.dispatch = new WallDispatch($("#dispatch"), {
      i18n: this.i18n, token: this.dispatchToken, operator, shareCode: this.credentials.code, host: document.body, wallBoard: () => this.board,
      notify: (text, kind) => this.toasts.show(text, { kind, ms: kind === "error" ? 10000 : 6000 }),
      onMarkers: () => this.updateMarkers(),
    });
    this.dispatchShown = WallDispatch.remembered();
    if (this.dispatchShown) this.dispatch.want();
    const Session = withDispatch(WallSession, this.dispatch.live);
    this.session = new Session({
      joined: (msg) => this.onJoined(msg),
      tracks: (entries) => this.board.setTracks(entries),
      event: (msg) => this.onEvent(msg),
      state: () => this.renderStatus(),
      ended: (reason, err) => this.onEnded(reason, err),
    });
    this.board = new WallBoard($("#wall-tiles"), {
      i18n: this.i18n,
      layout: new WallLayout(),
      session: this.session,
      staleMs: this.settings.frame_stale_s * 1000,
      onLayoutChange: () => this.layoutChanged(),
      onUnitsChange: (units) => this.unitsChanged(units),
      onLost: (keys) => this.map?.markLost(keys),
    });
    this.map = new WallMap($("#wall-map"), {
      i18n: this.i18n,
      settings: this.settings,
      onPick: (key) => this.spotlight(key),
    });
    this.reports = new WallReports($("#wall-reports"), {
      i18n: this.i18n,
      dialog: $("#report-dialog"),
      onChange: () => this.updateMarkers(),
      notify: (text) => this.toasts.show(text, { kind: "warning", ms: 8000 }),
    });
    this.whiteboard = mountWallWhiteboard({
      i18n: this.i18n, tiles: $("#wall-tiles"), barBefore: $("#wall"), session: () => this.session,
      notify: (key, params, kind = "info") => this.toasts.show(this.i18n.t(key, params), { kind }),
      nameOf: (id) => this.board?.participants.get(id)?.name,
      joinToken: () => this.credentials.token,
    });
    Object.assign(window.commandpost, this.whiteboard.debug);
    this.bindControls();
    this.i18n.onChange(() => {
      this.board.retranslate();
      this.reports.render();
      this.map.render();
      this.renderStatus();
      this.dispatch.retranslate();
    });
    const name = operator ? this.i18n.t("wall.participantName", { name: operator }) : undefined;
    try {
      await this.session.start(credentials, name);
    } catch (err) {
      this.onEnded("failed", err);
    }
  }

  /** Every joined (a rejoin too) resets the board from the room's lists at once, since room
   * events may follow right behind it; the saved layout is applied when it has loaded. */
  onJoined(msg) {
    this.board.joined(msg);
    this.whiteboard.joined(msg, this.session.signaling);
    this.renderControls();
    // Reports sent while we were away are in the room's list; known ones are kept once.
    this.reports.load(msg.room_id, msg.token || this.credentials.token);
    // Snapshots need `subscribe`: a wall's own token has it, the `joined` REST token does not.
    this.dispatch.joined(msg.room_id, this.credentials.token || msg.token);
    if (this.layoutLoading) return;
    this.layoutLoading = this.store.load(msg.room_id).then((saved) => {
      if (saved) this.board.layout = saved;
      this.layoutReady = true;
      this.board.render();
      this.renderControls();
    });
  }

  onEvent(msg) {
    if (msg.type === "report") this.reports.add(msg.report);
    else if (msg.type === "bandwidth") {
      this.bandwidth = { estimateBps: msg.estimate_bps, videoPaused: Boolean(msg.video_paused) };
      this.board.videoPaused = this.bandwidth.videoPaused;
      this.board.tick();
      this.renderStatus();
    } else this.board.event(msg);
  }

  bindControls() {
    for (const button of document.querySelectorAll("[data-tiles]")) {
      button.addEventListener("click", () => this.setTiles(Number(button.dataset.tiles)));
    }
    $("#wall-map-toggle").addEventListener("click", () => this.toggleMap());
    $("#wall-unspotlight").addEventListener("click", () => this.spotlight(null));
    $("#wall-dispatch-toggle").addEventListener("click", () => this.toggleDispatch());
    $("#report-incident").addEventListener("click", () => {
      // The report shown in the dialog is the one whose photo it shows.
      const src = $("#report-dialog img").getAttribute("src");
      const report = this.reports.latest().find((r) => r.photo_url === src);
      $("#report-dialog").close();
      if (report) this.dispatch.incidentFromReport(report);
    });
    document.addEventListener("keydown", (event) => {
      if (event.ctrlKey || event.metaKey || event.altKey || event.target.closest?.("input, textarea, select")) return;
      if (event.key in KEY_TILES) this.setTiles(KEY_TILES[event.key]);
      else if (event.key === "m" || event.key === "M") this.toggleMap();
      else if (event.key === "Escape") this.spotlight(null);
      else if (event.key === "d" || event.key === "D") this.toggleDispatch();
      else return;
      event.preventDefault();
    });
  }

  setTiles(count) {
    if (this.board.layout.setTiles(count)) this.board.changed();
  }

  toggleMap() {
    this.board.layout.toggleMap();
    this.board.changed();
  }

  toggleDispatch() {
    this.dispatchShown = !this.dispatchShown;
    WallDispatch.remember(this.dispatchShown);
    if (this.dispatchShown) this.dispatch.want();
    this.renderControls();
  }

  spotlight(key) {
    if (this.board.layout.setSpotlight(key)) this.board.changed();
  }

  layoutChanged() {
    if (this.layoutReady) this.store.save(this.board.layout);
    this.renderControls();
  }

  renderControls() {
    const layout = this.board.layout;
    for (const button of document.querySelectorAll("[data-tiles]")) {
      button.setAttribute("aria-pressed", String(Number(button.dataset.tiles) === layout.tiles));
    }
    $("#wall-map-toggle").setAttribute("aria-pressed", String(layout.map));
    $("#wall-unspotlight").hidden = !layout.spotlight;
    $("#wall-dispatch-toggle").setAttribute("aria-pressed", String(Boolean(this.dispatchShown)));
    $("#dispatch").hidden = !this.dispatchShown || document.body.dataset.view !== "wall";
    const mapWasHidden = $("#wall-side").hidden;
    $("#wall-side").hidden = !layout.map;
    $("#wall").classList.toggle("with-map", layout.map);
    if (mapWasHidden && layout.map) this.map?.render();
  }

  unitsChanged(units) {
    this.units = units;
    this.updateMarkers();
    this.renderStatus();
  }

  /** People and feeds with a position, and reports that carry one. */
  updateMarkers() {
    const markers = [];
    const units = this.units || new Map();
    const seen = new Set();
    for (const unit of units.values()) {
      if (!unit.location || seen.has(unit.participantId)) continue;
      seen.add(unit.participantId);
      markers.push({
        id: unit.participantId, key: unit.key, name: unit.name || unit.participantId,
        lat: Number(unit.location.lat), lon: Number(unit.location.lon), kind: unit.feed || unit.source === "feed" ? "feed" : "person",
      });
    }
    for (const report of this.reports?.latest() || []) {
      if (!Number.isFinite(report.lat) || !Number.isFinite(report.lon)) continue;
      const unit = [...units.values()].find((u) => u.participantId === report.participant_id);
      markers.push({ id: report.report_id, key: unit?.key ?? null, name: report.note || report.name || "",
        lat: report.lat, lon: report.lon, kind: "report" });
    }
    this.map?.setMarkers(this.dispatch ? this.dispatch.markers(units, markers) : markers); // + incidents and units
  }

  renderStatus() {
    const state = this.session?.state;
    const key = { joining: "wall.connecting", reconnecting: "wall.reconnecting" }[state];
    let text = key ? this.i18n.t(key) : state === "joined" ? this.i18n.t("wall.sources", { count: this.board?.tiles.size ?? 0 }) : "";
    // The server paused our video (bwe): say so, or the red tiles would look like lost feeds.
    if (state === "joined" && this.bandwidth?.videoPaused) text += ` · ${this.i18n.t("wall.videoPaused")}`;
    $("#wall-status").textContent = text;
  }

  onEnded(reason, err) {
    show("ended");
    $("#ended-title").textContent = this.i18n.t(`wall.ended.${reason}`);
    $("#ended-detail").hidden = !err;
    if (err) $("#ended-detail").textContent = errorText(this.i18n, err.code, err.message);
    $("#reopen").onclick = () => window.location.reload();
  }
}

function errorText(i18n, code, message) {
  const key = `errors.${code}`;
  const text = i18n.t(key);
  return text === key ? i18n.t("errors.unknown", { reason: message || code }) : text;
}

function show(section) {
  for (const name of ["start", "wall", "ended"]) $(`#${name}`).hidden = name !== section;
  if (section !== "wall") $("#dispatch").hidden = true;
  document.body.dataset.view = section;
}

function exposeDebugHandle(page) {
  window.commandpost = {
    get state() {
      return page.session?.state ?? "idle";
    },
    get participantId() {
      return page.session?.participantId ?? null;
    },
    get roomId() {
      return page.session?.roomId ?? null;
    },
    get subscribePc() {
      return page.session?.subscriber?.pc ?? null;
    },
    get reconnects() {
      return page.session?.reconnects ?? 0;
    },
    get offerFailures() {
      return page.session?.offerFailures ?? 0;
    },
    get watchdogRejoins() {
      return page.session?.watchdogRejoins ?? 0;
    },
    get operator() {
      return page.operator ?? null;
    },
    layout: () => page.board?.layout.toJSON() ?? null,
    layoutSource: () => (page.layoutReady ? page.store.source : null),
    layoutSaves: () => ({ saves: page.store?.saves ?? 0, failures: page.store?.failures ?? 0 }),
    tiles: () => page.board?.describe() ?? [],
    map: () => page.map?.describe() ?? null,
    reports: () => page.reports?.describe() ?? [],
    dispatch: () => page.dispatch?.describe() ?? null,
    dispatchTasks: () => page.dispatch?.board.describe() ?? [],
    get bandwidth() {
      return page.bandwidth ? { ...page.bandwidth } : null;
    },
    toasts: () => page.toasts.log.slice(),
    async inbound() {
      const pc = page.session?.subscriber?.pc;
      if (!pc) return [];
      const byMid = new Map((page.session.subscriber.current || []).map((entry) => [entry.mid, entry.info]));
      const rows = [];
      (await pc.getStats()).forEach((r) => {
        if (r.type !== "inbound-rtp") return;
        const info = byMid.get(r.mid) || {};
        rows.push({
          mid: r.mid, kind: r.kind, participantId: info.participant_id ?? null, source: info.source ?? null,
          framesDecoded: r.framesDecoded ?? 0, bytesReceived: r.bytesReceived ?? 0, totalAudioEnergy: r.totalAudioEnergy ?? 0,
        });
      });
      return rows;
    },
    page,
  };
}

async function main() {
  const i18n = new I18n();
  i18n.apply();
  i18n.bindSwitch($("#lang-switch"));
  const dispatchToken = readDispatchToken(); // before readCredentials, which clears the fragment
  const credentials = readCredentials();
  const settings = await loadSettings();
  const page = new WallPage(i18n, credentials, settings, dispatchToken);
  exposeDebugHandle(page);
  const form = $("#start-form");
  const input = $("#operator");
  const error = $("#start-error");
  if (!credentials.code && !credentials.token) {
    error.textContent = i18n.t("wall.noLink");
    error.hidden = false;
    $("#start-button").disabled = true;
    form.dataset.ready = "true";
    return;
  }
  if (credentials.token) return page.start(null);
  const known = (credentials.operator || storageGet(localStorage, OPERATOR_KEY) || "").trim();
  if (known) return page.start(known.slice(0, 64));
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const operator = input.value.trim();
    if (!operator) {
      error.textContent = i18n.t("wall.operatorRequired");
      error.hidden = false;
      return;
    }
    storageSet(localStorage, OPERATOR_KEY, operator);
    page.start(operator);
  });
  form.dataset.ready = "true";
  input.focus();
}

main();
