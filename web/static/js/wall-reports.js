// Photo reports from the field on the wall: the latest ones in a list beside the map (photo,
// who, when, where, note), new ones announced, and the photo shown large on a click. The
// reports come from GET /api/rooms/{id}/reports when the wall joins and from `report`
// messages afterwards; each `photo_url` is signed, so a plain <img> can load it.
import { formatLatLon } from "./wall-geo.js";

const SHOWN = 20;
const KEPT = 200; // a wall runs for days: forget the oldest beyond this

function el(tag, className, attrs = {}) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  for (const [key, value] of Object.entries(attrs)) node.setAttribute(key, value);
  return node;
}

export class WallReports {
  /** onChange(reports) after every change (for the map); notify(text) for new ones. */
  constructor(root, { i18n, dialog, onChange, notify }) {
    this.root = root;
    this.i18n = i18n;
    this.dialog = dialog;
    this.onChange = onChange;
    this.notify = notify;
    this.reports = new Map(); // report id -> report, oldest first
    this.title = el("h2", "wall-reports-title");
    this.list = el("ol", "wall-reports-list");
    this.empty = el("p", "wall-reports-empty");
    root.append(this.title, this.list, this.empty);
    this.render();
  }

  /** The room's recent reports, with the REST token from `joined`. */
  async load(roomId, token) {
    if (!token) return;
    try {
      const response = await fetch(`/api/rooms/${encodeURIComponent(roomId)}/reports?limit=${SHOWN}`, {
        headers: { Authorization: `Bearer ${token}` },
      });
      if (!response.ok) throw new Error(`${response.status}`);
      for (const report of (await response.json()).reports || []) {
        if (!this.reports.has(report.report_id)) this.reports.set(report.report_id, report);
      }
    } catch (err) {
      console.warn("wall: could not load reports", err.message);
    }
    this.render();
  }

  add(report) {
    if (!report?.report_id || this.reports.has(report.report_id)) return;
    this.reports.set(report.report_id, report);
    this.notify(this.i18n.t("wall.reportNew", { name: report.name || "?", note: report.note || "" }));
    this.render();
  }

  trim() {
    if (this.reports.size <= KEPT) return;
    const oldest = [...this.reports.values()].sort((a, b) => a.ts - b.ts).slice(0, this.reports.size - KEPT);
    for (const report of oldest) this.reports.delete(report.report_id);
  }

  latest() {
    return [...this.reports.values()].sort((a, b) => b.ts - a.ts).slice(0, SHOWN);
  }

  render() {
    this.trim();
    this.title.textContent = this.i18n.t("wall.reports");
    this.empty.textContent = this.i18n.t("wall.reportsEmpty");
    this.empty.hidden = this.reports.size > 0;
    this.list.replaceChildren(...this.latest().map((report) => this.item(report)));
    this.onChange?.(this.latest());
  }

  item(report) {
    const li = el("li", "wall-report", { "data-report-id": report.report_id });
    const button = el("button", "wall-report-photo", { type: "button", title: this.i18n.t("wall.reportOpen") });
    const img = el("img", "", { src: report.photo_url, alt: report.note || report.name || "", loading: "lazy" });
    button.append(img);
    button.addEventListener("click", () => this.open(report));
    const text = el("div", "wall-report-text");
    const head = el("div", "wall-report-head");
    const when = new Date(report.ts * 1000).toLocaleTimeString(this.i18n.lang, { hour: "2-digit", minute: "2-digit" });
    head.textContent = `${report.name || "?"} · ${when}`;
    const note = el("div", "wall-report-note");
    note.textContent = report.note || "";
    const where = el("div", "wall-report-where");
    where.textContent = Number.isFinite(report.lat) ? formatLatLon(report.lat, report.lon) : this.i18n.t("wall.reportNoPosition");
    text.append(head, note, where);
    li.append(button, text);
    return li;
  }

  open(report) {
    const img = this.dialog.querySelector("img");
    img.src = report.photo_url;
    img.alt = report.note || report.name || "";
    this.dialog.querySelector("[data-report-caption]").textContent = `${report.name || "?"}: ${report.note || ""}`;
    this.dialog.showModal();
  }

  describe() {
    return this.latest().map((report) => {
      const node = this.list.querySelector(`[data-report-id="${report.report_id}"]`);
      const img = node?.querySelector("img");
      return { id: report.report_id, name: report.name, note: report.note, text: node?.innerText ?? "",
        photoLoaded: Boolean(img?.complete && img.naturalWidth > 0) };
    });
  }
}
