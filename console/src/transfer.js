// Transfer: hand the open chat to a colleague or a team, with a note only agents see
// (`transferConversation`, docs/protocol.md). The choices come from the admin API when the
// agent is an admin; anyone can also type an agent or team id.
import { fetchJSON } from "../../frontend/shared/api.js";
import { groups } from "../../frontend/shared/auth.js";
import { $, h } from "../../frontend/shared/dom.js";
import { dismiss, renderPane } from "./conversation.js";
import { loadConfig, online, store } from "./state.js";
import { errorText, toast, visitorLabel } from "./text.js";

let directory = null; // {agents: [{id, name}], teams: [{id, name}]}

async function loadDirectory() {
  if (directory) return directory;
  directory = { agents: [], teams: [] };
  if (!groups(store.token).includes("admins")) return directory;
  try {
    const cfg = await loadConfig();
    const [a, t] = await Promise.all([
      fetchJSON(cfg.apiUrl + "/api/admin/agents", { token: store.token }),
      fetchJSON(cfg.apiUrl + "/api/admin/teams", { token: store.token }),
    ]);
    directory.agents = (a.agents || [])
      .filter((x) => !x.disabled && x.agent_id !== store.me.sub)
      .map((x) => ({ id: x.agent_id, name: x.name }));
    directory.teams = (t.teams || []).map((x) => ({ id: x.team_id, name: x.name }));
  } catch {
    /* no directory: typing an id still works */
  }
  return directory;
}

function options(dir) {
  const group = (label, kind, items) =>
    items.length ? h("optgroup", { label }, ...items.map((x) => h("option", { value: kind + ":" + x.id, text: x.name }))) : null;
  return [
    h("option", { value: "", text: "Choose…" }),
    group("Teams", "team", dir.teams),
    group("Agents", "agent", dir.agents),
    h("option", { value: "manual", text: "Other (type an id)…" }),
  ];
}

/** The target as {toAgentId} or {toTeamId}, or null when none is chosen. */
function target() {
  const choice = $("transfer-target").value;
  if (choice === "manual") {
    const id = $("transfer-id").value.trim();
    if (!id) return null;
    return $("transfer-kind").value === "team" ? { toTeamId: id } : { toAgentId: id };
  }
  const [kind, id] = choice.split(/:(.*)/);
  if (!id) return null;
  return kind === "team" ? { toTeamId: id } : { toAgentId: id };
}

async function open() {
  const chat = store.chats.get(store.openId);
  if (!chat) return;
  $("transfer-who").textContent = visitorLabel(chat.conv);
  $("transfer-error").hidden = true;
  $("transfer-note").value = "";
  $("transfer-id").value = "";
  $("transfer-manual").hidden = true;
  $("transfer-target").replaceChildren(...options(await loadDirectory()));
  $("transfer-dialog").showModal();
}

async function submit(e) {
  e.preventDefault();
  const chat = store.chats.get(store.openId);
  const to = target();
  const err = $("transfer-error");
  if (!chat || !to) {
    err.textContent = "Choose a team or an agent.";
    err.hidden = false;
    return;
  }
  if (!online()) {
    err.textContent = errorText("disconnected");
    err.hidden = false;
    return;
  }
  const btn = $("transfer-send");
  btn.disabled = true;
  try {
    const data = await store.conn.request("transferConversation", {
      conversationId: chat.id,
      ...to,
      note: $("transfer-note").value.trim(),
    });
    $("transfer-dialog").close();
    const conv = (data && data.conversation) || {};
    if (conv.agentId !== store.me.sub) {
      toast("Transferred the chat with " + visitorLabel(chat.conv) + ".", "info");
      dismiss(chat.id);
    } else {
      chat.conv = { ...chat.conv, ...conv };
      renderPane(false);
    }
  } catch (ex) {
    err.textContent = "Couldn't transfer: " + errorText(ex.code) + (ex.message && ex.message !== ex.code ? " (" + ex.message + ")" : "");
    err.hidden = false;
  } finally {
    btn.disabled = false;
  }
}

/** Shows the Transfer button for an open chat of mine. */
export function renderTransfer(chat) {
  $("transfer-chat").hidden = !chat || chat.conv.status !== "active";
}

export function initTransfer() {
  $("transfer-chat").addEventListener("click", open);
  $("transfer-form").addEventListener("submit", submit);
  $("transfer-cancel").addEventListener("click", () => $("transfer-dialog").close());
  $("transfer-target").addEventListener("change", () => {
    $("transfer-manual").hidden = $("transfer-target").value !== "manual";
  });
}
