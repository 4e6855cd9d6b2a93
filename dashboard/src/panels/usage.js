// Usage this cycle (or in the trial) against what the plan includes.
import { $ } from "../../../frontend/shared/dom.js";
import { money, num } from "../../../frontend/shared/format.js";
import { store, unitName } from "../state.js";

function usageNote(acc, trial, used, limit) {
  const plan = store.data.plan;
  if (trial) return "Usage beyond the trial limit starts paid service at once (CO-4).";
  if (limit == null) return "";
  if (used > limit && plan)
    return num(used - limit) + " over the plan: billed at " + money(plan.overage_cents_per_unit) + " each on " + (acc.next_billing_date || "your next invoice") + " (in arrears, CO-9).";
  return num(Math.max(limit - used, 0)) + " left this cycle. A chat counts once a visitor wrote and an agent replied.";
}

function period(trial, u) {
  if (trial) return "Free trial, " + trial.trialStart + " to " + trial.lastDay;
  return u.cycleStart ? "Current billing cycle, " + u.cycleStart + " to " + u.cycleEnd : "No billing cycle running";
}

function ofText(trial, used, limit) {
  if (limit == null) return unitName(used);
  return "of " + num(limit) + " " + (trial ? "trial chats" : unitName(limit) + " included");
}

export function renderUsage(acc) {
  const u = store.data.usage || {};
  const trial = acc.status === "trial" ? store.data.trial : null;
  const used = trial ? trial.chatsUsed || 0 : u.engagedChats || 0;
  const limit = trial ? trial.chatLimit : u.included;
  $("usage-used").textContent = num(used);
  $("usage-of").textContent = ofText(trial, used, limit);
  $("usage-period").textContent = period(trial, u);
  const pct = limit ? Math.min(100, (used / limit) * 100) : 0;
  const bar = $("usage-bar");
  bar.style.width = pct.toFixed(1) + "%";
  bar.dataset.level = limit && used > limit ? "over" : pct >= 80 ? "high" : "";
  $("usage-note").textContent = usageNote(acc, trial, used, limit);
}
