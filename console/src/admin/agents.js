// Admin: agents — invite (a Cognito user; the temporary password goes by email), role, cap,
// teams, disable (cuts their open connections at once) and enable.
import { h } from "../../../frontend/shared/dom.js";
import { admin } from "./api.js";
import { checked, compact, field, int, picker, value } from "./form.js";

const ROLES = [
  ["agent", "Agent"],
  ["supervisor", "Supervisor"],
];

function agentForm(agent, teams, onSubmit) {
  const a = agent || {};
  const form = h(
    "form",
    { class: "admin-form", "data-testid": agent ? "admin-agent-edit" : "admin-agent-new", novalidate: true },
    h("h3", { text: agent ? "Edit " + a.name : "Invite an agent" }),
    field("Name", { name: "name", required: true, maxlength: "100", value: a.name, "data-testid": "admin-agent-name" }),
    agent ? null : field("Email (the invitation goes here)", { name: "email", type: "email", required: true, "data-testid": "admin-agent-email" }),
    field("Role", { name: "role", options: ROLES, value: a.role === "supervisor" ? "supervisor" : "agent" }, "select"),
    field("Concurrent chats (cap)", { name: "cap", type: "number", min: "1", max: "50", value: a.max_concurrent_chats || 3, "data-testid": "admin-agent-cap" }),
    picker("Teams", "teams", teams.map((t) => ({ id: t.team_id, name: t.name })), a.team_ids),
    h("button", { class: "btn btn-primary", type: "submit", "data-testid": "admin-agent-save", text: agent ? "Save" : "Send invitation" }),
  );
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    onSubmit(
      compact({
        name: value(form, "name"),
        email: agent ? undefined : value(form, "email"),
        role: value(form, "role"),
        maxConcurrentChats: int(form, "cap"),
        teamIds: checked(form, "teams"),
      }),
    );
  });
  return form;
}

export async function agentsPanel(ctx) {
  const [{ agents }, { teams }] = await Promise.all([admin("GET", "/agents"), admin("GET", "/teams")]);
  const teamName = new Map(teams.map((t) => [t.team_id, t.name]));
  const save = (method, path, okText) => (body) => ctx.run(() => admin(method, path, body), okText);
  const rows = agents.map((a) => {
    const id = encodeURIComponent(a.agent_id);
    return h(
      "tr",
      { "data-testid": "admin-agent", "data-agent-id": a.agent_id, "data-disabled": a.disabled ? "1" : "" },
      h("td", {}, h("strong", { text: a.name }), h("div", { class: "muted", text: a.email || "" })),
      h("td", { text: a.role }),
      h("td", { text: String(a.max_concurrent_chats) }),
      h("td", { text: (a.team_ids || []).map((t) => teamName.get(t) || t).join(", ") || "—" }),
      h("td", { text: a.disabled ? "Disabled" : "Active" }),
      h(
        "td",
        { class: "actions" },
        h("button", {
          class: "btn btn-ghost btn-sm",
          type: "button",
          text: "Edit",
          onclick: () => ctx.side(agentForm(a, teams, save("PATCH", "/agents/" + id, "Saved " + a.name + "."))),
        }),
        h("button", {
          class: "btn btn-sm " + (a.disabled ? "btn-ghost" : "btn-danger-ghost"),
          type: "button",
          "data-testid": a.disabled ? "admin-agent-enable" : "admin-agent-disable",
          text: a.disabled ? "Enable" : "Disable",
          onclick: () =>
            ctx.run(
              () => admin("POST", "/agents/" + id + (a.disabled ? "/enable" : "/disable"), {}),
              a.disabled ? a.name + " can sign in again." : a.name + " is disabled and was signed out.",
            ),
        }),
      ),
    );
  });
  ctx.side(agentForm(null, teams, save("POST", "/agents", "Invitation sent.")));
  return h(
    "table",
    { class: "admin-table" },
    h("thead", {}, h("tr", {}, ...["Agent", "Role", "Cap", "Teams", "Status", ""].map((t) => h("th", { text: t })))),
    h("tbody", {}, ...rows),
  );
}
