// Entry point of /: create a meeting (becoming its host) or join one by link or code.
import { I18n } from "./i18n.js";
import { rememberHostToken } from "./storage.js";

const $ = (selector) => document.querySelector(selector);

/** The share code in a pasted link (".../j/<code>") or a bare code; null if neither. */
export function parseJoinInput(text) {
  const trimmed = text.trim();
  const fromLink = trimmed.match(/\/j\/([A-Za-z0-9_-]+)/);
  if (fromLink) return fromLink[1];
  return /^[A-Za-z0-9_-]{4,64}$/.test(trimmed) ? trimmed : null;
}

async function createRoom(name) {
  const response = await fetch("/api/rooms", {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify(name ? { name } : {}),
  });
  const body = await response.json().catch(() => ({}));
  if (!response.ok) throw new Error(body.message || body.error || `HTTP ${response.status}`);
  return body;
}

/** Where the host goes: the same-origin path with the token kept in this tab only. */
function hostEntry(room) {
  const url = new URL(room.join_url, window.location.href);
  const code = room.share_code || parseJoinInput(url.pathname);
  if (url.origin === window.location.origin && code) {
    rememberHostToken(code, room.host_token);
    return url.pathname;
  }
  return `${url.href}#token=${encodeURIComponent(room.host_token)}`;
}

function main() {
  const i18n = new I18n();
  i18n.apply();
  i18n.bindSwitch($("#lang-switch"));
  let errorKey = null;
  let errorParams = {};
  const showError = (key, params = {}) => {
    [errorKey, errorParams] = [key, params];
    $("#landing-error").hidden = !key;
    if (key) $("#landing-error").textContent = i18n.t(key, params);
  };
  i18n.onChange(() => showError(errorKey, errorParams));

  $("#create-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const button = $("#create-button");
    button.disabled = true;
    button.dataset.i18n = "landing.creating";
    i18n.apply(button.parentElement);
    try {
      const room = await createRoom($("#room-name").value.trim());
      showError(null);
      showCreated(room, hostEntry(room));
    } catch (err) {
      showError("landing.createFailed", { reason: err.message });
    } finally {
      button.disabled = false;
      button.dataset.i18n = "landing.create";
      i18n.apply(button.parentElement);
    }
  });

  for (const [button, input] of [["#copy-button", "#join-link"], ["#copy-field-button", "#field-link"], ["#copy-wall-button", "#wall-link"]]) {
    $(button).addEventListener("click", async () => {
      try {
        await navigator.clipboard.writeText($(input).value);
      } catch {
        $(input).select(); // the user copies by hand
      }
    });
  }

  $("#join-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const code = parseJoinInput($("#join-input").value);
    if (!code) return showError("landing.badCode");
    window.location.href = `/j/${encodeURIComponent(code)}`;
  });
}

function showCreated(room, entry) {
  $("#created").hidden = false;
  $("#join-link").value = new URL(room.join_url, window.location.href).href;
  // Same share code, the phone page for field staff (camera + GPS, photo reports).
  $("#field-link").value = new URL(room.field_url, window.location.href).href;
  // And the command wall for the operators' large screens.
  $("#wall-link").value = new URL(`/wall/${encodeURIComponent(room.share_code)}`, window.location.href).href;
  $("#enter-link").href = entry;
  $("#enter-link").focus();
}

main();
