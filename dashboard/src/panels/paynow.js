// Pay now: everything owed charged to the card on file, oldest first (POST
// /api/client/billing/pay-now), or one invoice (…/invoices/{id}/pay); on AWS also Stripe's
// hosted invoice page. A decline or a Stripe failure is shown as the server says it.
import { $ } from "../../../frontend/shared/dom.js";
import { api } from "../http.js";
import { store } from "../state.js";
import { app, busy, toast } from "../ui.js";

const path = (id) => "/api/client/billing/invoices/" + encodeURIComponent(id);

/** Pays one invoice; a refusal comes back as an Error with the server's message. */
export async function payInvoice(id) {
  return api("POST", path(id) + "/pay");
}

/** Everything owed (POST /api/client/billing/pay-now); the server stops at a decline and
 * restores the service only where the provider's policy says so (`reinstated`). */
async function payOwed() {
  let result;
  try {
    result = await api("POST", "/api/client/billing/pay-now");
  } finally {
    await app.reload(); // what was paid before a decline shows either way
  }
  const acc = store.data.account;
  toast(result.reinstated || acc.status === "active" ? "Paid — your service is active." : "Paid. The service stays " + acc.status + ".");
}

/** Stripe's own page (`hostedInvoiceUrl`, pay there) or PDF (`invoicePdf`) of an invoice; AWS
 * only: localstripe has neither. */
export async function openStripe(id, which = "hostedInvoiceUrl") {
  const url = (await api("GET", path(id) + "/stripe"))[which];
  if (!url || !/^https:\/\//i.test(url)) throw new Error("Stripe has no such page for this invoice yet.");
  location.assign(url);
}

/** The invoice PDF, downloaded with the session's token. */
export async function downloadPdf(id) {
  const res = await api("GET", path(id) + "/pdf", undefined, { raw: true });
  const url = URL.createObjectURL(await res.blob());
  const a = document.createElement("a");
  a.href = url;
  a.download = id + ".pdf";
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}

export function initPayNow() {
  $("pay-now").addEventListener("click", () => busy($("pay-now"), "Paying…", payOwed));
  $("pay-hosted").addEventListener("click", () =>
    busy($("pay-hosted"), "Opening…", () => openStripe(store.data.alert.invoices[0].invoiceId)),
  );
}
