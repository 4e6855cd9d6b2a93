// The console's areas: Chats (queue, my chats, the conversation), Leads, and Admin (admins
// only). The topbar switches the whole work area.
import { $ } from "../../frontend/shared/dom.js";
import { isAdmin, showAdmin } from "./admin/index.js";
import { showLeads } from "./leads.js";

const VIEWS = ["chats", "leads", "admin"];

export function showView(view) {
  const next = view === "admin" && !isAdmin() ? "chats" : VIEWS.includes(view) ? view : "chats";
  $("shell").dataset.view = next;
  $("admin-view").hidden = next !== "admin";
  $("leads-view").hidden = next !== "leads";
  for (const v of VIEWS) $("nav-" + v).setAttribute("aria-current", v === next ? "page" : "false");
  if (next === "admin") showAdmin();
  if (next === "leads") showLeads();
}

/** After sign-in: the Admin link for admins only; back to the chats. */
export function initViews() {
  $("nav-admin").hidden = !isAdmin();
  showView("chats");
}

export function wireViews() {
  for (const v of VIEWS) $("nav-" + v).addEventListener("click", () => showView(v));
}
