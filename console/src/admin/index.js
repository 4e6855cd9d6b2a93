// The admin area (Cognito group "admins"): tabs for clients, agents and teams. Each panel
// renders a table and a side form; `ctx.run` sends a change, shows the result and reloads.
import { groups } from "../../../frontend/shared/auth.js";
import { $, h } from "../../../frontend/shared/dom.js";
import { store } from "../state.js";
import { toast } from "../text.js";
import { agentsPanel } from "./agents.js";
import { clientsPanel } from "./clients.js";
import { teamsPanel } from "./teams.js";

const PANELS = { clients: clientsPanel, agents: agentsPanel, teams: teamsPanel };
let tab = "clients";

export const isAdmin = () => groups(store.token).includes("admins");

function showError(text) {
  const el = $("admin-error");
  el.textContent = text || "";
  el.hidden = !text;
}

let rendering = 0; // only the latest render writes (a tab clicked while another loads)

async function render() {
  const mine = ++rendering;
  const current = () => mine === rendering;
  for (const b of document.querySelectorAll("[data-admin-tab]")) b.setAttribute("aria-selected", String(b.dataset.adminTab === tab));
  const main = $("admin-main");
  const side = $("admin-side");
  const ctx = {
    side: (form) => current() && side.replaceChildren(form),
    error: showError,
    run: async (fn, okText) => {
      showError("");
      try {
        await fn();
        toast(okText, "info");
        await render();
      } catch (err) {
        showError(err.message || "Something went wrong.");
      }
    },
  };
  main.replaceChildren(h("p", { class: "muted", text: "Loading…" }));
  side.replaceChildren();
  try {
    const table = await PANELS[tab](ctx);
    if (current()) main.replaceChildren(table);
  } catch (err) {
    if (!current()) return;
    main.replaceChildren();
    showError(err.status === 403 ? "Only the provider's admins can use this area." : err.message || "Couldn't load.");
  }
}

/** Shows the admin area (the view switch is views.js). */
export const showAdmin = () => render();

export function wireAdmin() {
  for (const b of document.querySelectorAll("[data-admin-tab]"))
    b.addEventListener("click", () => {
      tab = b.dataset.adminTab;
      showError("");
      render();
    });
}
