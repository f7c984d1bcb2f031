import { storageGet } from "./storage.js";

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

const RELAY_FLAG = "commandpost.relay";

/** Relay-only ICE (`?relay=1` in the page URL, or localStorage "commandpost.relay" = "1"):
 * media must go through the TURN server from `joined`, which shows whether TURN works. */
export function relayOnly() {
  if (new URLSearchParams(location.search).get("relay") === "1") return true;
  return storageGet(localStorage, RELAY_FLAG) === "1";
}

export function peerConfig(iceServers) {
  // max-bundle: one transport per connection, so re-offers never need new candidates.
  const config = { iceServers: iceServers || [], bundlePolicy: "max-bundle", rtcpMuxPolicy: "require" };
  if (relayOnly()) config.iceTransportPolicy = "relay";
  return config;
}
