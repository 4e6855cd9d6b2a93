// Billing details: the address and tax id printed on invoices, kept on the Stripe customer
// (GET / PUT /api/client/billing/details). A refused field is shown as the server names it and
// nothing is saved.
import { $ } from "../../../frontend/shared/dom.js";
import { api } from "../http.js";
import { busy, toast } from "../ui.js";

const FIELDS = { line1: "bd-line1", line2: "bd-line2", city: "bd-city", postal_code: "bd-postal", state: "bd-state", country: "bd-country" };
let loadedFor = null; // the client whose details are in the form

function fill(details) {
  const a = details.address || {};
  for (const k in FIELDS) $(FIELDS[k]).value = a[k] || "";
  $("bd-tax-type").value = (details.tax_id && details.tax_id.type) || "";
  $("bd-tax-value").value = (details.tax_id && details.tax_id.value) || "";
  $("bd-state-note").textContent = details.address ? "On your invoices." : "Not given yet.";
}

export async function renderBilling(acc) {
  const usable = !!acc.stripe_customer_id;
  $("bd-save").disabled = !usable;
  if (!usable || loadedFor === acc.client_id) return;
  loadedFor = acc.client_id;
  try {
    fill(await api("GET", "/api/client/billing/details"));
  } catch (err) {
    loadedFor = null;
    $("bd-state-note").textContent = "Billing details can't be read right now (" + err.message + ").";
  }
}

function formBody() {
  const address = {};
  for (const k in FIELDS) {
    const v = $(FIELDS[k]).value.trim();
    if (v) address[k] = k === "country" ? v.toUpperCase() : v;
  }
  const type = $("bd-tax-type").value;
  const value = $("bd-tax-value").value.trim();
  return { address, tax_id: type ? { type, value } : null };
}

async function save() {
  const body = formBody();
  if (!body.address.line1 || !body.address.city || !body.address.postal_code || !body.address.country)
    throw new Error("Fill in the address, city, postal code and country.");
  if (body.tax_id && !body.tax_id.value) throw new Error("Enter the tax ID, or choose None.");
  fill(await api("PUT", "/api/client/billing/details", body));
  toast("Billing details saved: they appear on your invoices.");
}

export function initBilling() {
  $("billing-form").addEventListener("submit", (e) => {
    e.preventDefault();
    busy($("bd-save"), "Saving…", save);
  });
}

/** Signed out: the next client loads its own details. */
export function forgetBilling() {
  loadedFor = null;
}
