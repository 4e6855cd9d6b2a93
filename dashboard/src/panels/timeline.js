// The account's history, newest first, in words.
import { $, h } from "../../../frontend/shared/dom.js";
import { money } from "../../../frontend/shared/format.js";
import { planName, store } from "../state.js";

const amount = (d, k) => (d[k] != null ? money(d[k]) : "");
/** "due 2026-02-11": the invoice's one due date, the ledger's (as on Stripe's invoice). */
function dueOf(invoiceId) {
  const inv = (store.data.invoices || []).find((i) => i.invoice_id === invoiceId);
  return inv ? "due " + inv.due_date : "";
}

// kind -> (detail) => [title, sub, tone]
const EVENTS = {
  account_opened: (d) => ["Account opened" + (d.trial_start ? " — free trial started" : ""), "", "ok"],
  plan_chosen: (d) => ["Plan chosen: " + planName(d.plan_id), "Paid service starts with it after the trial.", ""],
  plan_change_requested: (d) => ["Plan change requested: " + planName(d.plan_id), "Takes effect at the next billing cycle.", ""],
  paid_service_started: (d) => ["Paid service started on " + planName(d.plan_id), "", "ok"],
  trial_converted_early: (d) => ["Trial converted to paid early", d.why || "", "warn"],
  invoice_issued: (d) => ["Invoice issued: " + amount(d, "total_cents"), [d.invoice_id, dueOf(d.invoice_id)].filter(Boolean).join(" · "), ""],
  final_invoice: () => ["Final invoice issued", "", ""],
  payment_received: (d) => ["Payment received: " + amount(d, "amount_cents"), d.invoice_id || "", "ok"],
  payment_failed: (d) => ["Payment failed", [d.invoice_id, dueOf(d.invoice_id)].filter(Boolean).join(" · "), "bad"],
  late_charge: (d) => ["Late charge added: " + amount(d, "amount_cents"), d.for_invoice_id ? "for " + d.for_invoice_id : "", "bad"],
  service_deactivated: (d) => ["Service deactivated", d.why || "", "bad"],
  package_upgraded: (d) => ["Package upgraded to " + planName(d.to_plan_id), d.why || "", "warn"],
  notice_given: (d) => ["Notice given — service ends after " + (d.effective_date || "—"), "", "warn"],
  notice_withdrawn: () => ["Notice withdrawn", "", "ok"],
  service_stopped: (d) => ["Service stopped", d.why || "", "bad"],
  service_terminated: (d) => ["Service terminated", d.data_deletion_date ? "Data deletion on " + d.data_deletion_date : "", "bad"],
  data_deleted: () => ["Chat data deleted after the retention period", "", ""],
  chargeback: (d) => ["Chargeback on " + (d.invoice_id || "an invoice"), dueOf(d.invoice_id), "bad"],
};

function describe(ev) {
  const d = ev.detail || {};
  if (Object.prototype.hasOwnProperty.call(EVENTS, ev.kind)) return EVENTS[ev.kind](d);
  const label = String(ev.kind || "event").replace(/_/g, " ");
  return [label.charAt(0).toUpperCase() + label.slice(1), d.why || "", ""];
}

function item(ev) {
  const [title, sub, tone] = describe(ev);
  const rule = (ev.detail && ev.detail.rule) || "";
  return h(
    "li",
    { class: "tl-item", "data-kind": ev.kind, "data-tone": tone || "" },
    h("span", { class: "tl-day", text: ev.day }),
    h("span", { class: "tl-dot", "aria-hidden": "true" }),
    h(
      "div",
      {},
      h("div", { class: "tl-title" }, title, rule ? " " : null, rule ? h("span", { class: "rule", text: rule }) : null),
      sub ? h("div", { class: "tl-sub", text: sub }) : null,
    ),
  );
}

export function renderTimeline() {
  const items = (store.data.history || []).slice().sort((a, b) => (a.at < b.at ? 1 : a.at > b.at ? -1 : 0));
  $("timeline").replaceChildren(...items.map(item));
  if (!items.length) $("timeline").append(h("li", { class: "empty", text: "Nothing yet." }));
}
