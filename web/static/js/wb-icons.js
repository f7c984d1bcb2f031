// Whiteboard icons (24x24, currentColor), in the style of icons.js; our own constants only.
const wrap = (body) =>
  `<svg viewBox="0 0 24 24" width="24" height="24" aria-hidden="true" focusable="false" fill="none" stroke="currentColor" stroke-width="2" stroke-linecap="round" stroke-linejoin="round">${body}</svg>`;

export const WB_ICONS = {
  board: wrap('<rect x="3" y="4" width="18" height="13" rx="1"/><path d="M8 21l4-4 4 4M7 13l3-4 3 3 4-5"/>'),
  annotate: wrap('<path d="M4 20l4-1 11-11-3-3L5 16z"/><path d="M14 7l3 3"/>'),
  pen: wrap('<path d="M4 20l4-1 11-11-3-3L5 16z"/>'),
  highlighter: wrap('<path d="M9 15l-3 5h6l1-2M9 15l8-11 4 3-8 11z"/>'),
  line: wrap('<path d="M5 19L19 5"/>'),
  arrow: wrap('<path d="M5 19L19 5M10 5h9v9"/>'),
  rect: wrap('<rect x="4" y="6" width="16" height="12" rx="1"/>'),
  ellipse: wrap('<ellipse cx="12" cy="12" rx="9" ry="6"/>'),
  text: wrap('<path d="M5 6V4h14v2M12 4v16M9 20h6"/>'),
  sticky: wrap('<path d="M4 4h16v10l-6 6H4z"/><path d="M14 20v-6h6"/>'),
  eraser: wrap('<path d="M8 20h12M5 15l9-9 5 5-8 8H9z"/>'),
  laser: wrap('<circle cx="12" cy="12" r="3"/><path d="M12 2v4M12 18v4M2 12h4M18 12h4"/>'),
  undo: wrap('<path d="M9 14L4 9l5-5"/><path d="M4 9h11a5 5 0 0 1 0 10h-3"/>'),
  redo: wrap('<path d="M15 14l5-5-5-5"/><path d="M20 9H9a5 5 0 0 0 0 10h3"/>'),
  clear: wrap('<path d="M4 7h16M9 7V4h6v3M6 7l1 13h10l1-13"/>'),
  png: wrap('<rect x="3" y="5" width="18" height="14" rx="2"/><circle cx="9" cy="10" r="2"/><path d="M21 16l-5-5-8 8"/>'),
  pdf: wrap('<path d="M6 3h9l4 4v14H6z"/><path d="M14 3v5h5M9 14h6M9 17h4"/>'),
  attach: wrap('<path d="M21 11l-8.5 8.5a5 5 0 0 1-7-7L14 4a3.5 3.5 0 0 1 5 5l-8.5 8.5a2 2 0 0 1-3-3L15 7"/>'),
  close: wrap('<path d="M6 6l12 12M18 6L6 18"/>'),
};

export function setWbIcon(el, name) {
  el.innerHTML = WB_ICONS[name];
}
