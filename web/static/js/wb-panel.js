// The room's whiteboard in the meeting page: a panel over the video grid (opened from the
// toolbar's Whiteboard button) with the tool palette and the board's page, a 16:9 sheet
// letterboxed into whatever space the screen has.
import { BOARD_SPACE } from "./wb-geom.js";
import { Surface } from "./wb-canvas.js";
import { WbToolbar } from "./wb-toolbar.js";

const PAPER = "#f6f7f9";

export class WbPanel {
  /** ctx: {sync, tools, i18n, exports, actions(boardId) -> onAction, state() -> toolbar state} */
  constructor(parent, ctx) {
    this.ctx = ctx;
    this.boardId = null;
    this.root = document.createElement("section");
    this.root.className = "wb-panel";
    this.root.id = "wb-panel";
    this.root.hidden = true;
    this.barHost = document.createElement("div");
    this.barHost.className = "wb-panel-bar";
    this.page = document.createElement("div");
    this.page.className = "wb-page";
    this.root.append(this.barHost, this.page);
    parent.insertBefore(this.root, parent.querySelector(".toolbar")); // in the grid's place
    this.parent = parent;
    this.toolbar = new WbToolbar(this.barHost, {
      tools: ctx.tools,
      i18n: ctx.i18n,
      actions: ["undo", "redo", "clear", "png", "pdf", "close"],
      onAction: (action, value) => (action === "close" ? this.close() : ctx.act(this.boardId, action, value)),
    });
  }

  get open() {
    return !this.root.hidden;
  }

  /** Show the given board (the room's main board) and start drawing on it. */
  show(boardId) {
    if (this.boardId !== boardId) {
      this.surface?.close();
      this.boardId = boardId;
      this.surface = new Surface({
        host: this.page, boardId, sync: this.ctx.sync, tools: this.ctx.tools, i18n: this.ctx.i18n,
        frame: () => ({ width: BOARD_SPACE.w, height: BOARD_SPACE.h, fit: "contain" }), space: BOARD_SPACE, paper: PAPER,
      });
    }
    this.root.hidden = false;
    this.parent.classList.add("wb-open");
    this.surface.setInteractive(true);
    this.surface.invalidate();
    this.render();
    this.ctx.onToggle?.(true);
  }

  close() {
    this.root.hidden = true;
    this.parent.classList.remove("wb-open");
    this.surface?.setInteractive(false);
    this.ctx.onToggle?.(false);
  }

  render() {
    this.toolbar.update({ ...this.ctx.state(), title: this.ctx.i18n.t("wb.boardTitle") });
  }
}
