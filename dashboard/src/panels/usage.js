// Usage this cycle (or in the trial) against what the plan includes.
import { $ } from "../../../frontend/shared/dom.js";
import { money, num } from "../../../frontend/shared/format.js";
import { store, unitName } from "../state.js";

function usageNote(acc, trial, used, limit) {
  const plan = store.data.currentPlan && (store.data.plans || []).find((p) => p.id === store.data.currentPlan.id);
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
  renderUsageChart(store.data.usageHistory);
}

// ---------- usage per cycle: a small bar chart drawn as SVG (no charting library) ----------
const SVG = "http://www.w3.org/2000/svg";
function s(tag, attrs, ...kids) {
  const el = document.createElementNS(SVG, tag);
  for (const k in attrs) el.setAttribute(k, attrs[k]);
  for (const kid of kids) el.append(kid);
  return el;
}

function cycleLabel(c) {
  return c.cycle === "TRIAL" ? "Trial" : String(c.start).slice(5);
}

function bar(c, x, y, w, over) {
  const title = s("title", {});
  title.textContent = (c.cycle === "TRIAL" ? "Trial" : "Cycle " + c.start + " to " + c.end) + ": " + num(c.units) + " " + unitName(c.units) +
    (c.included != null ? " of " + num(c.included) + " included" : "");
  return s("rect", { x, y, width: w, height: Math.max(118 - y, 0), rx: 2, class: "bar" + (over ? " bar-over" : "") + (c.current ? " bar-now" : ""),
    "data-testid": "dash-usage-bar", "data-cycle": c.cycle, "data-units": c.units }, title);
}

/** One bar per cycle (oldest first), a tick for what the plan billed that cycle included. */
export function renderUsageChart(history) {
  const box = $("usage-chart");
  const cycles = history || [];
  box.hidden = cycles.length === 0;
  if (!cycles.length) return box.replaceChildren();
  const top = Math.max(1, ...cycles.map((c) => Math.max(c.units, c.included || 0)));
  const width = 300;
  const slot = width / cycles.length;
  const w = Math.min(28, slot * 0.6);
  const yOf = (v) => 118 - (v / top) * 100;
  const parts = [];
  cycles.forEach((c, i) => {
    const x = i * slot + (slot - w) / 2;
    parts.push(bar(c, x, yOf(c.units), w, c.included != null && c.units > c.included));
    if (c.included != null) parts.push(s("line", { x1: x - 2, x2: x + w + 2, y1: yOf(c.included), y2: yOf(c.included), class: "included" }));
    const label = s("text", { x: x + w / 2, y: 134, "text-anchor": "middle", class: "tick" });
    label.textContent = cycleLabel(c);
    parts.push(label);
  });
  const svg = s("svg", { viewBox: "0 0 " + width + " 140", role: "img", "aria-label": "Usage per billing cycle" }, ...parts);
  box.replaceChildren(svg);
}
