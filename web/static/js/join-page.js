// Entry point of /j/<code>: lobby, then the meeting, then the "you left" screen.
import { mountCaptions } from "./captions.js";
import { Toolbar } from "./controls.js";
import { exposeDebugHandle } from "./debug.js";
import { Grid } from "./grid.js";
import { HostMenu } from "./host.js";
import { I18n } from "./i18n.js";
import { Prejoin } from "./prejoin.js";
import { mountRecording } from "./recording.js";
import { MeetingSession } from "./session.js";
import { ActiveSpeaker } from "./speaker.js";
import { hostTokenFor, rememberHostToken } from "./storage.js";
import { Toasts } from "./toast.js";
import { mountMeetingWhiteboard } from "./wb-mount.js";

const $ = (selector) => document.querySelector(selector);

/** Share code from the path; a host token from the URL fragment moves into sessionStorage. */
export function readCredentials(loc = window.location) {
  const match = loc.pathname.match(/^\/j\/([^/]+)\/?$/);
  const code = match ? decodeURIComponent(match[1]) : null;
  const fragment = new URLSearchParams(loc.hash.replace(/^#/, ""));
  let token = fragment.get("token");
  if (token) {
    if (code) rememberHostToken(code, token);
    // Keep the token out of the address bar, where people copy links from.
    history.replaceState(null, "", loc.pathname + loc.search);
  } else if (code) {
    token = hostTokenFor(code);
  }
  return { code, token };
}

function main() {
  const i18n = new I18n();
  i18n.apply();
  i18n.bindSwitch($("#lang-switch"));
  const { code, token } = readCredentials();
  const toasts = new Toasts($("#toasts"));
  let hostMenu = null;
  let toolbar = null;
  let speaker = null;
  let whiteboard = null;
  let recording = null;
  let captions = null;
  let minutesLink = null;
  const grid = new Grid($("#grid"), i18n, { onTileAdded: (tile) => hostMenu?.decorate(tile) });

  const notify = (key, params = {}, kind = "info") => toasts.show(i18n.t(key, params), { kind });
  const status = () => renderStatus(i18n, session, grid);
  const ui = {
    grid,
    notify,
    notifyError: (errCode, message) => toasts.show(errorText(i18n, errCode, message), { kind: "error" }),
    changed: () => {
      toolbar?.render();
      hostMenu?.refresh();
      status();
    },
    activeSpeaker: (id) => speaker?.fromServer(id),
    joined: (msg, signaling) => {
      // After the meeting: its minutes (drafts for the host's token, else the published ones).
      minutesLink = `/minutes/${encodeURIComponent(msg.room_id)}#token=${encodeURIComponent(token || msg.token)}`;
      whiteboard?.joined(msg, signaling);
      recording?.joined(msg, signaling);
      captions?.joined(msg, signaling);
    },
    // The server paused our incoming video for lack of downlink: say why the tiles froze.
    bandwidth: ({ videoPaused }) => { $("#bandwidth-notice").hidden = !videoPaused; },
    ended: (reason, detail) => {
      speaker?.stop();
      grid.clear();
      showEnded(i18n, reason, detail);
      if (minutesLink) Object.assign($("#ended-minutes"), { href: minutesLink, hidden: false });
    },
  };
  const session = new MeetingSession(ui);
  toolbar = new Toolbar($("#toolbar"), { session, i18n, notify, shareCode: code });
  hostMenu = new HostMenu({ menu: $("#host-menu"), dialog: $("#confirm-dialog"), session, i18n, grid });
  i18n.onChange(status);
  document.addEventListener("click", () => grid.resumeAudio());
  // Closing the tab is leaving: tell the room at once rather than via the socket's close.
  window.addEventListener("pagehide", () => {
    if (session.state === "joined") session.leave();
  });
  exposeDebugHandle({ session, grid, i18n, toasts, speaker: () => speaker });
  recording = mountRecording({ button: $("[data-tool=record]"), indicator: $("#recording-indicator"), i18n, notify });
  captions = mountCaptions({ button: $("[data-tool=captions]"), transcribeButton: $("[data-tool=transcribe]"), grid, i18n, notify });
  whiteboard = mountMeetingWhiteboard({ session, grid, i18n, notify, meeting: $("#meeting"), button: $("[data-tool=board]") });

  if (!code && !token) {
    $("#prejoin-error").hidden = false;
    $("#prejoin-error").dataset.i18n = "prejoin.noLink";
    i18n.apply();
    $("#join-button").disabled = true;
    return;
  }
  $("#host-note").hidden = !token;
  const prejoin = new Prejoin(prejoinElements(), {
    i18n,
    onJoin: async ({ name, media }) => {
      show("meeting");
      status();
      speaker = new ActiveSpeaker({ session, onChange: (id) => grid.setSpeaking(id) });
      try {
        await session.join({ credentials: token ? { token } : { code }, name, media });
      } catch (err) {
        session.end("failed", err);
      }
    },
  });
  prejoin.start();
}

function prejoinElements() {
  return {
    form: $("#prejoin-form"), name: $("#name"), video: $("#preview-video"), off: $("#preview-off"),
    cameraSelect: $("#camera-select"), micSelect: $("#mic-select"), micToggle: $("#preview-mic"),
    camToggle: $("#preview-cam"), error: $("#prejoin-error"), button: $("#join-button"),
  };
}

function show(section) {
  for (const name of ["prejoin", "meeting", "ended"]) $(`#${name}`).hidden = name !== section;
  document.body.dataset.view = section;
}

function errorText(i18n, code, message) {
  const key = `errors.${code}`;
  const text = i18n.t(key);
  return text === key ? i18n.t("errors.unknown", { reason: message || code }) : text;
}

function renderStatus(i18n, session, grid) {
  const el = $("#room-status");
  if (session.state !== "joined") {
    const key = { joining: "meeting.connecting", reconnecting: "meeting.reconnecting" }[session.state];
    el.textContent = key ? i18n.t(key) : "";
    return;
  }
  const count = grid.participants.size;
  el.textContent = i18n.t("meeting.participants", { count });
  if (session.locked) el.textContent += ` · ${i18n.t("meeting.locked")}`;
  $("#alone-hint").hidden = count > 1;
}

function showEnded(i18n, reason, detail) {
  show("ended");
  const title = $("#ended-title");
  title.dataset.i18n = `ended.${reason}`;
  const detailEl = $("#ended-detail");
  detailEl.hidden = !detail;
  if (detail) detailEl.textContent = errorText(i18n, detail.code, detail.message);
  i18n.onChange(() => {
    if (detail) detailEl.textContent = errorText(i18n, detail.code, detail.message);
  });
  i18n.apply();
  $("#rejoin").onclick = () => window.location.reload();
}

main();
