// Camera and microphone: capture with the chosen device, list devices, remember the choice.
import { storageGet, storageSet } from "./storage.js";

const KEYS = { audioinput: "commandpost.mic", videoinput: "commandpost.camera" };

// 1280x720 is the full simulcast layer; subscribers with small tiles get the 640x360 or 320x180
// layer, and without simulcast the publisher scales the camera down to 360 lines when sending.
const VIDEO = { width: { ideal: 1280 }, height: { ideal: 720 }, frameRate: { ideal: 24, max: 30 } };
const AUDIO = { echoCancellation: true, noiseSuppression: true, autoGainControl: true };

export function savedDevice(kind) {
  return storageGet(localStorage, KEYS[kind]) || "";
}

export function saveDevice(kind, deviceId) {
  storageSet(localStorage, KEYS[kind], deviceId);
}

function constraintFor(base, deviceId) {
  return deviceId ? { ...base, deviceId: { exact: deviceId } } : base;
}

/**
 * Capture one kind ("audio" | "video"). A saved device that vanished falls back to the default.
 * Returns a track, or throws the browser's error.
 */
export async function captureTrack(kind, deviceId = "") {
  const base = kind === "audio" ? AUDIO : VIDEO;
  try {
    const stream = await navigator.mediaDevices.getUserMedia({ [kind]: constraintFor(base, deviceId) });
    return stream.getTracks()[0];
  } catch (err) {
    if (!deviceId || err.name !== "OverconstrainedError") throw err;
    const stream = await navigator.mediaDevices.getUserMedia({ [kind]: base });
    return stream.getTracks()[0];
  }
}

/** Capture camera and microphone; a missing one is reported, the other still returned. */
export async function captureBoth({ audioDeviceId = "", videoDeviceId = "" } = {}) {
  if (!navigator.mediaDevices?.getUserMedia) return { audio: null, video: null, error: "no mediaDevices (need https)" };
  const [audio, video] = await Promise.allSettled([captureTrack("audio", audioDeviceId), captureTrack("video", videoDeviceId)]);
  const failed = [audio, video].filter((r) => r.status === "rejected").map((r) => r.reason?.name || String(r.reason));
  return {
    audio: audio.status === "fulfilled" ? audio.value : null,
    video: video.status === "fulfilled" ? video.value : null,
    error: failed.length ? failed.join(", ") : null,
  };
}

/** Device lists by kind; labels are only known after a capture was allowed. */
export async function listDevices() {
  const result = { audioinput: [], videoinput: [] };
  if (!navigator.mediaDevices?.enumerateDevices) return result;
  for (const device of await navigator.mediaDevices.enumerateDevices()) {
    if (result[device.kind]) result[device.kind].push(device);
  }
  return result;
}

/** Fill a <select> with devices, selecting the one in use; labels.unnamed(n) names unlabelled ones. */
export function fillSelect(select, devices, currentId, labels) {
  select.replaceChildren();
  if (!devices.length) {
    select.append(new Option(labels.empty, ""));
    select.disabled = true;
    return;
  }
  select.disabled = false;
  devices.forEach((device, index) => {
    const label = device.label || labels.unnamed(index + 1);
    select.append(new Option(label, device.deviceId, false, device.deviceId === currentId));
  });
}

export function trackDeviceId(track) {
  return track?.getSettings?.().deviceId || "";
}
