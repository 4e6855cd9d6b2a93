// The status banner: trial, active (with notice or amounts due), stopped, ended; in red when a
// payment failed or the service was cut off for non-payment (the server's `alert`), with Pay now.
// It never promises what the engine does not do: "paying restores the service" only when the
// provider's policy reinstates on full payment (alert.reinstate.onFullPayment).
import { $ } from "../../../frontend/shared/dom.js";
import { money, num, plural } from "../../../frontend/shared/format.js";
import { cardText, planName, store } from "../state.js";

export function setBanner(status, title, sub) {
  const el = $("status");
  el.dataset.status = status;
  $("status-title").textContent = title;
  $("status-sub").textContent = sub || "";
  $("status-sub").hidden = !sub;
}

const paidStart = (trial) => (trial && trial.paidStart) || "the day after the trial";

function trialBanner(acc, trial) {
  const left = trial ? Math.max((trial.chatLimit || 0) - (trial.chatsUsed || 0), 0) : 0;
  const limit = trial && trial.chatLimit != null ? " and " + num(left) + " of " + num(trial.chatLimit) + " chats" : "";
  const title = trial
    ? plural(trial.daysLeft, "day") + limit + " left in your trial — paid service starts on " + trial.paidStart
    : "You are in your free trial.";
  const missing = [];
  if (!acc.plan_id) missing.push("choose a plan");
  if (!acc.payment_method) missing.push("add a card");
  const sub = missing.length
    ? "To keep the service after the trial, " + missing.join(" and ") + "; otherwise it stops on " + paidStart(trial) + " (CO-4)."
    : "You're all set: " + planName(acc.plan_id) + " starts on " + ((trial && trial.paidStart) || "—") + ", charged to your card on file (CO-9).";
  setBanner("trial", title, sub);
}

/** " Amount due: $x by d — pay it from …" for open invoices with something left to pay. */
function owesText(data) {
  const owing = (data.invoices || []).filter((i) => i.status === "open" && i.total_cents > i.amount_paid_cents);
  if (!owing.length) return "";
  const due = owing.reduce((s, i) => s + i.total_cents - i.amount_paid_cents, 0);
  const firstDue = owing.map((i) => i.due_date).sort()[0];
  const when = firstDue ? (data.today > firstDue ? ", overdue since " + firstDue : " by " + firstDue) : "";
  return " Amount due: " + money(due) + when + " — pay it from “Manage payment methods & invoices” (CO-10).";
}

function activeBanner(acc, data, notice) {
  const plan = data.currentPlan ? data.currentPlan.name : planName(acc.current_plan_id);
  const owes = owesText(data);
  if (notice)
    return setBanner(
      "active",
      "Your subscription is active until " + notice.effective_date + " — you gave notice.",
      plan + ". Your service ends after " + notice.effective_date + "; you can withdraw the notice until " + notice.withdraw_until + "." + owes,
    );
  const change = acc.pending_change ? " Switching to " + planName(acc.pending_change.plan_id) + " from then (CH-7)." : "";
  setBanner(
    "active",
    "Your subscription is active — " + plan + ".",
    "Next billing date " + (acc.next_billing_date || "—") + ", then every month on day " + (acc.anchor_day || "—") + " (CO-9)." + change + owes,
  );
}

const firstOf = (items, key) => items.map((i) => i[key]).filter(Boolean).sort()[0];

/** Cut off for non-payment (CO-10 / CH-10): what is owed, and whether paying restores service. */
function defaultBanner(acc, alert) {
  const since = alert.inDefaultSince ? " on " + alert.inDefaultSince : "";
  const title = "Service terminated for non-payment" + since + ".";
  const offline = "Visitors see the offline form and agents get no new chats. ";
  if (!alert.owedCents)
    return setBanner("in_default", title, offline + "Nothing is owed any more; the service stays terminated.");
  const owed = "Still owed: " + money(alert.owedCents) + " — it stays due and collectable. ";
  const r = alert.reinstate || {};
  const pay = r.onFullPayment
    ? "Paying everything owed" + (r.until ? " by " + r.until : "") + " restores the service, with a new billing cycle from the day of payment (no proration)."
    : "Paying settles the debt; it does not restore the service.";
  const deletion = acc.data_deletion_date ? " Your chat data will be deleted on " + acc.data_deletion_date + " (LC-3): download it before then." : "";
  setBanner("in_default", title, offline + owed + pay + deletion);
}

/** The last payment attempt failed (CO-13) or an invoice is past due: the ledger's dates. */
function failedBanner(alert) {
  const due = firstOf(alert.invoices, "dueDate");
  const failed = alert.state === "payment_failed";
  const late = due && store.data.today > due;
  const title = (failed ? "Payment failed — " : "Payment overdue — ") + money(alert.owedCents) + (late ? " was due on " : " is due by ") + due + ".";
  const failedOn = firstOf(alert.invoices, "failedOn");
  const card = cardText(store.data.card);
  const what = failed ? "We could not charge " + (card || "your card") + (failedOn ? " on " + failedOn : "") + ". " : "";
  const cut = firstOf(alert.invoices, "defaultsOn");
  const then = cut ? "If it is still unpaid, the service is terminated on " + cut + " (default). " : "";
  setBanner(alert.state, title, what + "Pay now with the card on file, or change the card first. " + then);
}

function stoppedBanner() {
  setBanner(
    "stopped",
    "Your service is stopped — the trial ended without a plan and a card.",
    "Per CO-4 the service stops when the trial ends without a plan. Contact your provider to restart it.",
  );
}

function terminatedBanner(acc) {
  setBanner(
    "terminated",
    "Your subscription has ended" + (acc.terminated_on ? " — service stopped on " + acc.terminated_on : "") + ".",
    (acc.data_deletion_date ? "Your chat data will be deleted on " + acc.data_deletion_date + " (LC-3): download it before then. " : "") +
      "Amounts incurred before the end are still billed (CO-2).",
  );
}

const BANNERS = {
  trial: (acc, data) => trialBanner(acc, data.trial),
  active: (acc, data, notice) => activeBanner(acc, data, notice),
  stopped: stoppedBanner,
  terminated: terminatedBanner,
};

function renderActions(alert) {
  const owes = !!(alert && alert.owedCents > 0);
  $("status-actions").hidden = !owes;
  $("pay-now").disabled = !owes || !store.data.card;
  $("pay-now").textContent = owes ? "Pay " + money(alert.owedCents) + " now" : "Pay now";
  $("pay-hosted").hidden = !owes || !!(store.cfg && store.cfg.local);
}

export function renderStatus(acc) {
  const data = store.data;
  const alert = data.alert;
  const notice = acc.notice && acc.notice.status === "pending" ? acc.notice : null;
  $("status").dataset.notice = notice ? "pending" : "";
  renderActions(alert);
  if (alert && alert.state === "in_default") return defaultBanner(acc, alert);
  if (alert) return failedBanner(alert);
  const banner = Object.prototype.hasOwnProperty.call(BANNERS, acc.status) && BANNERS[acc.status];
  if (banner) banner(acc, data, notice);
  else setBanner(String(acc.status), "Status: " + acc.status, "");
}
