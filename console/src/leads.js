// The Leads inbox: offline messages and chats turned into leads, per client, by status (new /
// in progress / done), with assignee and notes (`/api/clients/{clientId}/leads`, docs/leads.md).
import { fetchJSON } from "../../frontend/shared/api.js";
import { groups } from "../../frontend/shared/auth.js";
import { $, h } from "../../frontend/shared/dom.js";
import { ago, hostOf } from "../../frontend/shared/format.js";
import { loadConfig, store } from "./state.js";
import { toast } from "./text.js";

const STATUS = { new: "New", in_progress: "In progress", done: "Done" };
const REASONS = {
  outside_hours: "Outside hours",
  no_agent_online: "No agent online",
  service_deactivated: "Service deactivated",
  no_answer: "Nobody answered in time",
};
const CLIENT_KEY = "parley.console.leadsClient";

const view = { clientId: localStorage.getItem(CLIENT_KEY) || "", status: "new", leads: [], openId: null, clients: new Map() };

async function call(method, path, body) {
  const cfg = await loadConfig();
  return fetchJSON(cfg.apiUrl + path, { method, body, token: store.token, cache: "no-store" });
}
const leadsPath = (clientId) => "/api/clients/" + encodeURIComponent(clientId) + "/leads";

const remember = (id, name) => id && !view.clients.has(id) && view.clients.set(id, name || id);

/** The clients this person works for: all of them for admins, else those the server named on
 * subscribeQueue (`clients`, when it does) and those their chats came from. */
async function knownClients() {
  for (const c of store.clients || []) remember(c.id, c.name);
  for (const conv of store.queue.values()) remember(conv.clientId);
  for (const chat of store.chats.values()) remember(chat.conv.clientId);
  if (groups(store.token).includes("admins")) await rememberAllClients();
  remember(view.clientId);
  if (!view.clientId && view.clients.size) view.clientId = [...view.clients.keys()][0];
}

async function rememberAllClients() {
  try {
    const { clients } = await call("GET", "/api/admin/clients");
    for (const c of clients || []) view.clients.set(c.client_id, c.name);
  } catch {
    /* keep what we have */
  }
}

function showError(text) {
  $("leads-error").textContent = text || "";
  $("leads-error").hidden = !text;
}

let loading = 0; // only the latest load writes (a tab clicked while another loads)

async function load() {
  const mine = ++loading;
  showError("");
  await knownClients();
  if (mine !== loading) return;
  $("leads-clients").replaceChildren(...[...view.clients].map(([id, name]) => h("option", { value: id, text: name })));
  $("leads-client").value = view.clientId;
  for (const b of document.querySelectorAll("[data-lead-status]"))
    b.setAttribute("aria-selected", String(b.dataset.leadStatus === view.status));
  if (!view.clientId) {
    view.leads = [];
    renderList();
    return showError("Choose a client (its id) to see its leads.");
  }
  try {
    const q = view.status === "all" ? "" : "?status=" + view.status;
    const data = await call("GET", leadsPath(view.clientId) + q);
    if (mine !== loading) return;
    view.leads = data.leads || [];
  } catch (err) {
    if (mine !== loading) return;
    view.leads = [];
    showError(err.status === 404 ? "The Leads API isn't available on this server yet." : err.message);
  }
  renderList();
  renderDetail();
}

function renderList() {
  $("leads-list").replaceChildren(
    ...view.leads.map((l) =>
      h(
        "li",
        {
          class: "lead" + (l.leadId === view.openId ? " active" : ""),
          "data-testid": "console-lead",
          "data-lead-id": l.leadId,
          "data-status": l.status,
          tabindex: "0",
          role: "button",
          onclick: () => openLead(l.leadId),
          onkeydown: (e) => e.key === "Enter" && openLead(l.leadId),
        },
        h("div", { class: "ctop" }, h("span", { class: "cname", text: l.name || l.email }), h("span", { class: "qwait", text: ago(l.createdAt) })),
        h("div", { class: "cpreview", text: l.message }),
        h("div", { class: "qpage", text: [STATUS[l.status], l.assigneeName, REASONS[l.offlineReason]].filter(Boolean).join(" · ") }),
      ),
    ),
  );
  $("leads-empty").hidden = view.leads.length > 0;
}

function openLead(id) {
  view.openId = id;
  renderList();
  renderDetail();
}

