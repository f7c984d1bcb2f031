// Map arithmetic for the wall's map panel: Web Mercator world pixels (256-pixel tiles, the
// slippy-map convention), fitting a view to a set of points, grid steps, a scale bar and
// coordinate text. Pure functions, no DOM.
export const TILE_SIZE = 256;
const EARTH_RADIUS_M = 6378137;
const MAX_LAT = 85.05112878; // Web Mercator stops here
const DEFAULT_PAD = { left: 48, right: 160, top: 40, bottom: 56 };

function clampLat(lat) {
  return Math.max(-MAX_LAT, Math.min(MAX_LAT, lat));
}

/** World pixel coordinates of lat/lon at zoom z (fractional zooms allowed). */
export function project(lat, lon, zoom) {
  const size = TILE_SIZE * 2 ** zoom;
  const sin = Math.sin((clampLat(lat) * Math.PI) / 180);
  const x = ((lon + 180) / 360) * size;
  const y = (0.5 - Math.log((1 + sin) / (1 - sin)) / (4 * Math.PI)) * size;
  return { x, y };
}

export function unproject(x, y, zoom) {
  const size = TILE_SIZE * 2 ** zoom;
  const lon = (x / size) * 360 - 180;
  const n = Math.PI - (2 * Math.PI * y) / size;
  const lat = (180 / Math.PI) * Math.atan(Math.sinh(n));
  return { lat, lon };
}

/** Metres one screen pixel covers at latitude `lat` and zoom `zoom`. */
export function metresPerPixel(lat, zoom) {
  return (2 * Math.PI * EARTH_RADIUS_M * Math.cos((clampLat(lat) * Math.PI) / 180)) / (TILE_SIZE * 2 ** zoom);
}

/**
 * The view that shows every point inside width x height, keeping `pad` pixels free on each
 * side ({left, right, top, bottom}: marker labels extend to the right, the scale bar sits at
 * the bottom): {zoom, center: {lat, lon}}. `integer` rounds the zoom down (tile servers only
 * have whole zoom levels). One point gets `singleZoom`; none gets the whole world.
 */
export function fitView(points, width, height, { maxZoom = 18, singleZoom = 16, pad = DEFAULT_PAD, integer = false } = {}) {
  if (!points.length || width <= 0 || height <= 0) return { zoom: 1, center: { lat: 20, lon: 0 } };
  const at0 = points.map((p) => project(p.lat, p.lon, 0));
  const xs = at0.map((p) => p.x);
  const ys = at0.map((p) => p.y);
  const [minX, maxX, minY, maxY] = [Math.min(...xs), Math.max(...xs), Math.min(...ys), Math.max(...ys)];
  const spanX = maxX - minX;
  const spanY = maxY - minY;
  const innerW = Math.max(1, width - pad.left - pad.right);
  const innerH = Math.max(1, height - pad.top - pad.bottom);
  let zoom = Math.min(maxZoom, singleZoom);
  if (spanX > 0 || spanY > 0) {
    const fitX = spanX > 0 ? Math.log2(innerW / spanX) : Infinity;
    const fitY = spanY > 0 ? Math.log2(innerH / spanY) : Infinity;
    zoom = Math.max(0, Math.min(maxZoom, fitX, fitY));
  }
  if (integer) zoom = Math.floor(zoom);
  // Centre the points in the padded inner box, not in the whole panel.
  const scale = 2 ** zoom;
  const cx = ((minX + maxX) / 2) * scale + (pad.right - pad.left) / 2;
  const cy = ((minY + maxY) / 2) * scale + (pad.bottom - pad.top) / 2;
  return { zoom, center: unproject(cx, cy, zoom) };
}

/** The largest "nice" length (1, 2 or 5 x 10^n metres) that is at most maxMetres. */
export function niceDistance(maxMetres) {
  if (!(maxMetres > 0)) return 0;
  const power = 10 ** Math.floor(Math.log10(maxMetres));
  for (const step of [5, 2, 1]) {
    if (step * power <= maxMetres) return step * power;
  }
  return power;
}

/** A scale bar at most maxPx wide: {metres, px, text} ("500 m", "2 km"). */
export function scaleBar(lat, zoom, maxPx = 120) {
  const perPx = metresPerPixel(lat, zoom);
  const metres = niceDistance(perPx * maxPx);
  return { metres, px: Math.round(metres / perPx), text: distanceText(metres) };
}

export function distanceText(metres) {
  if (metres >= 1000) return `${+(metres / 1000).toPrecision(3)} km`;
  return `${+metres.toPrecision(3)} m`;
}

/** Grid spacing in degrees that draws about `lines` lines across `spanDeg`. */
export function gridStep(spanDeg, lines = 6) {
  const raw = spanDeg / lines;
  if (!(raw > 0)) return 1;
  const power = 10 ** Math.floor(Math.log10(raw));
  for (const step of [1, 2, 5, 10]) {
    if (step * power >= raw) return step * power;
  }
  return 10 * power;
}

/** Decimal places that show a grid step exactly (0.05 -> 2). */
export function stepDecimals(step) {
  return Math.max(0, Math.min(8, Math.ceil(-Math.log10(step) - 1e-9)));
}

/** "31.23040°N 121.47370°E" (5 decimals: about a metre). */
export function formatLatLon(lat, lon, decimals = 5) {
  const ns = lat >= 0 ? "N" : "S";
  const ew = lon >= 0 ? "E" : "W";
  return `${Math.abs(lat).toFixed(decimals)}°${ns} ${Math.abs(lon).toFixed(decimals)}°${ew}`;
}

/** Tiles {z, x, y, left, top} covering a view of width x height centred on `center`. */
export function tilesFor(center, zoom, width, height) {
  const z = Math.round(zoom);
  const c = project(center.lat, center.lon, z);
  const left = c.x - width / 2;
  const top = c.y - height / 2;
  const count = 2 ** z;
  const tiles = [];
  for (let ty = Math.floor(top / TILE_SIZE); ty * TILE_SIZE < top + height; ty += 1) {
    if (ty < 0 || ty >= count) continue;
    for (let tx = Math.floor(left / TILE_SIZE); tx * TILE_SIZE < left + width; tx += 1) {
      const wrapped = ((tx % count) + count) % count;
      tiles.push({ z, x: wrapped, y: ty, left: tx * TILE_SIZE - left, top: ty * TILE_SIZE - top });
    }
  }
  return tiles;
}

export function tileUrl(template, { z, x, y }) {
  return template.replace("{z}", String(z)).replace("{x}", String(x)).replace("{y}", String(y));
}
