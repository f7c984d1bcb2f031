// Short notices at the bottom of the screen; errors stay a little longer.
const MAX_TOASTS = 4;

export class Toasts {
  constructor(container) {
    this.container = container;
    this.log = []; // every message shown, for the test handle
  }

  show(text, { kind = "info", ms = kind === "error" ? 7000 : 4000 } = {}) {
    const toast = document.createElement("div");
    toast.className = `toast toast-${kind}`;
    toast.setAttribute("role", kind === "error" ? "alert" : "status");
    toast.textContent = text;
    this.container.append(toast);
    this.log.push({ kind, text, at: Date.now() });
    while (this.container.children.length > MAX_TOASTS) this.container.firstElementChild.remove();
    setTimeout(() => toast.classList.add("leaving"), ms);
    setTimeout(() => toast.remove(), ms + 400);
    return toast;
  }
}
