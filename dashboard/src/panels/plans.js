// Plans: choose one in the trial (CO-9, CO-5), switch at the next cycle once paid (CH-7). In the
// trial each plan shows its first invoice (setup fee included) as the billing engine computes it
// (GET /api/client/billing/preview?planId=…); after a CH-5 upgrade one plan is "Current".
import { h, $ } from "../../../frontend/shared/dom.js";
import { money, num } from "../../../frontend/shared/format.js";
import { api } from "../http.js";
import { planName, store, unitName } from "../state.js";
import { app, busy, toast } from "../ui.js";


function plansNote(acc, inTrial, active) {
  const paidStart = store.data.trial && store.data.trial.paidStart;
  const cp = store.data.currentPlan;
  if (active && cp && cp.upgradedFrom)
    return "Upgraded automatically from " + planName(cp.upgradedFrom) + " to " + cp.name + (cp.upgradedOn ? " on " + cp.upgradedOn : "") +
      " when your usage passed the package (CH-5): " + cp.name + " is your plan now; the difference is billed on " + (acc.next_billing_date || "your next invoice") + ".";
  if (inTrial)
    return "Choose the plan your paid service starts with on " + (paidStart || "the day after the trial") + " (CO-9). The first invoice adds a one-time setup fee (CO-5).";
  if (active) return "Plan changes take effect at the start of your next billing cycle, " + (acc.next_billing_date || "—") + " (CH-7). No proration.";
  return "Plans can't be changed while the service is " + acc.status + ".";
}

/** "" | "chosen" (trial) | "current" | "pending" (from the next cycle). */
function planState(p, ctx) {
  if (p.id === ctx.pending) return "pending";
  if (p.id === ctx.current) return ctx.inTrial ? "chosen" : "current";
  return "";
}

function buttonLabel(state, ctx) {
  const next = ctx.acc.next_billing_date || "next cycle";
  if (state === "chosen") return "Chosen";
  if (state === "current") return !ctx.active ? "Your last plan" : ctx.pending ? "Current until " + next : "Current plan";
  if (state === "pending") return "Starts " + next;
  return ctx.inTrial ? "Choose" : ctx.active ? "Switch" : "Unavailable";
}

function planTag(state, ctx) {
  if (state === "current") return h("span", { class: "pill pill-brand", text: ctx.active ? "Current" : "Last plan" });
  if (state === "chosen") return h("span", { class: "pill pill-brand", text: "Your plan" });
  if (state === "pending") return h("span", { class: "pill pill-warn", text: "From " + (ctx.acc.next_billing_date || "next cycle") });
  return null;
}

function planCard(p, ctx) {
  const state = planState(p, ctx);
  const open = ctx.inTrial || ctx.active;
  const btn = h("button", {
    type: "button",
    class: "btn btn-sm " + (state || !open ? "btn-ghost" : "btn-primary"),
    "data-testid": "dash-choose-plan",
    disabled: !!state || !open,
    text: buttonLabel(state, ctx),
  });
  btn.addEventListener("click", () => choosePlan(p, btn, ctx.inTrial));
  return h(
    "article",
    { class: "plan", "data-testid": "dash-plan", "data-plan-id": p.id, "data-state": state || "available" },
    h("div", { class: "plan-top" }, h("span", { class: "plan-name", text: p.name }), planTag(state, ctx)),
    h("div", { class: "plan-price" }, money(p.monthly_fee_cents), h("small", { text: " / month" })),
    h(
      "ul",
      { class: "plan-facts" },
      h("li", { text: num(p.included_units) + " " + unitName(p.included_units) + " included" }),
      h("li", { text: money(p.overage_cents_per_unit) + " per extra " + unitName(1) }),
      h("li", { text: "Unused chats don't carry over (CH-6)" }),
    ),
    ctx.inTrial ? h("p", { class: "plan-preview small muted", "data-testid": "dash-plan-preview", text: "First invoice: …" }) : null,
    btn,
  );
}

function previewText(p) {
  const fee = (kind) => p.lines.filter((l) => l.kind === kind).reduce((s, l) => s + l.amount_cents, 0);
  const parts = [money(fee("monthly_fee_in_advance")) + " monthly fee"];
  if (fee("setup_fee")) parts.push(money(fee("setup_fee")) + " one-time setup fee (CO-5)");
  if (fee("tax")) parts.push(money(fee("tax")) + " tax");
  return "First invoice on " + p.issueDate + ": " + money(p.totalCents) + " = " + parts.join(" + ") + ", due " + p.dueDate + ".";
}

/** Fills each plan's first-invoice preview (one request per plan, in turn). */
async function loadPreviews(seen) {
  for (const el of document.querySelectorAll('[data-testid="dash-plan"]')) {
    const out = el.querySelector('[data-testid="dash-plan-preview"]');
    if (!out) continue;
    try {
      const p = await api("GET", "/api/client/billing/preview?planId=" + encodeURIComponent(el.dataset.planId));
      if (seen !== store.data) return; // reloaded meanwhile: the new render fetches its own
      out.textContent = previewText(p);
    } catch (err) {
      out.textContent = "First invoice: not available (" + err.message + ")";
    }
  }
}

export function renderPlans(acc) {
  const inTrial = acc.status === "trial";
  const active = acc.status === "active";
  const ctx = {
    acc,
    inTrial,
    active,
    current: inTrial ? acc.plan_id : (store.data.currentPlan || {}).id || acc.current_plan_id || acc.plan_id,
    pending: active && acc.pending_change ? acc.pending_change.plan_id : null,
  };
  $("plans-note").textContent = plansNote(acc, inTrial, active);
  $("plans").replaceChildren(...(store.data.plans || []).map((p) => planCard(p, ctx)));
  if (inTrial) loadPreviews(store.data);
}

async function choosePlan(plan, btn, inTrial) {
  await busy(btn, "Saving…", async () => {
    await api("POST", "/api/client/plan", { planId: plan.id });
    await app.reload();
    toast(inTrial ? plan.name + " chosen: paid service starts with it." : "Switching to " + plan.name + " at your next billing date (CH-7).");
  });
}
