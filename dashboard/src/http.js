// The dashboard's HTTP: one request at a time, in order (a queue), with the bearer token; a
// 401 means the session is over. Errors carry the API's message (docs/protocol.md).
import { ApiError, fetchJSON } from "../../frontend/shared/api.js";
import { expired } from "../../frontend/shared/auth.js";
import { loadConfig, store } from "./state.js";

export function sessionOver() {
  const err = new Error("Your session has expired. Please sign in again.");
  err.session = true;
  return err;
}

const NETWORK = "The server can't be reached. Check your connection and try again.";

function explain(err) {
  if (!(err instanceof ApiError)) return err;
  const bare = err.message === "HTTP " + err.status; // no message or code in the reply
  const out = new Error(err.status === 0 ? NETWORK : bare ? "Request failed (HTTP " + err.status + ")." : err.message);
  out.code = err.code;
  out.status = err.status;
  return out;
}

async function send(method, path, body, { auth = true, raw = false } = {}) {
  const cfg = await loadConfig();
  if (auth && expired(store.token)) throw sessionOver();
  const token = auth ? store.token : undefined;
  if (raw) return fetchRaw(cfg.apiUrl + path, method, token);
  try {
    return await fetchJSON(cfg.apiUrl + path, { method, body, token, cache: "no-store" });
  } catch (err) {
    if (auth && err.status === 401) throw sessionOver();
    throw explain(err);
  }
}

/** A download (the data export): the Response itself. */
async function fetchRaw(url, method, token) {
  let res;
  try {
    res = await fetch(url, { method, headers: token ? { authorization: "Bearer " + token } : {}, cache: "no-store" });
  } catch {
    throw new Error(NETWORK);
  }
  if (res.status === 401 && token) throw sessionOver();
  if (res.ok) return res;
  const json = await res.json().catch(() => ({}));
  throw explain(new ApiError(res.status, json.code, json.message));
}

let queue = Promise.resolve();
/** One request at a time, in order. `auth` adds the bearer token (and a 401 signs out). */
export function api(method, path, body, opts = {}) {
  const run = () => send(method, path, body, opts);
  const p = queue.then(run, run);
  queue = p.catch(() => {});
  return p;
}
