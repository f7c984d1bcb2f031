// Inline SVG icons (24x24, currentColor) so the client needs no icon font or image requests.
const wrap = (body) =>
  `<svg viewBox="0 0 24 24" width="24" height="24" aria-hidden="true" focusable="false" fill="none" stroke="currentColor" stroke-width="2" stroke-linecap="round" stroke-linejoin="round">${body}</svg>`;

const MIC = '<rect x="9" y="3" width="6" height="11" rx="3"/><path d="M5 11a7 7 0 0 0 14 0M12 18v3"/>';
const CAM = '<rect x="3" y="6" width="13" height="12" rx="2"/><path d="M16 10l5-3v10l-5-3z"/>';
const SLASH = '<path d="M3 3l18 18"/>';

export const ICONS = {
  mic: wrap(MIC),
  micOff: wrap(MIC + SLASH),
  cam: wrap(CAM),
  camOff: wrap(CAM + SLASH),
  screen: wrap('<rect x="3" y="4" width="18" height="12" rx="2"/><path d="M8 20h8M12 16v4M12 13V7M9 10l3-3 3 3"/>'),
  screenStop: wrap('<rect x="3" y="4" width="18" height="12" rx="2"/><path d="M8 20h8M12 16v4M9 7l6 6M15 7l-6 6"/>'),
  leave: wrap('<path d="M4 15c2-3 5-4 8-4s6 1 8 4l-2 3-3-1v-2a9 9 0 0 0-6 0v2l-3 1z"/>'),
  link: wrap('<path d="M10 14a4 4 0 0 0 6 0l3-3a4 4 0 0 0-6-6l-1 1M14 10a4 4 0 0 0-6 0l-3 3a4 4 0 0 0 6 6l1-1"/>'),
  lock: wrap('<rect x="5" y="11" width="14" height="10" rx="2"/><path d="M8 11V8a4 4 0 0 1 8 0v3"/>'),
  unlock: wrap('<rect x="5" y="11" width="14" height="10" rx="2"/><path d="M8 11V8a4 4 0 0 1 7.5-2"/>'),
  more: wrap('<circle cx="12" cy="5" r="1"/><circle cx="12" cy="12" r="1"/><circle cx="12" cy="19" r="1"/>'),
  host: wrap('<path d="M3 8l4 4 5-7 5 7 4-4-2 11H5z"/>'),
  pin: wrap('<path d="M9 3h6l-1 6 4 4H6l4-4zM12 13v8"/>'),
  spotlight: wrap('<path d="M4 9V4h5M20 9V4h-5M4 15v5h5M20 15v5h-5"/>'),
  left: wrap('<path d="M15 5l-7 7 7 7"/>'),
  right: wrap('<path d="M9 5l7 7-7 7"/>'),
};

/** Put an icon into an element (icons are our own constants, never user input). */
export function setIcon(el, name) {
  el.innerHTML = ICONS[name];
}
