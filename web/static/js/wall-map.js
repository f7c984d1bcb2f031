// The wall's map panel: one marker per person or feed with a position, fitted to the panel.
// With a tile server (config `wall.map_tile_url`) slippy-map tiles are drawn beneath; without
// one (no internet) a latitude/longitude grid with labels stands in. Both show a scale bar.
// Clicking a marker spotlights that unit's tile.
import { fitView, formatLatLon, gridStep, project, scaleBar, stepDecimals, tilesFor, tileUrl, TILE_SIZE, unproject } from "./wall-geo.js";

const SVG = "http://www.w3.org/2000/svg";

function el(tag, className, attrs = {}) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  for (const [key, value] of Object.entries(attrs)) node.setAttribute(key, value);
  return node;
}

function svg(tag, attrs) {
  const node = document.createElementNS(SVG, tag);
  for (const [key, value] of Object.entries(attrs)) node.setAttribute(key, String(value));
  return node;
}

export class WallMap {
  /** settings: {map_tile_url, map_max_zoom, map_attribution}; onPick(unitKey). */
  constructor(root, { i18n, settings, onPick }) {
    this.root = root;
    this.i18n = i18n;
    this.tileTemplate = settings.map_tile_url || "";
    this.maxZoom = settings.map_max_zoom ?? 18;
    this.onPick = onPick;
    this.markers = [];
    this.view = null;
    this.build(settings.map_attribution || "");
    new ResizeObserver(() => this.render()).observe(this.viewEl);
  }

  build(attribution) {
    this.root.dataset.mode = this.tileTemplate ? "tiles" : "grid";
    this.viewEl = el("div", "map-view");
    this.tilesEl = el("div", "map-tiles");
    this.gridEl = svg("svg", { class: "map-grid" });
    this.markersEl = el("div", "map-markers");
    this.emptyEl = el("p", "map-empty");
    this.scaleEl = el("div", "map-scale");
    this.scaleBarEl = el("div", "map-scale-bar");
    this.scaleText = el("span", "map-scale-text");
    this.scaleEl.append(this.scaleBarEl, this.scaleText);
    this.attributionEl = el("div", "map-attribution");
    this.attributionEl.textContent = attribution;
    this.attributionEl.hidden = !attribution;
    this.viewEl.append(this.tilesEl, this.gridEl, this.markersEl, this.emptyEl, this.scaleEl, this.attributionEl);
    this.root.append(this.viewEl);
  }

  /** markers: [{id, key, name, lat, lon, kind: "person"|"feed"|"report"|"incident"|"unit", lost, onPick}] */
  setMarkers(markers) {
    this.markers = markers.filter((m) => Number.isFinite(m.lat) && Number.isFinite(m.lon));
    this.render();
  }

  render() {
    const width = this.viewEl.clientWidth;
    const height = this.viewEl.clientHeight;
    if (!width || !height) return;
    const tiles = Boolean(this.tileTemplate);
    this.view = fitView(this.markers, width, height, { maxZoom: tiles ? this.maxZoom : 18, integer: tiles });
    const { zoom, center } = this.view;
    const c = project(center.lat, center.lon, zoom);
    this.origin = { x: c.x - width / 2, y: c.y - height / 2 };
    if (tiles) this.drawTiles(width, height);
    else this.drawGrid(width, height);
    this.drawMarkers();
    this.emptyEl.textContent = this.i18n.t("wall.mapEmpty");
    this.emptyEl.hidden = this.markers.length > 0;
    const bar = scaleBar(center.lat, zoom);
    this.scaleBarEl.style.width = `${bar.px}px`;
    this.scaleText.textContent = bar.text;
    this.scaleEl.dataset.metres = String(bar.metres);
  }

  toScreen(lat, lon) {
    const p = project(lat, lon, this.view.zoom);
    return { x: p.x - this.origin.x, y: p.y - this.origin.y };
  }

  drawTiles(width, height) {
    const wanted = tilesFor(this.view.center, this.view.zoom, width, height);
    const keep = new Map();
    for (const img of this.tilesEl.querySelectorAll("img")) keep.set(img.dataset.tile, img);
    const used = new Set();
    for (const tile of wanted) {
      const id = `${tile.z}/${tile.x}/${tile.y}@${Math.round(tile.left)},${Math.round(tile.top)}`;
      let img = keep.get(id);
      if (!img) {
        img = el("img", "map-tile", { alt: "", draggable: "false", "data-tile": id });
        img.width = TILE_SIZE;
        img.height = TILE_SIZE;
        img.src = tileUrl(this.tileTemplate, tile);
        this.tilesEl.append(img);
      }
      img.style.transform = `translate(${Math.round(tile.left)}px, ${Math.round(tile.top)}px)`;
      used.add(id);
    }
    for (const [id, img] of keep) if (!used.has(id)) img.remove();
  }

