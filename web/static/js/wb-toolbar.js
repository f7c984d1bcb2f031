// The whiteboard tool palette: tools, colours, widths, undo/redo, clear (host), who may draw
// (host), exports and close. One class for the board panel and for the bar shown while a
// video layer is being annotated; it only reports clicks (onAction) and shows state.
import { setWbIcon } from "./wb-icons.js";
import { COLORS, TOOLS, WIDTHS } from "./wb-tools.js";

export const PERMISSIONS = ["everyone", "presenters", "nobody"];

function el(tag, className, attrs = {}) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  for (const [key, value] of Object.entries(attrs)) node.setAttribute(key, value);
  return node;
}

export class WbToolbar {
  /** actions: which action buttons to show (undo, redo, clear, png, pdf, attach, close). */
  constructor(container, { tools, i18n, actions, onAction }) {
    Object.assign(this, { container, tools, i18n, onAction });
    this.state = { canDraw: true, isHost: false, permission: "everyone", title: "" };
    this.root = el("div", "wb-toolbar", { role: "toolbar" });
    this.title = el("span", "wb-title");
    this.toolButtons = this.group("wb-tools", TOOLS, (tool) => {
      const b = this.button(tool, { "data-wb-tool": tool });
      b.addEventListener("click", () => tools.set({ tool }));
      return b;
    });
    this.colorButtons = this.group("wb-colors", COLORS, (color) => {
      const b = el("button", "wb-swatch", { type: "button", "data-wb-color": color });
      b.style.setProperty("--swatch", color);
      b.addEventListener("click", () => tools.set({ color }));
      return b;
    });
    this.widthButtons = this.group("wb-widths", WIDTHS, (width) => {
      const b = el("button", "wb-width", { type: "button", "data-wb-width": String(width) });
      const dot = el("span", "wb-width-dot");
      dot.style.setProperty("--dot", `${4 + width}px`);
      b.append(dot);
      b.addEventListener("click", () => tools.set({ width }));
      return b;
    });
    this.actionButtons = this.group("wb-actions", actions.filter((a) => a !== "permission"), (action) => {
      const b = this.button(action, { "data-wb-action": action });
      b.addEventListener("click", () => onAction(action));
      return b;
    });
    this.permission = el("select", "wb-permission", { "data-wb-permission": "" });
    for (const mode of PERMISSIONS) this.permission.append(el("option", "", { value: mode }));
    this.permission.addEventListener("change", () => onAction("permission", this.permission.value));
    this.permissionLabel = el("label", "wb-permission-label");
    this.permissionText = el("span", "");
    this.permissionLabel.append(this.permissionText, this.permission);
    this.notice = el("p", "wb-notice", { role: "status" });
    this.root.prepend(this.title);
    this.root.append(this.permissionLabel, this.notice);
    container.append(this.root);
    tools.onChange(() => this.render());
    i18n.onChange(() => this.render());
    this.render();
  }

  group(className, items, make) {
    const box = el("div", `wb-group ${className}`);
    const buttons = new Map(items.map((item) => [item, make(item)]));
    box.append(...buttons.values());
    this.root.append(box);
    return buttons;
  }

  button(icon, attrs) {
    const b = el("button", "wb-button", { type: "button", ...attrs });
    setWbIcon(b, icon);
    return b;
  }

  update(state) {
    Object.assign(this.state, state);
    this.render();
  }

  render() {
    const t = (key, params) => this.i18n.t(key, params);
    const { canDraw, isHost, permission, title, canSnapshot } = this.state;
    this.title.textContent = title;
    this.title.hidden = !title;
    for (const [tool, b] of this.toolButtons) {
      label(b, t(`wb.tool.${tool}`));
      b.setAttribute("aria-pressed", String(this.tools.tool === tool));
      b.disabled = !canDraw;
    }
    for (const [color, b] of this.colorButtons) {
      label(b, t(`wb.color.${COLORS.indexOf(color)}`));
      b.setAttribute("aria-pressed", String(this.tools.color === color));
      b.disabled = !canDraw;
    }
    WIDTHS.forEach((width, i) => {
      const b = this.widthButtons.get(width);
      label(b, t(`wb.width.${i}`));
      b.setAttribute("aria-pressed", String(this.tools.width === width));
      b.disabled = !canDraw;
    });
    for (const [action, b] of this.actionButtons) {
      label(b, t(`wb.action.${action}`));
      if (action === "undo" || action === "redo") b.disabled = !canDraw;
      // Clearing a board is the host's alone: the button is not even shown to others.
      if (action === "clear") b.hidden = !isHost;
      if (action === "attach") b.hidden = !canSnapshot;
    }
    this.permissionLabel.hidden = !isHost;
    this.permissionText.textContent = t("wb.permission");
    for (const option of this.permission.options) option.textContent = t(`wb.permission.${option.value}`);
    this.permission.value = permission;
    this.notice.textContent = canDraw ? "" : t(`wb.notice.${permission === "nobody" ? "nobody" : "presenters"}`);
    this.notice.hidden = canDraw;
    this.root.dataset.canDraw = String(canDraw);
  }
}

function label(button, text) {
  button.title = text;
  button.setAttribute("aria-label", text);
}
