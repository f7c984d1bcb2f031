// Draws whiteboard elements on a 2D canvas context through a FrameMapper (normalised frame
// coordinates -> CSS px; the context is already scaled for devicePixelRatio). Sizes are in
// thousandths of the frame height, so a mark keeps its proportions on every screen.

export const LASER_FADE_MS = 1500;
const HIGHLIGHTER_ALPHA = 0.35;
const STICKY_TEXT = "#1b1f24";
export const FONT = "system-ui, 'Noto Sans CJK SC', 'WenQuanYi Micro Hei', sans-serif";

/** Box {x, y, w, h} in px from an element's two corner points. */
export function boxPx(mapper, points) {
  const [x0, y0] = mapper.toPx(points[0][0], points[0][1]);
  const [x1, y1] = mapper.toPx((points[1] || points[0])[0], (points[1] || points[0])[1]);
  return { x: Math.min(x0, x1), y: Math.min(y0, y1), w: Math.abs(x1 - x0), h: Math.abs(y1 - y0) };
}

export function drawElement(ctx, mapper, element) {
  const points = element.points || [];
  if (!points.length) return;
  ctx.save();
  ctx.strokeStyle = element.color || "#e5484d";
  ctx.fillStyle = element.color || "#e5484d";
  ctx.lineWidth = Math.max(0.5, mapper.size(element.width || 4));
  ctx.lineCap = "round";
  ctx.lineJoin = "round";
  ctx.globalAlpha = Math.min(1, Math.max(0.05, element.opacity ?? 1));
  switch (element.type) {
    case "highlighter":
      ctx.globalAlpha = Math.min(ctx.globalAlpha, HIGHLIGHTER_ALPHA);
      ctx.lineCap = "butt";
      strokePath(ctx, points.map((p) => mapper.toPx(p[0], p[1])));
      break;
    case "pen":
      strokePath(ctx, points.map((p) => mapper.toPx(p[0], p[1])));
      break;
    case "line":
    case "arrow":
      drawLine(ctx, mapper, element);
      break;
    case "rect": {
      const box = boxPx(mapper, points);
      ctx.strokeRect(box.x, box.y, box.w, box.h);
      break;
    }
    case "ellipse": {
      const box = boxPx(mapper, points);
      ctx.beginPath();
      ctx.ellipse(box.x + box.w / 2, box.y + box.h / 2, box.w / 2, box.h / 2, 0, 0, Math.PI * 2);
      ctx.stroke();
      break;
    }
    case "text":
      drawText(ctx, mapper, element);
      break;
    case "sticky":
      drawSticky(ctx, mapper, element);
      break;
    default:
      break; // a type from a newer server: skip rather than draw it wrong
  }
  ctx.restore();
}

/** A smooth path through the points (quadratic curves via midpoints); a dot for one point. */
function strokePath(ctx, pts) {
  ctx.beginPath();
  if (pts.length === 1) {
    ctx.arc(pts[0][0], pts[0][1], ctx.lineWidth / 2, 0, Math.PI * 2);
    ctx.fill();
    return;
  }
  ctx.moveTo(pts[0][0], pts[0][1]);
  for (let i = 1; i < pts.length - 1; i += 1) {
    const mx = (pts[i][0] + pts[i + 1][0]) / 2;
    const my = (pts[i][1] + pts[i + 1][1]) / 2;
    ctx.quadraticCurveTo(pts[i][0], pts[i][1], mx, my);
  }
  const last = pts[pts.length - 1];
  ctx.lineTo(last[0], last[1]);
  ctx.stroke();
}

