// A reconnecting JSON WebSocket speaking docs/protocol.md: requests carry a requestId and
// resolve on the matching `ack` (reject on the matching `error`); everything else is an
// event. Reconnects with exponential backoff (1 s, 2 s, 4 s ... capped at 30 s, with jitter).
//
// The connection state is honest: a socket can die without a close event (Wi-Fi gone, a
// laptop lid, a proxy dropping the TCP connection), so a heartbeat sends `ping` when nothing
// was heard for `heartbeatMs` and drops the socket when its ack does not come within
// `deadlineMs`; an unanswered request drops it too, and so does the browser going offline. A
// page coming back into view pings at once (a laptop lid, a phone's background tab), and a
// page coming back online reconnects at once. Shared by the visitor widget and the agent console.

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
 * @param {(state, err?) => void} o.state  "connecting" (the first time) | "open" |
 *                                         "reconnecting" (lost, or not reached yet after a failure) | "stopped"
 * @param {number} [o.heartbeatMs]         ping after this long without any frame from the server
 *                                         (default 15 s, docs/protocol.md "Client rules")
 * @param {number} [o.deadlineMs]          a ping's ack must come within this long (default 5 s)
 * @param {number} [o.requestTimeoutMs]    default time an action's ack may take
 */
export function createConn(o) {
  const heartbeatMs = o.heartbeatMs || 15000;
  const deadlineMs = o.deadlineMs || 5000;
  const requestTimeoutMs = o.requestTimeoutMs || 10000;
  let ws = null;
  let attempt = 0;
  let timer = 0;
  let beatTimer = 0;
  let lastHeard = 0;
  let stopped = true;
  let isReady = false;
  let wasOpen = false;
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

  /** Forget a socket at once (without waiting for a closing handshake a dead peer never answers). */
  function drop(sock) {
    if (!sock || ws !== sock) return;
    ws = null;
    isReady = false;
    sock.onmessage = sock.onopen = sock.onclose = null;
    try {
      sock.close();
    } catch {
      /* already closed */
    }
    failAll("disconnected");
    schedule();
  }

  async function open() {
    clearTimeout(timer);
    if (stopped || ws) return;
    setState(wasOpen || attempt ? "reconnecting" : "connecting");
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
    } catch {
      schedule();
      return;
    }
    ws = sock;
    sock.onmessage = (ev) => {
      lastHeard = Date.now();
      let f;
      try {
        f = JSON.parse(ev.data);
      } catch {
        return;
      }
      if (!f || typeof f !== "object") return;
      const p = f.requestId != null && pending.get(f.requestId);
      if (p && (f.type === "ack" || f.type === "error")) {
        pending.delete(f.requestId);
        clearTimeout(p.timer);
        if (f.type === "ack") p.resolve(f.data || {});
        else
          p.reject(
            Object.assign(new RequestError(f.code || "internal_error", f.message), {
              field: f.field,
              reason: f.reason,
              retryAfter: f.retryAfter,
            }),
          );
      } else if (f.type !== "ack") {
        o.event(f);
      }
    };
    sock.onopen = async () => {
      if (ws !== sock) return;
      lastHeard = Date.now();
      try {
        await o.ready(api);
        if (ws !== sock) return;
        attempt = 0;
        isReady = true;
        wasOpen = true;
        setState("open");
      } catch (err) {
        if (err && err.fatal) {
          stop();
          setState("stopped", err);
        } else drop(sock);
      }
    };
    sock.onclose = () => drop(sock);
    sock.onerror = () => {}; // onclose follows
  }

  function send(frame) {
    if (!ws || ws.readyState !== 1) return false;
    ws.send(JSON.stringify(frame));
    return true;
  }

  /** Sends an action; resolves with ack.data, rejects with a RequestError (code). */
  function request(action, payload, timeoutMs = requestTimeoutMs) {
    return new Promise((resolve, reject) => {
      const requestId = rid();
      const sock = ws;
      if (!send({ ...payload, action, requestId })) {
        reject(new RequestError("disconnected"));
        return;
      }
      const t = setTimeout(() => {
        pending.delete(requestId);
        reject(new RequestError("timeout"));
        // No answer: the connection is probably dead; reconnect (and resume).
        drop(sock);
      }, timeoutMs);
      pending.set(requestId, { resolve, reject, timer: t });
    });
  }

  function beat() {
    // Any frame counts as a sign of life; ping only a quiet socket.
    if (isReady && !pinging && Date.now() - lastHeard >= heartbeatMs - 50) ping();
  }

  let pinging = false; // one ping at a time: its deadline decides
  function ping() {
    pinging = true;
    request("ping", {}, deadlineMs)
      .catch(() => {})
      .finally(() => (pinging = false));
  }

  const onOffline = () => drop(ws);
  const onOnline = () => kick();
  // Back in view: timers may have been throttled while hidden, so check the socket now.
  const onVisible = () => {
    if (document.visibilityState !== "visible") return;
    if (isReady) {
      if (!pinging) ping();
    } else kick();
  };

  function start() {
    if (!stopped) return;
    stopped = false;
    attempt = 0;
    clearInterval(beatTimer);
    // Checked every second (a timestamp compare), so a quiet socket is pinged heartbeatMs after
    // the last frame and found dead within heartbeatMs + deadlineMs.
    beatTimer = setInterval(beat, 1000);
    addEventListener("offline", onOffline);
    addEventListener("online", onOnline);
    document.addEventListener("visibilitychange", onVisible);
    open();
  }

  function stop() {
    stopped = true;
    isReady = false;
    clearTimeout(timer);
    clearInterval(beatTimer);
    removeEventListener("offline", onOffline);
    removeEventListener("online", onOnline);
    document.removeEventListener("visibilitychange", onVisible);
    const s = ws;
    ws = null;
    failAll("disconnected");
    if (s) {
      s.onmessage = s.onopen = s.onclose = null;
      s.close();
    }
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
