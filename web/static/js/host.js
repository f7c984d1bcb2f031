// Host controls on other people's tiles: mute microphone, stop camera, remove (with confirmation).
export class HostMenu {
  constructor({ menu, dialog, session, i18n, grid }) {
    Object.assign(this, { menu, dialog, session, i18n, grid });
    this.target = null;
    menu.addEventListener("click", (event) => {
      const action = event.target.closest("button[data-action]")?.dataset.action;
      if (action) this.act(action);
    });
    document.addEventListener("click", (event) => {
      if (!menu.hidden && !menu.contains(event.target)) this.close();
    });
    document.addEventListener("keydown", (event) => {
      if (event.key === "Escape") this.close();
    });
    i18n.onChange(() => this.refresh());
  }

  /** Give every remote camera tile a menu button when we are host. */
  refresh() {
    if (!this.session.isAdmin()) return;
    for (const tile of this.grid.tileMap.values()) this.decorate(tile);
  }

  decorate(tile) {
    if (!this.session.isAdmin() || tile.local || tile.source !== "camera") return;
    const name = this.grid.participants.get(tile.participantId)?.name || "";
    tile.enableHostMenu(this.i18n.t("host.actions", { name }), (anchor) => this.open(tile.participantId, anchor));
  }

  open(participantId, anchor) {
    this.target = participantId;
    this.menu.hidden = false;
    const box = anchor.getBoundingClientRect();
    const width = this.menu.offsetWidth;
    this.menu.style.left = `${Math.max(8, Math.min(box.right - width, window.innerWidth - width - 8))}px`;
    this.menu.style.top = `${Math.min(box.bottom + 4, window.innerHeight - this.menu.offsetHeight - 8)}px`;
    this.menu.querySelector("button")?.focus();
  }

  close() {
    this.menu.hidden = true;
    this.target = null;
  }

  async act(action) {
    const id = this.target;
    this.close();
    if (!id) return;
    if (action === "mute-audio") this.session.hostMute(id, "audio");
    if (action === "mute-video") this.session.hostMute(id, "video");
    if (action === "kick" && (await this.confirmKick(id))) this.session.kick(id);
  }

  confirmKick(id) {
    const name = this.grid.participants.get(id)?.name || "";
    this.dialog.querySelector("[data-confirm-text]").textContent = this.i18n.t("host.kickConfirm", { name });
    return new Promise((resolve) => {
      this.dialog.addEventListener("close", () => resolve(this.dialog.returnValue === "ok"), { once: true });
      this.dialog.showModal();
    });
  }
}