async function change(lead, body, okText) {
  try {
    const updated = await call("PATCH", leadsPath(lead.clientId) + "/" + encodeURIComponent(lead.leadId), { ...body, version: lead.version });
    Object.assign(lead, updated);
    toast(okText, "info");
  } catch (err) {
    toast(err.status === 409 ? "Someone changed this lead meanwhile; showing the latest." : err.message);
  }
  await load();
}

async function addNote(lead, form) {
  const text = form.elements.text.value.trim();
  if (!text) return;
  try {
    const updated = await call("POST", leadsPath(lead.clientId) + "/" + encodeURIComponent(lead.leadId) + "/notes", { text });
    Object.assign(lead, updated);
    renderDetail();
  } catch (err) {
    toast(err.message);
  }
}

function detailRows(l) {
  const rows = [
    ["Email", l.email],
    ["Phone", l.phone],
    ["Page", l.pageUrl ? hostOf(l.pageUrl) : ""],
    ["Language", l.language],
    ["Why offline", REASONS[l.offlineReason] || ""],
    ["Source", l.source === "conversation" ? "From a chat" : "Offline form"],
    ["Chat", l.conversationId || ""],
    ["Received", l.createdAt ? new Date(l.createdAt).toLocaleString() : ""],
    ...Object.entries(l.preChat || {}),
  ].filter(([, v]) => v);
  return rows.flatMap(([k, v]) => [h("dt", { text: k }), h("dd", { text: String(v) })]);
}

function renderDetail() {
  const l = view.leads.find((x) => x.leadId === view.openId);
  const box = $("lead-detail");
  if (!l) return box.replaceChildren(h("p", { class: "muted", text: "Pick a lead to see it." }));
  const status = h(
    "select",
    { "data-testid": "console-lead-status", "aria-label": "Status" },
    ...Object.entries(STATUS).map(([v, t]) => h("option", { value: v, text: t })),
  );
  status.value = l.status;
  status.addEventListener("change", () => change(l, { status: status.value }, "Marked " + STATUS[status.value].toLowerCase() + "."));
  const mine = l.assigneeId === store.me.sub;
  const assign = h("button", {
    class: "btn btn-ghost btn-sm",
    type: "button",
    "data-testid": "console-lead-assign",
    text: mine ? "Unassign" : "Assign to me",
    onclick: () => change(l, mine ? { unassign: true } : { assigneeId: store.me.sub }, mine ? "Unassigned." : "Assigned to you."),
  });
  const noteForm = h(
    "form",
    {
      class: "note-form",
      onsubmit: (e) => {
        e.preventDefault();
        addNote(l, noteForm);
      },
    },
    h("textarea", { name: "text", rows: "2", maxlength: "2000", placeholder: "Add a note…", "data-testid": "console-lead-note" }),
    h("button", { class: "btn btn-primary btn-sm", type: "submit", "data-testid": "console-lead-add-note", text: "Add note" }),
  );
  box.replaceChildren(
    h("h2", { class: "chat-title", text: l.name || l.email }),
    h("div", { class: "lead-actions" }, status, assign, l.assigneeName && !mine ? h("span", { class: "muted", text: "Assigned to " + l.assigneeName }) : null),
    h("div", { class: "bubble lead-message", "data-testid": "console-lead-message", text: l.message }),
    h("dl", { class: "info-list" }, ...detailRows(l)),
    h("h3", { class: "side-title", text: "Notes" }),
    h(
      "ul",
      { class: "notes", "data-testid": "console-lead-notes" },
      ...(l.notes || []).map((n) => h("li", {}, h("div", { text: n.text }), h("div", { class: "muted", text: (n.authorName || "") + " · " + ago(n.at) }))),
    ),
    noteForm,
  );
}

/** Turn the open chat into a lead (PR-6 Basic: a ticket). */
export async function chatToLead(conversationId, message) {
  const lead = await call("POST", "/api/conversations/" + encodeURIComponent(conversationId) + "/lead", { message: message || "" });
  view.clientId = lead.clientId || view.clientId;
  return lead;
}

export const showLeads = () => load();

export function wireLeads() {
  $("leads-client").addEventListener("change", () => {
    view.clientId = $("leads-client").value.trim();
    localStorage.setItem(CLIENT_KEY, view.clientId);
    view.openId = null;
    load();
  });
  for (const b of document.querySelectorAll("[data-lead-status]"))
    b.addEventListener("click", () => {
      view.status = b.dataset.leadStatus;
      view.openId = null;
      load();
    });
  $("leads-refresh").addEventListener("click", load);
}
