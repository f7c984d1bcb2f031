// Our signalling does not trickle ICE: every SDP must carry its candidates.
const GATHER_TIMEOUT_MS = 5000;

/** Wait for ICE gathering to finish, or give up after a while and send what we have. */
export function iceGatheringComplete(pc, timeoutMs = GATHER_TIMEOUT_MS) {
  if (pc.iceGatheringState === "complete") return Promise.resolve();
  return new Promise((resolve) => {
    const finish = () => {
      pc.removeEventListener("icegatheringstatechange", check);
      clearTimeout(timer);
      resolve();
    };
    const check = () => {
      if (pc.iceGatheringState === "complete") finish();
    };
    const timer = setTimeout(finish, timeoutMs);
    pc.addEventListener("icegatheringstatechange", check);
  });
}

export function peerConfig(iceServers) {
  // max-bundle: one transport per connection, so re-offers never need new candidates.
  return { iceServers: iceServers || [], bundlePolicy: "max-bundle", rtcpMuxPolicy: "require" };
}
