// Admin: teams — create, rename, choose members. Clients choose their teams (clients panel).
import { h } from "../../../frontend/shared/dom.js";
import { admin } from "./api.js";
import { checked, field, picker, value } from "./form.js";

function teamForm(team, agents, onSubmit) {
  const t = team || {};
  const form = h(
    "form",
    { class: "admin-form", "data-testid": team ? "admin-team-edit" : "admin-team-new", novalidate: true },
    h("h3", { text: team ? "Edit " + t.name : "Create a team" }),
    field("Name", { name: "name", required: true, maxlength: "80", value: t.name, "data-testid": "admin-team-name" }),
    picker("Members", "agents", agents.map((a) => ({ id: a.agent_id, name: a.name })), t.agent_ids),
    h("button", { class: "btn btn-primary", type: "submit", "data-testid": "admin-team-save", text: team ? "Save" : "Create" }),
  );
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    onSubmit({ name: value(form, "name"), agentIds: checked(form, "agents") });
  });
  return form;
}

export async function teamsPanel(ctx) {
  const [{ teams }, { agents }, { clients }] = await Promise.all([admin("GET", "/teams"), admin("GET", "/agents"), admin("GET", "/clients")]);
  const agentName = new Map(agents.map((a) => [a.agent_id, a.name]));
  const clientName = new Map(clients.map((c) => [c.client_id, c.name]));
  const save = (method, path, okText) => (body) => ctx.run(() => admin(method, path, body), okText);
  const rows = teams.map((t) =>
    h(
      "tr",
      { "data-testid": "admin-team", "data-team-id": t.team_id },
      h("td", {}, h("strong", { text: t.name })),
      h("td", { text: (t.agent_ids || []).map((id) => agentName.get(id) || id).join(", ") || "—" }),
      h("td", { text: (t.client_ids || []).map((id) => clientName.get(id) || id).join(", ") || "—" }),
      h(
        "td",
        {},
        h("button", {
          class: "btn btn-ghost btn-sm",
          type: "button",
          text: "Edit",
          onclick: () => ctx.side(teamForm(t, agents, save("PATCH", "/teams/" + encodeURIComponent(t.team_id), "Saved " + t.name + "."))),
        }),
      ),
    ),
  );
  ctx.side(teamForm(null, agents, save("POST", "/teams", "Team created.")));
  return h(
    "table",
    { class: "admin-table" },
    h("thead", {}, h("tr", {}, ...["Team", "Members", "Clients", ""].map((x) => h("th", { text: x })))),
    h("tbody", {}, ...rows),
  );
}
