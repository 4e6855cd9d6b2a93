// The local stack's clock (config.local only), read-only: moving it is the control server's,
// which only the command line reaches with its token (`make clock DAYS=7`; docs/security.md).
import { $ } from "../../../frontend/shared/dom.js";
import { api } from "../http.js";
import { loadConfig, store } from "../state.js";

function showClock(now) {
  const d = new Date(now);
  const data = store.data;
  $("clock-now").textContent = isNaN(d)
    ? String(now)
    : "Now " + d.toISOString().slice(0, 16).replace("T", " ") + " UTC" + (data && data.today ? " · business day " + data.today : "");
}

export async function refreshClock() {
  const c = await loadConfig();
  const res = await api("GET", "/_local/clock", undefined, { auth: false });
  if (c.local) showClock(res.now);
}
