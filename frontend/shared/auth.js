// Cognito ID tokens in the browser: read the claims (the server verifies the signature; the
// page only needs the name, groups and expiry) and keep the token for this tab.

/** The JWT's payload, or {} when it is not a readable JWT. */
export function claims(jwt) {
  try {
    const part = jwt.split(".")[1].replace(/-/g, "+").replace(/_/g, "/");
    const bytes = Uint8Array.from(atob(part), (ch) => ch.charCodeAt(0));
    return JSON.parse(new TextDecoder().decode(bytes));
  } catch {
    return {};
  }
}

/** True when the token is missing, unreadable or expires within `marginMs`. */
export function expired(jwt, marginMs = 5000) {
  const exp = jwt ? claims(jwt).exp : 0;
  return !exp || exp * 1000 < Date.now() + marginMs;
}

/** The Cognito groups in the token ("admins", "supervisors", "agents", "clients"). */
export const groups = (jwt) => {
  const g = claims(jwt)["cognito:groups"];
  return Array.isArray(g) ? g : [];
};

/** A token kept in sessionStorage (per tab, gone when the tab closes). */
export function tokenStore(key) {
  return {
    get: () => sessionStorage.getItem(key),
    set: (token) => sessionStorage.setItem(key, token),
    clear: () => sessionStorage.removeItem(key),
  };
}
