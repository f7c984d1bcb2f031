// Web Storage can throw (private mode, disabled cookies); losing a remembered value is harmless.
export function storageGet(store, key) {
  try {
    return store.getItem(key);
  } catch {
    return null;
  }
}

export function storageSet(store, key, value) {
  try {
    store.setItem(key, value);
  } catch {
    /* not remembered: the page still works */
  }
}

const HOST_PREFIX = "commandpost.host.";

/** The creator's host token lives in sessionStorage, keyed by share code, so only that tab is host. */
export function rememberHostToken(code, token) {
  storageSet(sessionStorage, HOST_PREFIX + code, token);
}

export function hostTokenFor(code) {
  return storageGet(sessionStorage, HOST_PREFIX + code);
}
