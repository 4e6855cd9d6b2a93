// Invoices with their lines, due dates (the ledger's, as on Stripe's invoice) and the chat
// performance report (CH-4); per invoice a PDF, Pay now when something is owed, and on AWS
// Stripe's own invoice page. Below the table, the upcoming invoice as the engine computes it.
import { $, h } from "../../../frontend/shared/dom.js";
import { money, plural } from "../../../frontend/shared/format.js";
import { api } from "../http.js";
import { duration, store } from "../state.js";
import { app, busy, toast } from "../ui.js";
import { downloadPdf, openStripe, payInvoice } from "./paynow.js";

const INVOICE_KINDS = { cycle: "Monthly", final: "Final", trial_usage: "Trial usage", late_charge: "Late charge", add_on: "Add-on" };

function invoiceStatus(inv) {
  if (inv.status === "paid") return h("span", { class: "pill pill-ok", text: "Paid" });
  if (inv.status === "void") return h("span", { class: "pill", text: "Void" });
  if (inv.total_cents - inv.amount_paid_cents <= 0) return h("span", { class: "pill", text: "Open · nothing due" });
  const overdue = inv.due_date && store.data.today > inv.due_date;
  return h("span", { class: "pill " + (overdue ? "pill-bad" : "pill-warn"), text: overdue ? "Overdue" : "Open" });
}

function invoiceLine(l) {
  return h(
    "tr",
    { "data-testid": "dash-invoice-line", "data-kind": l.kind },
    h(
      "td",
      { class: "line-desc" },
      l.description,
      l.period_start ? h("span", { class: "line-period", text: "Service period " + l.period_start + " to " + l.period_end }) : null,
    ),
    h("td", {}, h("span", { class: "rule", text: l.rule_id })),
    h("td", { class: "line-qty", text: String(l.quantity) + " × " + money(l.unit_amount_cents) }),
    h("td", { class: "num", text: money(l.amount_cents) }),
  );
}

function reportText(r) {
  return (
    "Cycle " + r.cycle_start + " to " + r.cycle_end + ": " + plural(r.engaged_chats, "engaged chat") +
    (r.conversations ? " of " + plural(r.conversations, "conversation") : "") +
    " · average first response " + (r.first_response_seconds_avg == null ? "—" : duration(r.first_response_seconds_avg)) +
    (r.response_seconds_avg != null ? " · average response " + duration(r.response_seconds_avg) : "") +
    (r.satisfaction_avg != null ? " · satisfaction " + Number(r.satisfaction_avg).toFixed(1) : "")
  );
}

function invoiceDetail(inv) {
  const lines = h("table", { class: "lines", "data-testid": "dash-invoice-lines" }, h("tbody", {}, ...(inv.lines || []).map(invoiceLine)));
  const due = Math.max(inv.total_cents - inv.amount_paid_cents, 0);
  const meta = h(
    "div",
    { class: "inv-meta" },
    h("span", { text: "Issued " + inv.issue_date }),
    h("span", { text: "Due " + inv.due_date + " (CO-10)" }),
    h("span", { text: "Paid " + money(inv.amount_paid_cents) }),
    inv.status === "open" ? h("span", { text: "Amount due " + money(due) }) : null,
    inv.for_invoice_id ? h("span", { text: "For invoice " + inv.for_invoice_id }) : null,
    inv.disputed ? h("span", { class: "pill pill-bad", text: "Disputed" }) : null,
  );
  const report = inv.report
    ? h(
        "div",
        { class: "report", "data-testid": "dash-invoice-report" },
        h("div", { class: "report-title" }, "Chat performance report ", h("span", { class: "rule", text: "CH-4" })),
        h("div", { text: reportText(inv.report) }),
      )
    : null;
  return h("div", {}, meta, lines, report, invoiceActions(inv, due));
}

function action(text, testid, label, fn, primary) {
  const btn = h("button", { type: "button", class: "btn btn-sm " + (primary ? "btn-primary" : "btn-ghost"), "data-testid": testid, text });
  btn.addEventListener("click", (e) => {
    e.stopPropagation();
    busy(btn, label, fn);
  });
  return btn;
}

function invoiceActions(inv, due) {
  const local = !!(store.cfg && store.cfg.local);
  const pay = async () => {
    await payInvoice(inv.invoice_id);
    await app.reload();
    toast("Invoice " + inv.invoice_id + " paid.");
  };
  return h(
    "div",
    { class: "row inv-actions" },
    action("Download PDF", "dash-invoice-pdf", "Preparing…", () => downloadPdf(inv.invoice_id)),
    inv.status === "open" && due > 0 ? action("Pay " + money(due) + " now", "dash-invoice-pay", "Paying…", pay, true) : null,
    !local && inv.status === "open" && due > 0 ? action("Stripe invoice page", "dash-invoice-hosted", "Opening…", () => openStripe(inv.invoice_id)) : null,
    !local && inv.stripe_invoice_id ? action("Stripe's PDF", "dash-invoice-stripe-pdf", "Opening…", () => openStripe(inv.invoice_id, "invoicePdf")) : null,
  );
}

/** The next invoice as the engine would issue it now (usage so far); only in paid service. */
async function renderUpcoming(seen) {
  const el = $("upcoming");
  el.hidden = true;
  if (seen.account.status !== "active") return;
  try {
    const p = await api("GET", "/api/client/billing/preview");
    if (seen !== store.data) return;
    el.textContent = "Next invoice on " + p.issueDate + ": " + money(p.totalCents) + " so far (due " + p.dueDate + "), computed from this cycle's usage until today.";
    el.hidden = false;
  } catch {
    /* no invoice ahead (e.g. a final invoice is due): nothing to announce */
  }
}

function invoiceBody(inv) {
  const id = "inv-" + inv.invoice_id.replace(/[^A-Za-z0-9_-]/g, "_");
  const chev = h("button", { type: "button", class: "chev", "aria-expanded": "false", "aria-controls": id, "aria-label": "Show lines", "data-testid": "dash-invoice-toggle" });
  const detail = h("tr", { class: "inv-detail", id, hidden: true }, h("td", { colspan: "6" }, invoiceDetail(inv)));
  const row = h(
    "tr",
    { class: "inv-row" },
    h("td", { text: inv.issue_date }),
    h("td", {}, h("span", { class: "inv-id", text: inv.invoice_id })),
    h("td", { text: INVOICE_KINDS[inv.kind] || inv.kind }),
    h("td", { class: "num total", text: money(inv.total_cents) }),
    h("td", {}, invoiceStatus(inv)),
    h("td", { class: "num" }, chev),
  );
  row.addEventListener("click", () => {
    const open = detail.hidden;
    detail.hidden = !open;
    chev.setAttribute("aria-expanded", String(open));
    chev.setAttribute("aria-label", open ? "Hide lines" : "Show lines");
  });
  return h("tbody", { "data-testid": "dash-invoice", "data-invoice-id": inv.invoice_id, "data-status": inv.status }, row, detail);
}

export function renderInvoices() {
  const data = store.data;
  const table = document.querySelector(".invoices");
  for (const tb of table.querySelectorAll("tbody")) tb.remove();
  const invoices = data.invoices || [];
  const empty = $("invoices-empty");
  empty.hidden = invoices.length > 0;
  empty.textContent =
    data.account.status === "trial"
      ? "No invoices yet. Your first invoice is issued on " + ((data.trial && data.trial.paidStart) || "the first Billing Date") + "."
      : "No invoices yet.";
  for (const inv of invoices) table.append(invoiceBody(inv));
  renderUpcoming(data);
}
