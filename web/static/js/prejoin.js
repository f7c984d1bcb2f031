// The lobby screen: name, camera/microphone preview with device choice, then join.
import { captureBoth, captureTrack, fillSelect, listDevices, saveDevice, savedDevice, trackDeviceId } from "./devices.js";
import { setIcon } from "./icons.js";
import { storageGet, storageSet } from "./storage.js";

const NAME_KEY = "commandpost.name";

export class Prejoin {
  /** els: {form, name, video, cameraSelect, micSelect, micToggle, camToggle, error, button, off} */
  constructor(els, { i18n, onJoin }) {
    Object.assign(this, { els, i18n, onJoin });
    this.audio = null;
    this.video = null;
    this.audioOn = true;
    this.videoOn = true;
    this.errorKey = null;
    els.name.value = storageGet(localStorage, NAME_KEY) || "";
    this.bind();
    i18n.onChange(() => this.render());
  }

  bind() {
    const { els } = this;
    els.form.addEventListener("submit", (event) => {
      event.preventDefault();
      this.submit();
    });
    els.name.addEventListener("change", () => storageSet(localStorage, NAME_KEY, els.name.value.trim()));
    els.micToggle.addEventListener("click", () => {
      this.audioOn = !this.audioOn;
      this.render();
    });
    els.camToggle.addEventListener("click", () => this.toggleCamera().catch((err) => this.showError("prejoin.mediaError", err)));
    els.cameraSelect.addEventListener("change", () => this.switchDevice("video", els.cameraSelect.value));
    els.micSelect.addEventListener("change", () => this.switchDevice("audio", els.micSelect.value));
    navigator.mediaDevices?.addEventListener?.("devicechange", () => this.refreshDevices());
  }

  /** Capture the preview; a join pressed meanwhile waits for it (see submit). */
  start() {
    this.ready = this.capture().finally(() => (this.els.form.dataset.ready = "true"));
    return this.ready;
  }

  async capture() {
    const media = await captureBoth({ audioDeviceId: savedDevice("audioinput"), videoDeviceId: savedDevice("videoinput") });
    this.audio = media.audio;
    this.setVideo(media.video);
    if (media.error) this.showError("prejoin.mediaError", { message: media.error });
    await this.refreshDevices();
    this.render();
  }

  setVideo(track) {
    this.video = track;
    this.els.video.srcObject = track ? new MediaStream([track]) : null;
  }

  async refreshDevices() {
    const devices = await listDevices();
    const labels = (kindKey) => ({ empty: this.i18n.t("prejoin.noDevice"), unnamed: (n) => this.i18n.t(kindKey, { n }) });
    fillSelect(this.els.cameraSelect, devices.videoinput, trackDeviceId(this.video) || savedDevice("videoinput"), labels("prejoin.cameraN"));
    fillSelect(this.els.micSelect, devices.audioinput, trackDeviceId(this.audio) || savedDevice("audioinput"), labels("prejoin.microphoneN"));
  }

  async switchDevice(kind, deviceId) {
    saveDevice(kind === "audio" ? "audioinput" : "videoinput", deviceId);
    if (kind === "video" && !this.videoOn) return;
    try {
      const track = await captureTrack(kind, deviceId);
      if (kind === "audio") {
        this.audio?.stop();
        this.audio = track;
      } else {
        this.video?.stop();
        this.setVideo(track);
      }
      this.clearError();
    } catch (err) {
      this.showError("prejoin.mediaError", err);
    }
  }

  /** Turning the camera off releases it, so its light goes out while people wait. */
  async toggleCamera() {
    this.videoOn = !this.videoOn;
    if (!this.videoOn) {
      this.video?.stop();
      this.setVideo(null);
    } else {
      try {
        this.setVideo(await captureTrack("video", savedDevice("videoinput")));
      } catch (err) {
        this.videoOn = false;
        throw err;
      } finally {
        this.render();
      }
    }
    this.render();
  }

  async submit() {
    const name = this.els.name.value.trim();
    if (!name) {
      this.showError("prejoin.nameRequired");
      this.els.name.focus();
      return;
    }
    storageSet(localStorage, NAME_KEY, name);
    this.joining = true;
    this.render();
    await this.ready?.catch(() => {});
    // The tracks now belong to the meeting; the preview lets go of them.
    const media = { audio: this.audio, video: this.videoOn ? this.video : null, audioOn: this.audioOn, videoOn: this.videoOn };
    this.els.video.srcObject = null;
    this.onJoin({ name, media });
  }

  showError(key, err = {}) {
    this.errorKey = key;
    this.errorReason = err.name || err.message || "";
    this.render();
  }

  clearError() {
    this.errorKey = null;
    this.render();
  }

  render() {
    const { els, i18n } = this;
    els.error.hidden = !this.errorKey;
    if (this.errorKey) els.error.textContent = i18n.t(this.errorKey, { reason: this.errorReason });
    els.button.disabled = Boolean(this.joining);
    els.button.textContent = i18n.t(this.joining ? "prejoin.joining" : "prejoin.join");
    els.off.hidden = Boolean(this.video);
    const micOn = this.audioOn && this.audio;
    setIcon(els.micToggle, micOn ? "mic" : "micOff");
    els.micToggle.setAttribute("aria-pressed", String(!micOn));
    els.micToggle.setAttribute("aria-label", i18n.t(micOn ? "controls.micOff" : "controls.micOn"));
    els.micToggle.disabled = !this.audio;
    setIcon(els.camToggle, this.videoOn ? "cam" : "camOff");
    els.camToggle.setAttribute("aria-pressed", String(!this.videoOn));
    els.camToggle.setAttribute("aria-label", i18n.t(this.videoOn ? "controls.camOff" : "controls.camOn"));
  }
}
