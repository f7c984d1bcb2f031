// Photo reports: a picture (the phone's camera app, or a frame of the live camera), a note and
// the position, posted to POST /api/rooms/{room}/reports with the token from `joined`.
const MAX_SIDE_PX = 1920; // enough to read a sign; a weak uplink carries it in seconds
const JPEG_QUALITY = 0.85;

function canvasBlob(canvas) {
  return new Promise((resolve, reject) => {
    canvas.toBlob((blob) => (blob ? resolve(blob) : reject(new Error("could not encode the picture"))), "image/jpeg", JPEG_QUALITY);
  });
}

function drawScaled(source, width, height) {
  const scale = Math.min(1, MAX_SIDE_PX / Math.max(width, height));
  const canvas = document.createElement("canvas");
  canvas.width = Math.max(1, Math.round(width * scale));
  canvas.height = Math.max(1, Math.round(height * scale));
  canvas.getContext("2d").drawImage(source, 0, 0, canvas.width, canvas.height);
  return canvas;
}

/** The current frame of a playing <video> as a JPEG blob. */
export async function grabFrame(video) {
  if (!video.videoWidth) throw new Error("the camera shows no picture yet");
  return canvasBlob(drawScaled(video, video.videoWidth, video.videoHeight));
}

/** A picture file from the camera app, scaled down to MAX_SIDE_PX; the original if the
 * browser cannot decode it (the server checks what it is). */
export async function preparePhoto(file) {
  try {
    const bitmap = await createImageBitmap(file);
    if (Math.max(bitmap.width, bitmap.height) <= MAX_SIDE_PX && /^image\/(jpeg|png)$/.test(file.type)) return file;
    return await canvasBlob(drawScaled(bitmap, bitmap.width, bitmap.height));
  } catch {
    return file;
  }
}

export class ReportError extends Error {
  constructor(code, message) {
    super(message || code);
    this.code = code;
  }
}

/** POST the report; resolves with the server's report JSON, rejects with a ReportError. */
export async function sendReport({ roomId, token, photo, note, fix }) {
  if (!token) throw new ReportError("not_joined", "not connected");
  const form = new FormData();
  form.append("photo", photo, photo.type === "image/png" ? "photo.png" : "photo.jpg");
  if (note) form.append("note", note);
  if (fix) {
    form.append("lat", String(fix.lat));
    form.append("lon", String(fix.lon));
    if (fix.accuracy_m !== null && fix.accuracy_m !== undefined) form.append("accuracy_m", String(fix.accuracy_m));
  }
  let response;
  try {
    response = await fetch(`/api/rooms/${encodeURIComponent(roomId)}/reports`, {
      method: "POST", body: form, headers: { Authorization: `Bearer ${token}` },
    });
  } catch (err) {
    throw new ReportError("network", err.message);
  }
  const body = await response.json().catch(() => ({}));
  if (response.status !== 201) throw new ReportError(body.error || `http_${response.status}`, body.message);
  return body;
}
