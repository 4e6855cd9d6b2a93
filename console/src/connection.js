// The connection pill (honest: red "Reconnecting…" as soon as the heartbeat or the browser
// says the socket is gone) and the agent's own status (online / away, `setStatus`).
import { $ } from "../../frontend/shared/dom.js";
import { online, store } from "./state.js";
import { errorText, toast } from "./text.js";

const STATUS_KEY = "parley.console.agentStatus";
const LABELS = { open: "Online", connecting: "Connecting…", reconnecting: "Reconnecting…", stopped: "Offline" };

/** The agent's chosen status for this browser: "online" or "away". */
export const chosenStatus = () => (localStorage.getItem(STATUS_KEY) === "away" ? "away" : "online");

export function showConnection(s) {
  store.connState = s;
  const el = $("status");
  const away = s === "open" && chosenStatus() === "away";
  el.dataset.state = s;
  el.dataset.away = away ? "1" : "";
  el.textContent = away ? "Away" : LABELS[s] || s;
  $("agent-status").disabled = s !== "open";
}

/** Tells the server the chosen status; on an error the selector goes back and nothing else changes. */
export async function sendStatus(status, { quiet = false } = {}) {
  if (!online()) return false;
  try {
    const data = await store.conn.request("setStatus", { status });
    showLoad(data.agent);
    return true;
  } catch (err) {
    if (!quiet) toast("Couldn't change your status: " + errorText(err.code));
    return false;
  }
}

/** The server changed my status (e.g. away after a chat went unanswered): follow it. */
export function statusChanged(agent, reason) {
  const status = agent.status === "away" ? "away" : agent.status === "online" ? "online" : null;
  if (status) {
    localStorage.setItem(STATUS_KEY, status);
    $("agent-status").value = status;
  }
  showLoad(agent);
  showConnection(store.connState);
  if (reason === "no_answer") toast("You were set to Away: a chat went unanswered. Choose Available to get chats again.", "info");
}

let knownCap = null;

/** "2 / 3 chats": my load against my cap, when the server says. */
function showLoad(agent) {
  const el = $("agent-load");
  const known = agent && typeof agent.load === "number" && typeof agent.cap === "number";
  el.hidden = !known;
  if (!known) return;
  knownCap = agent.cap;
  el.textContent = agent.load + " / " + agent.cap + " chats";
}

/** Between status replies, my load is what the router counts: my chats that are still active
 * (routed to me or accepted), so the figure follows assignments, transfers and closes. */
export function refreshLoad() {
  if (knownCap === null) return;
  const active = [...store.chats.values()].filter((c) => c.conv && c.conv.status === "active").length;
  $("agent-load").textContent = active + " / " + knownCap + " chats";
}

export function initStatusControl() {
  const select = $("agent-status");
  select.value = chosenStatus();
  select.addEventListener("change", async () => {
    const next = select.value === "away" ? "away" : "online";
    const before = chosenStatus();
    select.disabled = true;
    const ok = await sendStatus(next);
    select.disabled = !online();
    if (ok) localStorage.setItem(STATUS_KEY, next);
    select.value = ok ? next : before;
    showConnection(store.connState);
  });
}
