// The local stack's clock (config.local only): move time forward and watch billing happen.
import { $ } from "../../../frontend/shared/dom.js";
import { plural } from "../../../frontend/shared/format.js";
import { api } from "../http.js";
import { loadConfig, store } from "../state.js";
import { app, busy, toast } from "../ui.js";

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

async function move(btn) {
  const days = Number(btn.dataset.days);
  const all = document.querySelectorAll("#clock [data-days]");
  for (const b of all) b.disabled = true;
  try {
    await busy(btn, "Moving…", async () => {
      const res = await api("POST", "/_local/clock", { days }, { auth: false });
      await app.reload();
      showClock(res.now);
      const fired = (res.fired || []).length;
      toast("Moved " + plural(days, "day") + " forward · " + plural(fired, "scheduled job") + " ran.");
    });
  } finally {
    for (const b of all) b.disabled = false;
  }
}

export function initClock() {
  for (const btn of document.querySelectorAll("#clock [data-days]")) btn.addEventListener("click", () => move(btn));
}
