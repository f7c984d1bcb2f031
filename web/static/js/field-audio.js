// The field page's stand-in for the meeting grid: it shows nobody (the phone's screen is for its
// own camera) but plays the room's voices, so the command centre can talk to the unit.
export class AudioOnlyGrid {
  constructor(container) {
    this.container = container;
    this.participants = new Map();
    this.tileMap = new Map();
    this.players = new Map(); // track id -> <audio>
  }

  setTracks(entries) {
    const audio = new Map(entries.filter(({ info }) => info.kind === "audio").map((e) => [e.info.track_id, e]));
    for (const [id, player] of this.players) {
      if (!audio.has(id)) {
        player.srcObject = null;
        player.remove();
        this.players.delete(id);
      }
    }
    for (const [id, { track }] of audio) {
      if (this.players.has(id)) continue;
      const player = document.createElement("audio");
      player.autoplay = true;
      player.srcObject = new MediaStream([track]);
      this.container.append(player);
      this.players.set(id, player);
      player.play().catch(() => {}); // blocked until a tap; resumeAudio() retries
    }
  }

  resumeAudio() {
    for (const player of this.players.values()) player.play().catch(() => {});
  }

  upsertParticipant(p) {
    this.participants.set(p.id, p);
  }

  removeParticipant(id) {
    this.participants.delete(id);
  }

  setSelf(p) {
    this.participants.set(p.id, p);
  }

  tile() {
    return { setTrack() {} };
  }

  setLocalScreen() {}
  setState() {}
  setLevels() {}
  setSpeaking() {}

  clear() {
    this.setTracks([]);
    this.participants.clear();
  }
}
