// Admin: clients — onboard, pick up self-service signups, edit the widget (greeting, colour,
// languages, origins, pre-chat fields, timeouts, notification email, tier) and the teams;
// the business hours are edited beside it (hours.js).
import { h } from "../../../frontend/shared/dom.js";
import { admin, list } from "./api.js";
import { checked, compact, field, int, picker, value } from "./form.js";
import { hoursForm } from "./hours.js";

const TIERS = [
  ["basic", "Basic"],
  ["proactive", "Proactive"],
  ["premium", "Premium"],
];

/** The pre-chat fields as the API takes them (camelCase), from the stored ones. */
const prechatJSON = (fields) =>
  JSON.stringify(
    (fields || []).map((f) => {
      const out = { key: f.key, label: f.label, type: f.type, required: !!f.required };
      if (f.type === "consent") out.consentText = f.consent_text || "";
      if (f.type === "select") out.options = f.options || [];
      return out;
    }),
    null,
    1,
  );

/** The client form: empty to onboard, filled to edit. Resolves the body to send. */
function clientForm(client, teams, onSubmit) {
  const c = client || {};
  const form = h(
    "form",
    { class: "admin-form", "data-testid": client ? "admin-client-edit" : "admin-client-new", novalidate: true },
    h("h3", { text: client ? "Edit " + c.name : "Onboard a client" }),
    field("Company name", { name: "name", required: true, maxlength: "100", value: c.name }),
    field("Allowed origins (the website, e.g. https://example.com; one per line)", { name: "origins", rows: "2", value: (c.allowed_origins || []).join("\n") }, "textarea"),
    field("Greeting", { name: "greeting", maxlength: "500", value: c.greeting }),
    field("Accent colour", { name: "accent", type: "color", value: c.accent_color || "#1f6feb" }),
    field("Languages (e.g. en, es)", { name: "languages", value: (c.languages || ["en"]).join(", ") }),
    field("No-answer timeout (seconds, 10–900)", { name: "noAnswer", type: "number", min: "10", max: "900", value: c.no_answer_timeout_seconds || 60 }),
    field("Idle timeout (seconds)", { name: "idle", type: "number", min: "60", value: c.idle_timeout_seconds || 1800 }),
    field("Notification email (leads)", { name: "email", type: "email", value: c.notification_email }),
    field("Tier", { name: "tier", options: TIERS, value: c.tier || "basic" }, "select"),
    field("Pre-chat fields (JSON: key, label, type text|email|phone|textarea|select|consent, required, consentText, options)", { name: "prechat", rows: "4", value: prechatJSON(c.pre_chat_fields) }, "textarea"),
    picker("Teams answering this client", "teams", teams.map((t) => ({ id: t.team_id, name: t.name })), c.team_ids),
    h("button", { class: "btn btn-primary", type: "submit", "data-testid": "admin-client-save", text: client ? "Save" : "Onboard" }),
  );
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    let prechat;
    try {
      prechat = JSON.parse(value(form, "prechat") || "[]");
    } catch {
      return onSubmit(null, "Pre-chat fields: not valid JSON.");
    }
    onSubmit(
      compact({
        name: value(form, "name"),
        allowedOrigins: list(value(form, "origins")),
        greeting: value(form, "greeting"),
        accentColor: value(form, "accent"),
        languages: list(value(form, "languages")),
        noAnswerTimeoutSeconds: int(form, "noAnswer"),
        idleTimeoutSeconds: int(form, "idle"),
        notificationEmail: value(form, "email"),
        tier: value(form, "tier"),
        preChatFields: prechat,
        teamIds: checked(form, "teams"),
      }),
    );
  });
  return form;
}

export async function clientsPanel(ctx) {
  const [{ clients }, { teams }] = await Promise.all([admin("GET", "/clients"), admin("GET", "/teams")]);
  const teamName = new Map(teams.map((t) => [t.team_id, t.name]));
  const rows = clients.map((c) =>
    h(
      "tr",
      { "data-testid": "admin-client", "data-client-id": c.client_id },
      h("td", {}, h("strong", { text: c.name }), c.self_service ? h("span", { class: "ctag", text: "Self-service" }) : null),
      h("td", { class: "mono", text: c.widget_key }),
      h("td", { text: c.status }),
      h("td", { text: (c.team_ids || []).map((id) => teamName.get(id) || id).join(", ") || "—" }),
      h("td", {}, h("button", { class: "btn btn-ghost btn-sm", type: "button", text: "Edit", "data-testid": "admin-client-open", onclick: () => edit(c) })),
    ),
  );
  const save = (path, method, okText) => async (body, problem) => {
    if (!body) return ctx.error(problem);
    await ctx.run(() => admin(method, path, body), okText);
  };
  function edit(c) {
    const settings = clientForm(c, teams, save("/clients/" + encodeURIComponent(c.client_id), "PATCH", "Saved " + c.name + "."));
    ctx.side(h("div", { class: "admin-stack" }, settings, hoursForm(c)));
  }
  ctx.side(clientForm(null, teams, save("/clients", "POST", "Client onboarded.")));
  return h(
    "table",
    { class: "admin-table" },
    h("thead", {}, h("tr", {}, ...["Client", "Widget key", "Status", "Teams", ""].map((t) => h("th", { text: t })))),
    h("tbody", {}, ...rows),
  );
}
