// Puts the whiteboard into a page: the meeting (board panel + layers on video tiles) or the
// command wall (layers on its tiles). One WhiteboardSync and one ToolState per page; the
// page only forwards each `joined` (with its socket) and gets window.commandpost helpers.
import { WbExports } from "./wb-export.js";
import { setWbIcon } from "./wb-icons.js";
import { VideoLayers } from "./wb-overlay.js";
import { WbPanel } from "./wb-panel.js";
import { MAIN_BOARD, WhiteboardSync } from "./wb-sync.js";
import { ToolState } from "./wb-tools.js";

/** What both pages share: sync, tools, exports and the toolbar actions. */
function core({ i18n, notify, selfId, nameOf, isHost, changed, joinToken, refusedOp }) {
  const sync = new WhiteboardSync({ i18n, notify, selfId, nameOf, changed: () => changed(), refusedOp });
  const tools = new ToolState();
  const exports = new WbExports(sync, notify, joinToken);
  const ctx = {
    sync, tools, i18n, exports,
    layerId: (participantId, source) => sync.layerId(participantId, source),
    // Snapshots for dispatch need a token that may subscribe: a host's own join token.
    state: () => ({ canDraw: sync.canDraw(), isHost: isHost(), permission: sync.permission.mode,
      canSnapshot: isHost() && Boolean(joinToken()) }),
    act(boardId, action, value) {
      if (action === "permission") return sync.setPermission(value);
      if (action === "pdf") return exports.pdf();
      if (!boardId) return null;
      if (action === "undo") return sync.undo(boardId);
      if (action === "redo") return sync.redo(boardId);
      if (action === "clear") return sync.clear(boardId);
      if (action === "png") return exports.png(boardId);
      if (action === "attach") return exports.snapshot(boardId);
      return null;
    },
  };
  return ctx;
}

/** Ctrl/Cmd+Z undoes and Ctrl/Cmd+Shift+Z or Ctrl/Cmd+Y redoes on the board being drawn on
 * (activeBoard() -> board id or null); Escape leaves a video layer's drawing mode. */
function bindKeys(ctx, activeBoard, onEscape) {
  document.addEventListener("keydown", (event) => {
    const boardId = activeBoard();
    if (!boardId || event.target.closest?.("input, textarea, select")) return;
    const key = event.key.toLowerCase();
    if (event.key === "Escape") onEscape();
    else if ((event.ctrlKey || event.metaKey) && key === "z") ctx.act(boardId, event.shiftKey ? "redo" : "undo");
    else if ((event.ctrlKey || event.metaKey) && key === "y") ctx.act(boardId, "redo");
    else return;
    event.preventDefault();
    event.stopPropagation(); // the wall's own shortcuts must not fire too
  }, { capture: true });
}

function debugHelpers(ctx, extra) {
  const { sync, tools, exports } = ctx;
  return {
    /** A board's visible elements, bottom to top, as the server's JSON. */
    wbScene: (boardId = MAIN_BOARD) => sync.scene(boardId).toJSON(),
    wbBoards: () => [...sync.scenes.keys()],
    wbState: () => ({ permission: sync.permission.mode, canDraw: sync.canDraw(), tool: tools.tool, color: tools.color, width: tools.width }),
    wbExport: () => exports.last,
    /** Others' strokes shown while still being drawn, and laser points received. */
    wbDrafts: () => [...sync.remoteDrafts.entries()].map(([id, d]) => ({ id, boardId: d.boardId, points: d.element.points.length })),
    wbLaserPoints: () => sync.laserPointsSeen,
    wbLiveTimes: () => ({ sent: Object.fromEntries(sync.liveTimes.sent), received: Object.fromEntries(sync.liveTimes.received) }),
    wbSetTool: (changes) => tools.set(changes),
    ...extra,
  };
}

/** The meeting page: toolbar button, board panel over the grid, layers on every video tile. */
export function mountMeetingWhiteboard({ session, grid, i18n, notify, meeting, button }) {
  let panel = null;
  let layers = null;
  const render = () => {
    layers?.scan(); // track ids may have changed
    panel?.render();
    layers?.render();
    renderButton();
  };
  const ctx = core({
    i18n, notify,
    selfId: () => session.participantId,
    nameOf: (id) => grid.participants.get(id)?.name,
    isHost: () => session.isAdmin(),
    joinToken: () => session.credentials?.token ?? null,
    changed: render,
  });
  panel = new WbPanel(meeting, {
    ...ctx,
    onToggle: (open) => {
      if (open) layers.stop(); // the grid (and its layers) is hidden behind the board
      renderButton();
    },
  });
  layers = new VideoLayers(grid.container, grid.container, {
    ctx,
    tileInfo: (node) => {
      const participantId = node.dataset?.participantId;
      const video = node.querySelector?.("video");
      if (!participantId || !video || !node.classList.contains("tile")) return null;
      return { participantId, source: node.dataset.source, video, name: () => grid.participants.get(participantId)?.name || "" };
    },
  });
  function renderButton() {
    const label = i18n.t(panel.open ? "wb.closeBoard" : "wb.openBoard");
    setWbIcon(button.querySelector(".tool-icon"), "board");
    button.querySelector(".tool-label").textContent = label;
    button.title = label;
    button.setAttribute("aria-pressed", String(panel.open));
  }
  button.addEventListener("click", () => (panel.open ? panel.close() : panel.show(MAIN_BOARD)));
  bindKeys(ctx, () => layers.activeBoard() ?? (panel.open ? MAIN_BOARD : null), () => layers.stop());
  i18n.onChange(render);
  renderButton();
  Object.assign(window.commandpost, debugHelpers(ctx, {
    wbPanelOpen: () => panel.open,
    wbLayers: () => layers.describe(),
  }));
  return {
    joined: (msg, signaling) => {
      ctx.sync.bind(signaling, msg);
      render();
    },
    ctx, panel, layers,
  };
}

/** The command wall: layers on its video tiles (feeds, cameras, screens). */
export function mountWallWhiteboard({ i18n, notify, tiles, barBefore, session, nameOf, joinToken }) {
  let layers = null;
  let grants = [];
  const ctx = core({
    i18n, notify,
    selfId: () => session()?.participantId ?? null,
    nameOf,
    isHost: () => grants.includes("admin"),
    joinToken,
    // The meeting page shows every server error already; the wall only logs them.
    refusedOp: (msg) => notify("wb.refused", { reason: msg.message || msg.code }, "error"),
    changed: () => {
      layers?.scan();
      layers?.render();
    },
  });
  layers = new VideoLayers(tiles, barBefore, {
    ctx,
    tileInfo: (node) => {
      const key = node.dataset?.unit;
      const video = node.querySelector?.("video");
      if (!key || !video) return null;
      const cut = key.lastIndexOf(":");
      return { participantId: key.slice(0, cut), source: key.slice(cut + 1), video,
        name: () => node.querySelector(".wall-tile-name")?.textContent || key };
    },
  });
  bindKeys(ctx, () => layers.activeBoard(), () => layers.stop());
  return {
    joined: (msg, signaling) => {
      grants = msg.grants || [];
      ctx.sync.bind(signaling, msg);
      layers.render();
    },
    debug: debugHelpers(ctx, { wbLayers: () => layers.describe() }),
    ctx, layers,
  };
}
