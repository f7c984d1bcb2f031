// Annotation layers over video tiles (cameras, feeds, shared screens) in the meeting grid and
// on the command wall. Every video tile gets a Surface that always shows its layer's marks;
// its pencil button turns drawing on for that tile and shows the tool bar. Tiles are found by
// watching the tile container, so grid.js and wall-board.js need no changes.
import { Surface } from "./wb-canvas.js";
import { setWbIcon } from "./wb-icons.js";
import { WbToolbar } from "./wb-toolbar.js";

/** The frame shown by a <video>: its intrinsic size, object-fit and mirroring (own camera).
 * A hidden video (camera off: the tile shows an avatar) has no frame, so no marks show. */
export function videoFrame(video) {
  const style = getComputedStyle(video);
  if (style.visibility === "hidden" || style.display === "none") return { width: 0, height: 0, fit: "fill", mirror: false };
  const transform = style.transform;
  // A horizontal flip shows as matrix(-1, 0, 0, 1, 0, 0).
  const mirror = transform && transform !== "none" && Number(transform.replace(/^matrix\(/, "").split(",")[0]) < 0;
  return { width: video.videoWidth, height: video.videoHeight, fit: style.objectFit || "fill", mirror };
}

export class VideoLayers {
  /**
   * container: the element holding the tiles; barBefore: the bar goes before this element
   * (in the page's flow, so it never covers the video being drawn on);
   * tileInfo(node) -> {participantId, source, video, name()} for a tile element or null;
   * ctx: {sync, tools, i18n, layerId(participantId, source), act(boardId, action, value), state()}.
   */
  constructor(container, barBefore, { tileInfo, ctx }) {
    Object.assign(this, { container, tileInfo, ctx });
    this.layers = new Map(); // tile element -> {surface, button, info, boardId}
    this.active = null; // the tile element being annotated
    this.bar = document.createElement("div");
    this.bar.className = "wb-annotate-bar";
    this.bar.hidden = true;
    barBefore.before(this.bar);
    this.toolbar = new WbToolbar(this.bar, {
      tools: ctx.tools,
      i18n: ctx.i18n,
      actions: ["undo", "redo", "clear", "png", "attach", "close"],
      onAction: (action, value) => (action === "close" ? this.stop() : ctx.act(this.layers.get(this.active)?.boardId, action, value)),
    });
    // Tiles carry their key from the start (data-participant-id/-source, or data-unit on the
    // wall), so watching the container's children is enough.
    new MutationObserver(() => this.scan()).observe(container, { childList: true });
    ctx.i18n.onChange(() => this.relabel());
    this.scan();
  }

  /** Add layers to new video tiles, drop those of removed or re-keyed tiles. */
  scan() {
    // A layer belongs to a track: a tile whose track changed (or went) gets a new one.
    for (const [node, layer] of this.layers) {
      const info = node.isConnected ? this.tileInfo(node) : null;
      if (info && this.ctx.layerId(info.participantId, info.source) === layer.boardId) continue;
      this.drop(node, layer);
    }
    for (const node of this.container.children) {
      if (this.layers.has(node)) continue;
      const info = this.tileInfo(node);
      const boardId = info?.video ? this.ctx.layerId(info.participantId, info.source) : null;
      if (boardId) this.add(node, info, boardId);
    }
  }

  add(node, info, boardId) {
    const surface = new Surface({
      host: node, boardId, sync: this.ctx.sync, tools: this.ctx.tools, i18n: this.ctx.i18n,
      frame: () => videoFrame(info.video),
    });
    // The frame's size arrives with the first frame and changes with simulcast or rotation.
    const refit = () => surface.invalidate();
    info.video.addEventListener("resize", refit);
    info.video.addEventListener("loadedmetadata", refit);
    // The tile hides its video by class (camera off): redraw (or hide) the marks then too.
    const classes = new MutationObserver(refit);
    classes.observe(node, { attributes: true, attributeFilter: ["class"] });
    const button = document.createElement("button");
    button.type = "button";
    button.className = "wb-annotate-button";
    button.dataset.wbAnnotate = boardId;
    setWbIcon(button, "annotate");
    button.addEventListener("click", (event) => {
      event.stopPropagation();
      if (this.active === node) this.stop();
      else this.start(node);
    });
    node.append(button);
    const layer = { surface, button, info, boardId, refit, classes };
    this.layers.set(node, layer);
    this.relabel();
  }

  drop(node, layer) {
    if (this.active === node) this.stop();
    layer.surface.close();
    layer.classes.disconnect();
    layer.button.remove();
    layer.info.video.removeEventListener("resize", layer.refit);
    layer.info.video.removeEventListener("loadedmetadata", layer.refit);
    this.layers.delete(node);
  }

  start(node) {
    this.stop();
    const layer = this.layers.get(node);
    if (!layer) return;
    this.active = node;
    node.classList.add("wb-annotating");
    // A wall tile is draggable (layout); drawing on it must not start a drag.
    layer.wasDraggable = node.getAttribute("draggable");
    node.setAttribute("draggable", "false");
    layer.button.setAttribute("aria-pressed", "true");
    layer.surface.setInteractive(true);
    this.bar.hidden = false;
    this.render();
  }

  stop() {
    const layer = this.layers.get(this.active);
    if (layer) {
      layer.surface.setInteractive(false);
      layer.button.setAttribute("aria-pressed", "false");
      this.active.classList.remove("wb-annotating");
      if (layer.wasDraggable !== null) this.active.setAttribute("draggable", layer.wasDraggable);
    }
    this.active = null;
    this.bar.hidden = true;
  }

  activeBoard() {
    return this.layers.get(this.active)?.boardId ?? null;
  }

  relabel() {
    for (const layer of this.layers.values()) {
      const text = this.ctx.i18n.t("wb.annotate", { name: layer.info.name() });
      layer.button.title = text;
      layer.button.setAttribute("aria-label", text);
    }
    this.render();
  }

  render() {
    const layer = this.layers.get(this.active);
    if (!layer) return;
    this.toolbar.update({ ...this.ctx.state(), title: this.ctx.i18n.t("wb.annotating", { name: layer.info.name() }) });
  }

  describe() {
    return [...this.layers.values()].map((layer) => {
      const mapper = layer.surface.mapper();
      return { boardId: layer.boardId, participantId: layer.info.participantId, source: layer.info.source,
        active: this.layers.get(this.active) === layer, frame: { ...mapper.rect }, mirror: mapper.mirror };
    });
  }
}
