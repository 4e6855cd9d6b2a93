// A reconnecting JSON WebSocket speaking docs/protocol.md: requests carry a requestId and
// resolve on the matching `ack` (reject on the matching `error`); everything else is an
// event. Reconnects with exponential backoff (1 s, 2 s, 4 s ... capped at 30 s, with jitter).
// Shared by the visitor widget and the agent console.

let counter = 0;
/** A short request id, unique within this page. */
export const rid = () => Date.now().toString(36) + "-" + (++counter).toString(36);

export class RequestError extends Error {
  constructor(code, message) {
    super(message || code);
    this.code = code;
  }
}

/**
 * @param {object} o
 * @param {() => Promise<string>} o.url     resolves the URL to connect to (may refresh credentials);
 *                                         throw an error with `fatal: true` to stop retrying
 * @param {(conn) => Promise<void>} o.ready runs after each open (subscribe, resume, flush)
 * @param {(frame) => void} o.event        server events (frames with a `type` other than ack/error
 *                                         and error frames that answer no request)
 * @param {(state, err?) => void} o.state  "connecting" | "open" | "reconnecting" | "stopped"
 */
export function createConn(o) {
  let ws = null;
  let attempt = 0;
  let timer = 0;
  let pingTimer = 0;
  let stopped = true;
  let isReady = false;
  const pending = new Map(); // requestId -> {resolve, reject, timer}

  const setState = (s, err) => o.state && o.state(s, err);

  function failAll(code) {
    for (const [id, p] of pending) {
      clearTimeout(p.timer);
      p.reject(new RequestError(code));
      pending.delete(id);
    }
  }

  function schedule() {
    if (stopped) return;
    const base = Math.min(30000, 1000 * 2 ** attempt);
    attempt = Math.min(attempt + 1, 10);
    const delay = Math.min(30000, base * (0.75 + Math.random() * 0.5));
    setState("reconnecting", delay);
    clearTimeout(timer);
    timer = setTimeout(open, delay);
  }

  async function open() {
    clearTimeout(timer);
    if (stopped || ws) return;
    setState("connecting");
    let url;
    try {
      url = await o.url();
    } catch (err) {
      if (err && err.fatal) {
        stopped = true;
        setState("stopped", err);
      } else schedule();
      return;
    }
    if (stopped || ws) return;
    let sock;
    try {
      sock = new WebSocket(url);
    } catch (err) {
      schedule();
      return;
    }
    ws = sock;
    sock.onmessage = (ev) => {
      let f;
      try {
        f = JSON.parse(ev.data);
      } catch (e) {
        return;
      }
      if (!f || typeof f !== "object") return;
      const p = f.requestId != null && pending.get(f.requestId);
      if (p && (f.type === "ack" || f.type === "error")) {
        pending.delete(f.requestId);
        clearTimeout(p.timer);
        if (f.type === "ack") p.resolve(f.data || {});
        else p.reject(new RequestError(f.code || "internal_error", f.message));
      } else if (f.type !== "ack") {
        o.event(f);
      }
    };
    sock.onopen = async () => {
      if (ws !== sock) return;
      try {
        await o.ready(api);
        if (ws !== sock) return;
        attempt = 0;
        isReady = true;
        setState("open");
      } catch (err) {
        if (err && err.fatal) {
          stop();
          setState("stopped", err);
        } else if (ws === sock) sock.close();
      }
    };
    sock.onclose = () => {
      if (ws !== sock) return;
      ws = null;
      isReady = false;
      failAll("disconnected");
      schedule();
    };
    sock.onerror = () => {}; // onclose follows
  }

  function send(frame) {
    if (!ws || ws.readyState !== 1) return false;
    ws.send(JSON.stringify(frame));
    return true;
  }

  /** Sends an action; resolves with ack.data, rejects with a RequestError (code). */
  function request(action, payload, timeoutMs = 15000) {
    return new Promise((resolve, reject) => {
      const requestId = rid();
      if (!send({ ...payload, action, requestId })) {
        reject(new RequestError("disconnected"));
        return;
      }
      const t = setTimeout(() => {
        pending.delete(requestId);
        reject(new RequestError("timeout"));
        // No answer: the connection is probably dead; reconnect (and resume).
        if (ws) ws.close();
      }, timeoutMs);
      pending.set(requestId, { resolve, reject, timer: t });
    });
  }

  function start() {
    if (!stopped) return;
    stopped = false;
    attempt = 0;
    clearInterval(pingTimer);
    // API Gateway drops idle connections after 10 minutes.
    pingTimer = setInterval(() => isReady && request("ping", {}).catch(() => {}), 240000);
    open();
  }

  function stop() {
    stopped = true;
    isReady = false;
    clearTimeout(timer);
    clearInterval(pingTimer);
    const s = ws;
    ws = null;
    failAll("disconnected");
    if (s) s.close();
  }

  /** Reconnect now (e.g. the browser came back online). */
  function kick() {
    if (stopped || ws) return;
    attempt = 0;
    open();
  }

  const api = { request, send, start, stop, kick, ready: () => isReady };
  return api;
}