function drawLine(ctx, mapper, element) {
  const [a, b] = [element.points[0], element.points[element.points.length - 1]];
  const [x0, y0] = mapper.toPx(a[0], a[1]);
  const [x1, y1] = mapper.toPx(b[0], b[1]);
  ctx.beginPath();
  ctx.moveTo(x0, y0);
  ctx.lineTo(x1, y1);
  ctx.stroke();
  if (element.type !== "arrow") return;
  const angle = Math.atan2(y1 - y0, x1 - x0);
  const head = Math.max(10, ctx.lineWidth * 4);
  ctx.beginPath();
  ctx.moveTo(x1, y1);
  ctx.lineTo(x1 - head * Math.cos(angle - Math.PI / 7), y1 - head * Math.sin(angle - Math.PI / 7));
  ctx.lineTo(x1 - head * Math.cos(angle + Math.PI / 7), y1 - head * Math.sin(angle + Math.PI / 7));
  ctx.closePath();
  ctx.fill();
}

export function fontPx(mapper, element) {
  return Math.max(6, mapper.size(element.font_size || 24)); // 24: the server's default
}

function drawText(ctx, mapper, element) {
  const [x, y] = mapper.toPx(element.points[0][0], element.points[0][1]);
  const size = fontPx(mapper, element);
  ctx.font = `${size}px ${FONT}`;
  ctx.textBaseline = "top";
  String(element.text || "").split("\n").forEach((line, i) => ctx.fillText(line, x, y + i * size * 1.2));
}

function drawSticky(ctx, mapper, element) {
  const box = boxPx(mapper, element.points);
  ctx.shadowColor = "rgba(0, 0, 0, 0.35)";
  ctx.shadowBlur = 6;
  ctx.fillRect(box.x, box.y, box.w, box.h);
  ctx.shadowBlur = 0;
  const size = fontPx(mapper, element);
  const pad = size * 0.4;
  ctx.fillStyle = STICKY_TEXT;
  ctx.font = `${size}px ${FONT}`;
  ctx.textBaseline = "top";
  ctx.save();
  ctx.beginPath();
  ctx.rect(box.x, box.y, box.w, box.h);
  ctx.clip();
  wrapLines(ctx, String(element.text || ""), box.w - 2 * pad)
    .forEach((line, i) => ctx.fillText(line, box.x + pad, box.y + pad + i * size * 1.2));
  ctx.restore();
}

/** Break text into lines that fit `width` (by words, or by characters for CJK runs). */
export function wrapLines(ctx, text, width) {
  const lines = [];
  for (const paragraph of text.split("\n")) {
    let line = "";
    for (const token of paragraph.match(/[\u3000-\u9fff\uff00-\uffef]|\S+\s*|\s+/g) || [""]) {
      if (line && ctx.measureText(line + token).width > width) {
        lines.push(line.trimEnd());
        line = token.trimStart();
      } else {
        line += token;
      }
    }
    lines.push(line.trimEnd());
  }
  return lines;
}

/** A laser trail: [{x, y, t}] normalised points with performance.now() times; fades out. */
export function drawLaser(ctx, mapper, trail, color, now) {
  ctx.save();
  ctx.lineCap = "round";
  ctx.lineJoin = "round";
  for (let i = 1; i < trail.length; i += 1) {
    const age = now - trail[i].t;
    if (age > LASER_FADE_MS) continue;
    const alpha = 1 - age / LASER_FADE_MS;
    const [x0, y0] = mapper.toPx(trail[i - 1].x, trail[i - 1].y);
    const [x1, y1] = mapper.toPx(trail[i].x, trail[i].y);
    ctx.globalAlpha = alpha;
    ctx.strokeStyle = color;
    ctx.lineWidth = Math.max(3, mapper.rect.h * 0.006) * (0.4 + 0.6 * alpha);
    ctx.beginPath();
    ctx.moveTo(x0, y0);
    ctx.lineTo(x1, y1);
    ctx.stroke();
  }
  const head = trail[trail.length - 1];
  if (head && now - head.t < LASER_FADE_MS) {
    const [x, y] = mapper.toPx(head.x, head.y);
    ctx.globalAlpha = 1 - (now - head.t) / LASER_FADE_MS;
    ctx.fillStyle = color;
    ctx.shadowColor = color;
    ctx.shadowBlur = 12;
    ctx.beginPath();
    ctx.arc(x, y, Math.max(4, mapper.rect.h * 0.008), 0, Math.PI * 2);
    ctx.fill();
  }
  ctx.restore();
}
