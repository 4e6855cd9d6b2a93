// The payment method: test cards locally; on AWS a SetupIntent confirmed with Stripe.js (loaded
// only here, never locally), then recorded; and the Stripe customer portal.
import { $, h } from "../../../frontend/shared/dom.js";
import { api } from "../http.js";
import { cardText, store } from "../state.js";
import { app, busy, toast } from "../ui.js";

const STRIPE_JS = "https://js.stripe.com/v3/";

function paymentSub(acc, pm) {
  const card = store.data.card;
  if (pm && card && !card.known) return "The card's details can't be read from the payment provider right now — it is still used for every invoice.";
  if (pm) return cardText(card) + " — used for every invoice.";
  if (acc.status === "trial") return "Add a card before " + ((store.data.trial && store.data.trial.paidStart) || "the trial ends") + " to keep the service (CO-4).";
  return "Add a card to pay your invoices.";
}

export function renderPayment(acc) {
  const pm = acc.payment_method;
  const box = $("payment-method");
  box.dataset.state = pm ? "card" : "none";
  box.replaceChildren(
    h("span", { class: "pm-icon", "aria-hidden": "true" }),
    h(
      "div",
      { class: "pm-text" },
      h("span", { class: "pm-title", text: pm ? "Card on file" : "No card on file" }),
      h("span", { class: "pm-sub", "data-testid": "dash-card-text", text: paymentSub(acc, pm) }),
    ),
  );
  // A card can be changed while anything is owed, so that Pay now can use it.
  const open = acc.status === "trial" || acc.status === "active" || !!store.data.alert;
  for (const id of ["card-visa", "card-decline", "add-card"]) $(id).disabled = !open;
  $("portal").disabled = !acc.stripe_customer_id;
}

async function saveTestCard(btn, paymentMethod, label) {
  await busy(btn, "Saving…", async () => {
    await api("POST", "/api/client/payment-method", { paymentMethod });
    await app.reload();
    toast(label + " saved as your payment method.");
  });
}

let stripeSetup = null;
function loadScript(src) {
  return new Promise((resolve, reject) => {
    const s = document.createElement("script");
    s.src = src;
    s.onload = resolve;
    s.onerror = () => reject(new Error("Stripe.js could not be loaded."));
    document.head.append(s);
  });
}

async function startCard() {
  const { setupIntentClientSecret } = await api("POST", "/api/client/payment-method", {});
  const cfg = store.cfg || {};
  const note = $("stripe-note");
  if (!cfg.stripePublishableKey) {
    note.hidden = false;
    note.textContent =
      "Saving a card here requires Stripe.js and the provider's publishable key, which this deployment does not configure. Use “Manage payment methods & invoices” instead.";
    return;
  }
  if (!window.Stripe) await loadScript(STRIPE_JS);
  const stripe = window.Stripe(cfg.stripePublishableKey);
  const elements = stripe.elements({ clientSecret: setupIntentClientSecret });
  const element = elements.create("payment");
  $("stripe-element").hidden = false;
  element.mount("#stripe-element");
  $("save-card").hidden = false;
  stripeSetup = { stripe, elements };
}

async function saveCard() {
  if (!stripeSetup) return;
  const { error, setupIntent } = await stripeSetup.stripe.confirmSetup({ elements: stripeSetup.elements, redirect: "if_required" });
  if (error) throw new Error(error.message || "The card was not accepted.");
  await api("POST", "/api/client/payment-method", { paymentMethod: setupIntent.payment_method });
  stripeSetup = null;
  $("stripe-element").hidden = true;
  $("save-card").hidden = true;
  await app.reload();
  toast("Card saved.");
}

async function openPortal() {
  const { url } = await api("POST", "/api/client/billing/portal", { returnUrl: location.href });
  if (!/^https?:\/\//i.test(url)) throw new Error("The portal address is not valid.");
  location.assign(url);
}

export function initPayment() {
  $("card-visa").addEventListener("click", () => saveTestCard($("card-visa"), "pm_card_visa", "Visa 4242 (test)"));
  $("card-decline").addEventListener("click", () =>
    saveTestCard($("card-decline"), "pm_card_chargeCustomerFail", "Card that declines (test)"),
  );
  $("add-card").addEventListener("click", () => busy($("add-card"), "Starting…", startCard));
  $("save-card").addEventListener("click", () => busy($("save-card"), "Saving…", saveCard));
  $("portal").addEventListener("click", () => busy($("portal"), "Opening…", openPortal));
}