  drawGrid(width, height) {
    this.gridEl.replaceChildren();
    this.gridEl.setAttribute("viewBox", `0 0 ${width} ${height}`);
    const { zoom } = this.view;
    const topLeft = unproject(this.origin.x, this.origin.y, zoom);
    const bottomRight = unproject(this.origin.x + width, this.origin.y + height, zoom);
    const lonStep = gridStep(bottomRight.lon - topLeft.lon);
    const latStep = gridStep(topLeft.lat - bottomRight.lat);
    const lonDigits = stepDecimals(lonStep);
    const latDigits = stepDecimals(latStep);
    const [west, east] = [Math.max(-180, topLeft.lon), Math.min(180, bottomRight.lon)];
    for (let lon = Math.ceil(west / lonStep) * lonStep; lon <= east; lon += lonStep) {
      const x = this.toScreen(topLeft.lat, lon).x;
      this.gridEl.append(svg("line", { x1: x, y1: 0, x2: x, y2: height, class: "map-grid-line" }));
      const label = svg("text", { x: x + 3, y: height - 6, class: "map-grid-label" });
      label.textContent = `${lon.toFixed(lonDigits)}°`;
      this.gridEl.append(label);
    }
    for (let lat = Math.ceil(bottomRight.lat / latStep) * latStep; lat <= topLeft.lat; lat += latStep) {
      const y = this.toScreen(lat, topLeft.lon).y;
      this.gridEl.append(svg("line", { x1: 0, y1: y, x2: width, y2: y, class: "map-grid-line" }));
      const label = svg("text", { x: 4, y: y - 3, class: "map-grid-label" });
      label.textContent = `${lat.toFixed(latDigits)}°`;
      this.gridEl.append(label);
    }
  }

  drawMarkers() {
    this.markersEl.replaceChildren();
    for (const marker of this.markers) {
      const { x, y } = this.toScreen(marker.lat, marker.lon);
      const node = el("button", `map-marker map-marker-${marker.kind}`, {
        type: "button", "data-key": marker.key, "data-id": marker.id,
        title: `${marker.name} · ${formatLatLon(marker.lat, marker.lon)}`,
      });
      node.style.transform = `translate(${Math.round(x)}px, ${Math.round(y)}px)`;
      const dot = el("span", "map-marker-dot");
      const label = el("span", "map-marker-label");
      label.textContent = marker.name;
      node.append(dot, label);
      node.addEventListener("click", () => {
        if (marker.key) this.onPick(marker.key);
        else marker.onPick?.(); // an incident: its own action (dispatch-wall.js)
      });
      this.markersEl.append(node);
    }
  }

  /** Markers of lost feeds turn red like their tiles (cheap: no re-layout). */
  markLost(keys) {
    for (const node of this.markersEl.children) node.classList.toggle("is-lost", keys.has(node.dataset.key));
  }

  describe() {
    const box = this.viewEl.getBoundingClientRect();
    return {
      mode: this.root.dataset.mode,
      zoom: this.view?.zoom ?? null,
      center: this.view?.center ?? null,
      scale: { text: this.scaleText.textContent, px: parseInt(this.scaleBarEl.style.width, 10) || 0 },
      gridLines: this.gridEl.querySelectorAll("line").length,
      tiles: [...this.tilesEl.querySelectorAll("img")].map((img) => img.getAttribute("src")),
      markers: [...this.markersEl.children].map((node) => {
        const r = node.getBoundingClientRect();
        return {
          key: node.dataset.key, id: node.dataset.id, kind: [...node.classList].find((c) => c.startsWith("map-marker-"))?.slice(11) ?? null, name: node.textContent, lost: node.classList.contains("is-lost"),
          x: Math.round(r.left - box.left), y: Math.round(r.top - box.top),
          inside: r.left >= box.left && r.left <= box.right && r.top >= box.top && r.top <= box.bottom,
        };
      }),
    };
  }
}

