// window.commandpost: a read-mostly handle for end-to-end tests and for debugging in the console.
export function exposeDebugHandle({ session, grid, i18n, toasts, speaker }) {
  window.commandpost = {
    get participantId() {
      return session.participantId;
    },
    get roomId() {
      return session.roomId;
    },
    get state() {
      return session.state;
    },
    get grants() {
      return [...session.grants];
    },
    get locked() {
      return session.locked;
    },
    get publishPc() {
      return session.publisher?.pc ?? null;
    },
    /** The camera's simulcast rids being sent (the server's `layers` message applied). */
    activeLayers() {
      return session.publisher?.activeLayers("camera") ?? [];
    },
    get subscribePc() {
      return session.subscriber?.pc ?? null;
    },
    get metrics() {
      return { ...session.metrics };
    },
    /** The server's last `bandwidth` message: { estimateBps, videoPaused } or null. */
    get bandwidth() {
      return session.bandwidth ? { ...session.bandwidth } : null;
    },
    get lang() {
      return i18n.lang;
    },
    setLang: (lang) => i18n.setLang(lang),
    tiles: () => grid.tiles(),
    toasts: () => toasts.log.slice(),
    activeSpeaker: () => speaker()?.current ?? null,
    /** "server" once the server's active_speaker drives the highlight, else "local". */
    speakerSource: () => (speaker()?.server ? "server" : "local"),
    /** Inbound streams of the subscribe connection, labelled with who sends them. */
    async inbound() {
      const sub = session.subscriber;
      if (!sub?.pc) return [];
      const byMid = new Map(sub.current.map((entry) => [entry.mid, entry.info]));
      const rows = [];
      (await sub.pc.getStats()).forEach((r) => {
        if (r.type !== "inbound-rtp") return;
        const info = byMid.get(r.mid) || {};
        rows.push({
          mid: r.mid, kind: r.kind, participantId: info.participant_id ?? null, source: info.source ?? null,
          framesDecoded: r.framesDecoded ?? 0, totalAudioEnergy: r.totalAudioEnergy ?? 0,
          bytesReceived: r.bytesReceived ?? 0, packetsLost: r.packetsLost ?? 0,
          frameWidth: r.frameWidth ?? null, frameHeight: r.frameHeight ?? null,
        });
      });
      return rows;
    },
    session,
  };
}
