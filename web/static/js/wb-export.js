// Exports rendered by the server (docs/API.md "Whiteboards"): a board or a video layer as PNG
// (a layer over a snapshot of the video), all boards as one PDF, and a snapshot handed to
// dispatch. Requests carry the room's REST token from `joined`, so they go through fetch
// and a blob link rather than a plain <a href>.

function safeName(text) {
  return String(text).replace(/[^\w.-]+/g, "_").slice(0, 80) || "board";
}

async function download(response, filename) {
  const url = URL.createObjectURL(await response.blob());
  const a = document.createElement("a");
  a.href = url;
  a.download = filename;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10000);
}

export class WbExports {
  /** sync: WhiteboardSync (REST access); notify(key, params, kind); joinToken(): the page's
   * own join token (a host's) when it has one; without it the `joined` REST token is used,
   * which the server accepts for snapshots while this participant is in the room with
   * subscribe. */
  constructor(sync, notify, joinToken = () => null) {
    this.sync = sync;
    this.notify = notify;
    this.joinToken = joinToken;
    this.last = null; // {kind, boardId, status, bytes} of the last export, for tests
  }

  async get(path, filename, kind, boardId) {
    try {
      const response = await this.sync.fetch(path);
      if (!response?.ok) throw new Error(response ? `HTTP ${response.status}` : "not joined");
      const bytes = Number(response.headers.get("Content-Length") || 0);
      await download(response, filename);
      this.last = { kind, boardId, status: response.status, bytes };
    } catch (err) {
      this.last = { kind, boardId, status: "failed", error: err.message };
      this.notify("wb.exportFailed", { reason: err.message }, "error");
    }
  }

  /** A video layer is drawn over a frame of its video grabbed now (`?snapshot=1`). */
  png(boardId) {
    const overVideo = boardId.startsWith("track:") ? "?snapshot=1" : "";
    return this.get(`boards/${encodeURIComponent(boardId)}.png${overVideo}`, `${safeName(boardId)}.png`, "png", boardId);
  }

  pdf() {
    return this.get("boards.pdf", "boards.pdf", "pdf", null);
  }

  /** Store a snapshot of the layer's video (`POST .../snapshots`) that a dispatch task can
   * attach; the answer names it (snapshot_id, url). */
  async snapshot(boardId) {
    try {
      const trackId = boardId.replace(/^track:/, "");
      const response = await this.sync.fetch("snapshots", {
        method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ track_id: trackId }),
      }, this.joinToken());
      if (!response?.ok) throw new Error(response ? `HTTP ${response.status}` : "not joined");
      const body = await response.json();
      this.last = { kind: "snapshot", boardId, status: response.status, snapshot: body };
      this.notify("wb.snapshotSaved", { id: body.snapshot_id });
      return body;
    } catch (err) {
      this.last = { kind: "snapshot", boardId, status: "failed", error: err.message };
      this.notify("wb.exportFailed", { reason: err.message }, "error");
      return null;
    }
  }
}
