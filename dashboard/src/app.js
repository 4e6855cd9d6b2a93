// Parley client dashboard: signup and sign-in, plan, payment method, usage, invoices,
// cancellation notice, data export, timeline. Static; talks to the HTTP API named by
// config.json ({apiUrl, wsUrl, region, cognitoClientId, local?}). Every piece of data is
// written with textContent (never innerHTML).
//
// Requests go out one at a time (a queue): the dashboard never has two in flight.

const TOKEN_KEY = "parley.dashboard.idToken";
const INSTALL_KEY = "parley.dashboard.install."; // + clientId -> {widgetKey, website}; public data
const STRIPE_JS = "https://js.stripe.com/v3/";

const $ = (id) => document.getElementById(id);
function h(tag, attrs, ...kids) {
  const el = document.createElement(tag);
  for (const k in attrs || {}) {
    const v = attrs[k];
    if (v == null || v === false) continue;
    if (k.startsWith("on")) el.addEventListener(k.slice(2), v);
    else if (k === "text") el.textContent = v;
    else if (k === "class") el.className = v;
    else el.setAttribute(k, v === true ? "" : v);
  }
  for (const kid of kids) if (kid != null && kid !== false) el.append(kid);
  return el;
}

// ---------- state ----------
let cfg = null;
let token = sessionStorage.getItem(TOKEN_KEY);
let data = null; // GET /api/client/billing
let mode = "login"; // auth form: login | signup

// ---------- formatting ----------
const usd = new Intl.NumberFormat("en-US", { style: "currency", currency: "USD" });
const money = (cents) => usd.format((Number(cents) || 0) / 100);
const num = (n) => (Number(n) || 0).toLocaleString("en-US");
const plural = (n, one, many) => num(n) + " " + (Number(n) === 1 ? one : many || one + "s");
function unitName(n) {
  const unit = (data && data.unit) || "engaged_chat";
  if (unit === "engaged_chat") return Number(n) === 1 ? "engaged chat" : "engaged chats";
  if (unit === "agent_minutes") return Number(n) === 1 ? "agent minute" : "agent minutes";
  return String(unit).replace(/_/g, " ");
}
const planById = (id) => ((data && data.plans) || []).find((p) => p.id === id);
const planName = (id) => (planById(id) || {}).name || id || "—";
function duration(seconds) {
  const s = Math.round(Number(seconds));
  if (!isFinite(s)) return "—";
  if (s < 60) return s + " s";
  return Math.floor(s / 60) + " min " + (s % 60) + " s";
}
function initials(name) {
  return String(name || "?")
    .trim()
    .split(/[\s@.]+/)
    .filter(Boolean)
    .slice(0, 2)
    .map((w) => w.charAt(0).toUpperCase())
    .join("");
}
function claims(jwt) {
  try {
    const part = jwt.split(".")[1].replace(/-/g, "+").replace(/_/g, "/");
    const json = decodeURIComponent(
      atob(part)
        .split("")
        .map((ch) => "%" + ch.charCodeAt(0).toString(16).padStart(2, "0"))
        .join(""),
    );
    return JSON.parse(json);
  } catch (e) {
    return {};
  }
}
const expired = (jwt) => {
  const exp = claims(jwt).exp;
  return !exp || exp * 1000 < Date.now() + 5000;
};

// ---------- errors and toasts ----------
function showError(message) {
  const el = $("error");
  const slot = $("app").hidden ? $("auth-error-slot") : $("app-error-slot");
  if (el.parentNode !== slot) slot.append(el);
  $("error-text").textContent = message;
  el.hidden = !message;
  if (message && !$("app").hidden) el.scrollIntoView({ block: "nearest", behavior: "smooth" });
}
const clearError = () => showError("");
$("error-close").addEventListener("click", clearError);

let toastTimer = 0;
function toast(text) {
  const el = $("toast");
  el.textContent = text;
  el.hidden = false;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => (el.hidden = true), 4000);
}

// ---------- HTTP ----------
async function loadConfig() {
  if (cfg) return cfg;
  const res = await fetch(new URL("config.json", document.baseURI), { cache: "no-store" });
  if (!res.ok) throw new Error("config.json: HTTP " + res.status);
  cfg = await res.json();
  return cfg;
}

let queue = Promise.resolve();
/** One request at a time, in order. `auth` adds the bearer token (and a 401 signs out). */
function api(method, path, body, opts = {}) {
  const run = () => send(method, path, body, opts);
  const p = queue.then(run, run);
  queue = p.catch(() => {});
  return p;
}
async function send(method, path, body, { auth = true, raw = false } = {}) {
  const c = await loadConfig();
  const headers = {};
  if (body !== undefined) headers["content-type"] = "application/json";
  if (auth) {
    if (!token || expired(token)) throw sessionOver();
    headers.authorization = "Bearer " + token;
  }
  let res;
  try {
    res = await fetch(c.apiUrl + path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      cache: "no-store",
    });
  } catch (e) {
    throw new Error("The server can't be reached. Check your connection and try again.");
  }
  if (auth && res.status === 401) throw sessionOver();
  if (raw && res.ok) return res;
  const json = await res.json().catch(() => null);
  if (!res.ok) {
    const err = new Error((json && (json.message || json.code)) || "Request failed (HTTP " + res.status + ").");
    err.code = json && json.code;
    err.status = res.status;
    throw err;
  }
  return json;
}
function sessionOver() {
  const err = new Error("Your session has expired. Please sign in again.");
  err.session = true;
  return err;
}
/** Shows an error; an expired session goes back to the sign-in form. */
function fail(err) {
  if (err && err.session) return logout(err.message);
  showError(String((err && err.message) || err || "Something went wrong."));
}
/** Disables `btn` while `fn` runs; errors are shown in the banner. */
async function busy(btn, label, fn) {
  const text = btn.textContent;
  btn.disabled = true;
  if (label) btn.textContent = label;
  clearError();
  try {
    return await fn();
  } catch (err) {
    fail(err);
  } finally {
    if (btn.isConnected) {
      btn.disabled = false;
      if (label && btn.textContent === label) btn.textContent = text;
    }
  }
}

// ---------- sign in / sign up ----------
function setMode(next) {
  mode = next;
  $("auth").dataset.mode = next;
  $("tab-login").setAttribute("aria-selected", String(next === "login"));
  $("tab-signup").setAttribute("aria-selected", String(next === "signup"));
  $("auth-title").textContent = next === "login" ? "Sign in to your dashboard" : "Start your free trial";
  $("auth-sub").textContent =
    next === "login" ? "Plan, billing, invoices and your data." : "Live chat for your website, answered by our agents.";
  $("password").autocomplete = next === "login" ? "current-password" : "new-password";
  clearError();
  (next === "login" ? $("username") : $("company")).focus();
}
$("tab-login").addEventListener("click", () => setMode("login"));
$("tab-signup").addEventListener("click", () => setMode("signup"));

function showAuth(message) {
  $("app").hidden = true;
  $("auth").hidden = false;
  document.title = "Parley — Client dashboard";
  setMode("login");
  showError(message || "");
}

async function signIn(username, password) {
  const res = await api("POST", "/api/auth/login", { username, password }, { auth: false });
  token = res.idToken;
  sessionStorage.setItem(TOKEN_KEY, token);
}

$("auth-form").addEventListener("submit", async (e) => {
  e.preventDefault();
  const password = $("password").value;
  if (mode === "login") {
    const username = $("username").value.trim();
    if (!username || !password) return showError("Enter your email and password.");
    await busy($("login-btn"), "Signing in…", async () => {
      try {
        await signIn(username, password);
      } catch (err) {
        throw err.status === 401 ? new Error("Wrong email or password.") : err;
      }
      $("password").value = "";
      start();
    });
    return;
  }
  const company = $("company").value.trim();
  const email = $("email").value.trim();
  let website = $("website").value.trim();
  if (website && !/^https?:\/\//i.test(website)) website = "https://" + website;
  if (!company || !email || !website || !password) return showError("Fill in every field.");
  if (password.length < 8) return showError("Choose a password of at least 8 characters.");
  await busy($("signup-btn"), "Creating your account…", async () => {
    const res = await api("POST", "/api/signup", { company, email, password, website }, { auth: false });
    try {
      localStorage.setItem(INSTALL_KEY + res.clientId, JSON.stringify({ widgetKey: res.widgetKey, website }));
    } catch (err) {
      /* storage unavailable: the snippet is shown for this visit only */
    }
    installFallback = { clientId: res.clientId, widgetKey: res.widgetKey, website };
    await signIn(email, password);
    $("password").value = "";
    $("username").value = email;
    start("Welcome to Parley! Your free trial has started.");
  });
});
let installFallback = null;

$("logout").addEventListener("click", () => logout());
function logout(message) {
  token = null;
  data = null;
  sessionStorage.removeItem(TOKEN_KEY);
  for (const id of ["company", "website", "email", "password", "notice-reason"]) $(id).value = "";
  $("content").hidden = true;
  $("loading").hidden = false;
  showAuth(message);
}

// ---------- dashboard ----------
async function start(welcome) {
  const me = claims(token);
  const name = me.email || me["cognito:username"] || "Client";
  $("me-name").textContent = name;
  $("me-avatar").textContent = initials(name);
  $("auth").hidden = true;
  $("app").hidden = false;
  clearError();
  const c = await loadConfig().catch((err) => (fail(err), null));
  if (!c) return;
  $("clock").hidden = !c.local;
  $("test-cards").hidden = !c.local;
  $("stripe-setup").hidden = !!c.local;
  $("portal-note").textContent = c.local ? "Opens the local stand-in for the Stripe customer portal." : "Opens Stripe's secure portal.";
  await reload();
  if (welcome && data) toast(welcome);
}

async function reload() {
  try {
    data = await api("GET", "/api/client/billing");
    render();
    if (cfg && cfg.local) await refreshClock();
  } catch (err) {
    if (err.status === 403) return logout("This account is not a client's dashboard user. Sign in with the email you signed up with.");
    fail(err);
  }
}
$("refresh").addEventListener("click", () => busy($("refresh"), "Refreshing…", reload));

function render() {
  $("loading").hidden = true;
  $("content").hidden = false;
  const acc = data.account;
  if (!acc) {
    $("company-name").textContent = "Your account";
    $("account-meta").textContent = "";
    setBanner("none", "No billing account yet", "Contact your provider to set up your subscription.");
    return;
  }
  document.title = acc.name + " — Parley";
  $("company-name").textContent = acc.name || "Your account";
  $("account-meta").textContent = [acc.email, "Client ID " + acc.client_id, "Today " + data.today].filter(Boolean).join(" · ");
  renderStatus(acc);
  renderInstall(acc);
  renderPlans(acc);
  renderPayment(acc);
  renderUsage(acc);
  renderInvoices();
  renderNotice(acc);
  renderData(acc);
  renderTimeline();
}

function setBanner(status, title, sub) {
  const el = $("status");
  el.dataset.status = status;
  $("status-title").textContent = title;
  $("status-sub").textContent = sub || "";
  $("status-sub").hidden = !sub;
}

function renderStatus(acc) {
  const el = $("status");
  const notice = acc.notice && acc.notice.status === "pending" ? acc.notice : null;
  el.dataset.notice = notice ? "pending" : "";
  const trial = data.trial;
  switch (acc.status) {
    case "trial": {
      const left = trial ? Math.max((trial.chatLimit || 0) - (trial.chatsUsed || 0), 0) : 0;
      const title = trial
        ? plural(trial.daysLeft, "day") +
          (trial.chatLimit != null ? " and " + num(left) + " of " + num(trial.chatLimit) + " chats" : "") +
          " left in your trial — paid service starts on " +
          trial.paidStart
        : "You are in your free trial.";
      const missing = [];
      if (!acc.plan_id) missing.push("choose a plan");
      if (!acc.payment_method) missing.push("add a card");
      const sub = missing.length
        ? "To keep the service after the trial, " + missing.join(" and ") + "; otherwise it stops on " + ((trial && trial.paidStart) || "the day after the trial") + " (CO-4)."
        : "You're all set: " + planName(acc.plan_id) + " starts on " + ((trial && trial.paidStart) || "—") + ", charged to your card on file (CO-9).";
      return setBanner("trial", title, sub);
    }
    case "active": {
      const plan = data.plan ? data.plan.name : planName(acc.current_plan_id);
      const owing = (data.invoices || []).filter((i) => i.status === "open" && i.total_cents > i.amount_paid_cents);
      const due = owing.reduce((s, i) => s + i.total_cents - i.amount_paid_cents, 0);
      const firstDue = owing.map((i) => i.due_date).sort()[0];
      const owes = owing.length
        ? " Amount due: " + money(due) + (firstDue ? (data.today > firstDue ? ", overdue since " + firstDue : " by " + firstDue) : "") +
          " — pay it from “Manage payment methods & invoices” (CO-10)."
        : "";
      if (notice)
        return setBanner(
          "active",
          "Your subscription is active until " + notice.effective_date + " — you gave notice.",
          plan + ". Your service ends after " + notice.effective_date + "; you can withdraw the notice until " + notice.withdraw_until + "." + owes,
        );
      return setBanner(
        "active",
        "Your subscription is active — " + plan + ".",
        "Next billing date " + (acc.next_billing_date || "—") + ", then every month on day " + (acc.anchor_day || "—") + " (CO-9)." +
          (acc.pending_change ? " Switching to " + planName(acc.pending_change.plan_id) + " from then (CH-7)." : "") +
          owes,
      );
    }
    case "deactivated": {
      const owed = (data.invoices || []).filter((i) => i.status === "open").reduce((s, i) => s + Math.max(i.total_cents - i.amount_paid_cents, 0), 0);
      return setBanner(
        "deactivated",
        "Service deactivated: payment overdue" + (acc.in_default_since ? " since " + acc.in_default_since : "") + ".",
        "Visitors see the offline form and agents get no new chats (CO-10). Amount due: " + money(owed) + ". Pay the open invoices to restore the service.",
      );
    }
    case "stopped":
      return setBanner(
        "stopped",
        "Your service is stopped — the trial ended without a plan and a card.",
        "Per CO-4 the service stops when the trial ends without a plan. Contact your provider to restart it.",
      );
    case "terminated":
      return setBanner(
        "terminated",
        "Your subscription has ended" + (acc.terminated_on ? " — service stopped on " + acc.terminated_on : "") + ".",
        (acc.data_deletion_date ? "Your chat data will be deleted on " + acc.data_deletion_date + " (LC-3): download it before then. " : "") +
          "Amounts incurred before the end are still billed (CO-2).",
      );
    default:
      return setBanner(String(acc.status), "Status: " + acc.status, "");
  }
}

function installInfo(acc) {
  if (installFallback && installFallback.clientId === acc.client_id) return installFallback;
  try {
    return JSON.parse(localStorage.getItem(INSTALL_KEY + acc.client_id) || "null");
  } catch (e) {
    return null;
  }
}
function renderInstall(acc) {
  const info = installInfo(acc);
  $("install").hidden = !info || !info.widgetKey || acc.status === "terminated";
  if (!info || !info.widgetKey) return;
  const src = location.origin + "/widget/loader.js";
  $("snippet").textContent = '<script src="' + src + '" data-widget-key="' + info.widgetKey + '" async></script>';
  $("install-sub").textContent =
    "Paste this tag before </body> on every page of " + (info.website || "your website") + " — the widget only opens on that site.";
}
$("copy-snippet").addEventListener("click", async () => {
  const text = $("snippet").textContent;
  let ok = false;
  try {
    await navigator.clipboard.writeText(text);
    ok = true;
  } catch (e) {
    const range = document.createRange();
    range.selectNodeContents($("snippet"));
    const sel = getSelection();
    sel.removeAllRanges();
    sel.addRange(range);
    ok = document.execCommand && document.execCommand("copy");
  }
  $("copy-snippet").textContent = ok ? "Copied" : "Press Ctrl+C";
  setTimeout(() => ($("copy-snippet").textContent = "Copy"), 2000);
});

// ---------- plans ----------
function renderPlans(acc) {
  const inTrial = acc.status === "trial";
  const active = acc.status === "active";
  const current = inTrial ? acc.plan_id : acc.upgraded_plan_id || acc.current_plan_id || acc.plan_id;
  const pending = active && acc.pending_change ? acc.pending_change.plan_id : null;
  const paidStart = data.trial && data.trial.paidStart;
  $("plans-note").textContent = inTrial
    ? "Choose the plan your paid service starts with on " + (paidStart || "the day after the trial") + " (CO-9). The first invoice adds a one-time setup fee (CO-5)."
    : active
      ? "Plan changes take effect at the start of your next billing cycle, " + (acc.next_billing_date || "—") + " (CH-7). No proration."
      : "Plans can't be changed while the service is " + acc.status + ".";
  $("plans").replaceChildren(
    ...(data.plans || []).map((p) => {
      const isCurrent = p.id === current;
      const isPending = p.id === pending;
      const state = isPending ? "pending" : isCurrent ? (inTrial ? "chosen" : "current") : "";
      let label = inTrial ? "Choose" : active ? "Switch" : "Unavailable";
      if (state === "chosen") label = "Chosen";
      if (state === "current") label = !active ? "Your last plan" : pending ? "Current until " + (acc.next_billing_date || "next cycle") : "Current plan";
      if (state === "pending") label = "Starts " + (acc.next_billing_date || "next cycle");
      const btn = h("button", {
        type: "button",
        class: "btn btn-sm " + (state || !(inTrial || active) ? "btn-ghost" : "btn-primary"),
        "data-testid": "dash-choose-plan",
        disabled: !!state || !(inTrial || active),
        text: label,
      });
      btn.addEventListener("click", () => choosePlan(p, btn, inTrial));
      const tag =
        state === "current"
          ? h("span", { class: "pill pill-brand", text: active ? "Current" : "Last plan" })
          : state === "chosen"
            ? h("span", { class: "pill pill-brand", text: "Your plan" })
            : state === "pending"
              ? h("span", { class: "pill pill-warn", text: "From " + (acc.next_billing_date || "next cycle") })
              : null;
      return h(
        "article",
        { class: "plan", "data-testid": "dash-plan", "data-plan-id": p.id, "data-state": state || "available" },
        h("div", { class: "plan-top" }, h("span", { class: "plan-name", text: p.name }), tag),
        h("div", { class: "plan-price" }, money(p.monthly_fee_cents), h("small", { text: " / month" })),
        h(
          "ul",
          { class: "plan-facts" },
          h("li", { text: num(p.included_units) + " " + unitName(p.included_units) + " included" }),
          h("li", { text: money(p.overage_cents_per_unit) + " per extra " + unitName(1) }),
          h("li", { text: "Unused chats don't carry over (CH-6)" }),
        ),
        btn,
      );
    }),
  );
}
async function choosePlan(plan, btn, inTrial) {
  await busy(btn, "Saving…", async () => {
    await api("POST", "/api/client/plan", { planId: plan.id });
    await reload();
    toast(inTrial ? plan.name + " chosen: paid service starts with it." : "Switching to " + plan.name + " at your next billing date (CH-7).");
  });
}

// ---------- payment method ----------
function renderPayment(acc) {
  const pm = acc.payment_method;
  const box = $("payment-method");
  box.dataset.state = pm ? "card" : "none";
  box.replaceChildren(
    h("span", { class: "pm-icon", "aria-hidden": "true" }),
    h(
      "div",
      { class: "pm-text" },
      h("span", { class: "pm-title", text: pm ? "Card on file" : "No card on file" }),
      h("span", {
        class: "pm-sub",
        text: pm
          ? "Stripe payment method " + pm + " — used for every invoice."
          : acc.status === "trial"
            ? "Add a card before " + ((data.trial && data.trial.paidStart) || "the trial ends") + " to keep the service (CO-4)."
            : "Add a card to pay your invoices.",
      }),
    ),
  );
  const open = acc.status === "trial" || acc.status === "active" || acc.status === "deactivated";
  for (const id of ["card-visa", "card-decline", "add-card"]) $(id).disabled = !open;
  $("portal").disabled = !acc.stripe_customer_id;
}
async function saveTestCard(btn, paymentMethod, label) {
  await busy(btn, "Saving…", async () => {
    await api("POST", "/api/client/payment-method", { paymentMethod });
    await reload();
    toast(label + " saved as your payment method.");
  });
}
$("card-visa").addEventListener("click", () => saveTestCard($("card-visa"), "pm_card_visa", "Visa 4242 (test)"));
$("card-decline").addEventListener("click", () =>
  saveTestCard($("card-decline"), "pm_card_chargeCustomerFail", "Card that declines (test)"),
);

// On AWS: the API starts a SetupIntent; Stripe.js (loaded only here, never locally) collects
// and confirms the card, then the confirmed PaymentMethod is recorded with the same endpoint.
// Needs the publishable key in config.json as "stripePublishableKey".
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
$("add-card").addEventListener("click", () =>
  busy($("add-card"), "Starting…", async () => {
    const { setupIntentClientSecret } = await api("POST", "/api/client/payment-method", {});
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
  }),
);
$("save-card").addEventListener("click", () =>
  busy($("save-card"), "Saving…", async () => {
    if (!stripeSetup) return;
    const { error, setupIntent } = await stripeSetup.stripe.confirmSetup({ elements: stripeSetup.elements, redirect: "if_required" });
    if (error) throw new Error(error.message || "The card was not accepted.");
    await api("POST", "/api/client/payment-method", { paymentMethod: setupIntent.payment_method });
    stripeSetup = null;
    $("stripe-element").hidden = true;
    $("save-card").hidden = true;
    await reload();
    toast("Card saved.");
  }),
);

$("portal").addEventListener("click", () =>
  busy($("portal"), "Opening…", async () => {
    const { url } = await api("POST", "/api/client/billing/portal", { returnUrl: location.href });
    if (!/^https?:\/\//i.test(url)) throw new Error("The portal address is not valid.");
    location.assign(url);
  }),
);

// ---------- usage ----------
function renderUsage(acc) {
  const u = data.usage || {};
  const trial = acc.status === "trial" ? data.trial : null;
  const used = trial ? trial.chatsUsed || 0 : u.engagedChats || 0;
  const limit = trial ? trial.chatLimit : u.included;
  $("usage-used").textContent = num(used);
  $("usage-of").textContent = limit != null ? "of " + num(limit) + " " + (trial ? "trial chats" : unitName(limit) + " included") : unitName(used);
  $("usage-period").textContent = trial
    ? "Free trial, " + trial.trialStart + " to " + trial.lastDay
    : u.cycleStart
      ? "Current billing cycle, " + u.cycleStart + " to " + u.cycleEnd
      : "No billing cycle running";
  const pct = limit ? Math.min(100, (used / limit) * 100) : 0;
  const bar = $("usage-bar");
  bar.style.width = pct.toFixed(1) + "%";
  bar.dataset.level = limit && used > limit ? "over" : pct >= 80 ? "high" : "";
  const plan = data.plan;
  let note = "";
  if (trial) note = "Usage beyond the trial limit starts paid service at once (CO-4).";
  else if (limit != null && used > limit && plan)
    note = num(used - limit) + " over the plan: billed at " + money(plan.overage_cents_per_unit) + " each on " + (acc.next_billing_date || "your next invoice") + " (in arrears, CO-9).";
  else if (limit != null) note = num(Math.max(limit - used, 0)) + " left this cycle. A chat counts once a visitor wrote and an agent replied.";
  $("usage-note").textContent = note;
}

// ---------- invoices ----------
const INVOICE_KINDS = { cycle: "Monthly", final: "Final", trial_usage: "Trial usage", late_charge: "Late charge", add_on: "Add-on" };
function invoiceStatus(inv) {
  if (inv.status === "paid") return h("span", { class: "pill pill-ok", text: "Paid" });
  if (inv.status === "void") return h("span", { class: "pill", text: "Void" });
  if (inv.total_cents - inv.amount_paid_cents <= 0) return h("span", { class: "pill", text: "Open · nothing due" });
  const overdue = inv.due_date && data.today > inv.due_date;
  return h("span", { class: "pill " + (overdue ? "pill-bad" : "pill-warn"), text: overdue ? "Overdue" : "Open" });
}
function renderInvoices() {
  const table = document.querySelector(".invoices");
  for (const tb of table.querySelectorAll("tbody")) tb.remove();
  const invoices = data.invoices || [];
  const empty = $("invoices-empty");
  empty.hidden = invoices.length > 0;
  const acc = data.account;
  empty.textContent =
    acc.status === "trial"
      ? "No invoices yet. Your first invoice is issued on " + ((data.trial && data.trial.paidStart) || "the first Billing Date") + "."
      : "No invoices yet.";
  for (const inv of invoices) {
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
    const toggle = () => {
      const open = detail.hidden;
      detail.hidden = !open;
      chev.setAttribute("aria-expanded", String(open));
      chev.setAttribute("aria-label", open ? "Hide lines" : "Show lines");
    };
    row.addEventListener("click", toggle);
    table.append(h("tbody", { "data-testid": "dash-invoice", "data-invoice-id": inv.invoice_id, "data-status": inv.status }, row, detail));
  }
}
function invoiceDetail(inv) {
  const lines = h(
    "table",
    { class: "lines", "data-testid": "dash-invoice-lines" },
    h(
      "tbody",
      {},
      ...(inv.lines || []).map((l) =>
        h(
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
        ),
      ),
    ),
  );
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
  const r = inv.report;
  const report = r
    ? h(
        "div",
        { class: "report", "data-testid": "dash-invoice-report" },
        h("div", { class: "report-title" }, "Chat performance report ", h("span", { class: "rule", text: "CH-4" })),
        h(
          "div",
          {
            text:
              "Cycle " + r.cycle_start + " to " + r.cycle_end + ": " + plural(r.engaged_chats, "engaged chat") +
              (r.conversations ? " of " + plural(r.conversations, "conversation") : "") +
              " · average first response " + (r.first_response_seconds_avg == null ? "—" : duration(r.first_response_seconds_avg)) +
              (r.response_seconds_avg != null ? " · average response " + duration(r.response_seconds_avg) : "") +
              (r.satisfaction_avg != null ? " · satisfaction " + Number(r.satisfaction_avg).toFixed(1) : ""),
          },
        ),
      )
    : null;
  return h("div", {}, meta, lines, report);
}

// ---------- cancellation notice ----------
function renderNotice(acc) {
  const policy = data.policy || {};
  const notice = acc.notice;
  const pending = notice && notice.status === "pending";
  const kind = policy.noticeDayKind === "business" ? "business" : "calendar";
  $("cancel-policy").textContent = policy.noticeDays
    ? "Cancelling needs " + policy.noticeDays + " " + kind + " days' notice; the end date follows your contract's rules and is shown before anything else happens. No refunds for the cycle already paid."
    : "Give notice to end your subscription.";
  const required = !!policy.noticeRequiresReason;
  $("reason-required").hidden = !required;
  $("reason-optional").hidden = required;
  $("notice-reason").required = required;

  const box = $("notice");
  box.hidden = !notice;
  if (notice) {
    box.dataset.status = notice.status;
    $("notice-title").replaceChildren(
      notice.status === "pending"
        ? "Notice given on " + notice.given_on
        : notice.status === "withdrawn"
          ? "Notice of " + notice.given_on + " withdrawn — your subscription continues"
          : "Your notice of " + notice.given_on + " took effect",
      h("span", { class: "rule", text: notice.rule_id }),
      h("span", {
        class: "pill " + (notice.status === "pending" ? "pill-warn" : notice.status === "withdrawn" ? "" : "pill-bad"),
        "data-testid": "dash-notice-status",
        text: notice.status === "pending" ? "Pending" : notice.status === "withdrawn" ? "Withdrawn" : "Effective",
      }),
    );
    $("notice-effective").textContent =
      notice.status === "withdrawn"
        ? "Service would have ended after " + notice.effective_date
        : notice.status === "effective"
          ? "Your service ended after " + notice.effective_date
          : "Your service ends after " + notice.effective_date;
    $("notice-explanation").textContent = notice.explanation;
    const facts = [
      ["Last day of service", notice.effective_date],
      pending ? ["Withdraw until", notice.withdraw_until] : null,
      notice.outstanding_due_date ? ["Outstanding amounts due by", notice.outstanding_due_date] : null,
      ["Reason", notice.reason || "—"],
      ["Rule", notice.rule_id],
    ].filter(Boolean);
    $("notice-facts").replaceChildren(...facts.flatMap(([k, v]) => [h("dt", { text: k }), h("dd", { text: v })]));
    $("withdraw-notice").hidden = !pending;
    $("withdraw-notice").disabled = !pending || data.today > notice.withdraw_until;
  }
  const canGive = acc.status === "active" && !pending;
  $("notice-form").hidden = !canGive;
  const why = $("cancel-unavailable");
  why.hidden = canGive || pending || (notice && notice.status === "effective");
  why.textContent =
    acc.status === "trial"
      ? "You're in your free trial: there is nothing to cancel. Without a plan and a card, the service simply stops when the trial ends (CO-4)."
      : acc.status === "terminated"
        ? "Your subscription has ended."
        : acc.status === "deactivated"
          ? "The service is deactivated for non-payment; contact your provider to cancel."
          : acc.status === "stopped"
            ? "The service is stopped; there is nothing to cancel."
            : "";
}
$("notice-form").addEventListener("submit", (e) => {
  e.preventDefault();
  const reason = $("notice-reason").value.trim();
  if ($("notice-reason").required && !reason) return showError("Please tell us why you are cancelling: your contract requires a reason.");
  busy($("give-notice"), "Giving notice…", async () => {
    const res = await api("POST", "/api/client/notice", reason ? { reason } : {});
    $("notice-reason").value = "";
    await reload();
    toast("Notice given: your service ends after " + res.notice.effective_date + ".");
  });
});
$("withdraw-notice").addEventListener("click", () =>
  busy($("withdraw-notice"), "Withdrawing…", async () => {
    await api("DELETE", "/api/client/notice");
    await reload();
    toast("Notice withdrawn: your subscription continues.");
  }),
);

// ---------- data export ----------
function renderData(acc) {
  $("data-note").textContent = acc.data_deleted
    ? "Your chat records were deleted after the retention period; invoices and history remain."
    : acc.data_deletion_date
      ? "Your chat records will be deleted on " + acc.data_deletion_date + ". Download them before then."
      : "";
  $("data-note").hidden = !$("data-note").textContent;
}
$("export").addEventListener("click", () =>
  busy($("export"), "Preparing…", async () => {
    const res = await api("GET", "/api/client/export", undefined, { raw: true });
    const blob = await res.blob();
    const cd = res.headers.get("content-disposition") || "";
    const m = /filename="?([^";]+)"?/i.exec(cd);
    const name = (m && m[1].replace(/[^A-Za-z0-9._-]/g, "_")) || "parley-export.json";
    const url = URL.createObjectURL(blob);
    const a = h("a", { href: url, download: name, hidden: true });
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10000);
    toast("Your data was downloaded as " + name + ".");
  }),
);

// ---------- timeline ----------
function describe(ev) {
  const d = ev.detail || {};
  const amount = (k) => (d[k] != null ? money(d[k]) : "");
  switch (ev.kind) {
    case "account_opened":
      return ["Account opened" + (d.trial_start ? " — free trial started" : ""), "", "ok"];
    case "plan_chosen":
      return ["Plan chosen: " + planName(d.plan_id), "Paid service starts with it after the trial.", ""];
    case "plan_change_requested":
      return ["Plan change requested: " + planName(d.plan_id), "Takes effect at the next billing cycle.", ""];
    case "paid_service_started":
      return ["Paid service started on " + planName(d.plan_id), "", "ok"];
    case "trial_converted_early":
      return ["Trial converted to paid early", d.why || "", "warn"];
    case "invoice_issued":
      return ["Invoice issued: " + amount("total_cents"), d.invoice_id || "", ""];
    case "final_invoice":
      return ["Final invoice issued", "", ""];
    case "payment_received":
      return ["Payment received: " + amount("amount_cents"), d.invoice_id || "", "ok"];
    case "payment_failed":
      return ["Payment failed", [d.invoice_id, d.pay_by ? "pay by " + d.pay_by : ""].filter(Boolean).join(" · "), "bad"];
    case "late_charge":
      return ["Late charge added: " + amount("amount_cents"), d.for_invoice_id ? "for " + d.for_invoice_id : "", "bad"];
    case "service_deactivated":
      return ["Service deactivated", d.why || "", "bad"];
    case "package_upgraded":
      return ["Package upgraded to " + planName(d.to_plan_id), d.why || "", "warn"];
    case "notice_given":
      return ["Notice given — service ends after " + (d.effective_date || "—"), "", "warn"];
    case "notice_withdrawn":
      return ["Notice withdrawn", "", "ok"];
    case "service_stopped":
      return ["Service stopped", d.why || "", "bad"];
    case "service_terminated":
      return ["Service terminated", d.data_deletion_date ? "Data deletion on " + d.data_deletion_date : "", "bad"];
    case "data_deleted":
      return ["Chat data deleted after the retention period", "", ""];
    case "chargeback":
      return ["Chargeback on " + (d.invoice_id || "an invoice"), d.pay_by ? "pay by " + d.pay_by : "", "bad"];
    default: {
      const label = String(ev.kind || "event").replace(/_/g, " ");
      return [label.charAt(0).toUpperCase() + label.slice(1), d.why || "", ""];
    }
  }
}
function renderTimeline() {
  const items = (data.history || []).slice().sort((a, b) => (a.at < b.at ? 1 : a.at > b.at ? -1 : 0));
  $("timeline").replaceChildren(
    ...items.map((ev) => {
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
    }),
  );
  if (!items.length) $("timeline").append(h("li", { class: "empty", text: "Nothing yet." }));
}

// ---------- local clock (config.local only) ----------
function showClock(now) {
  const d = new Date(now);
  $("clock-now").textContent = isNaN(d)
    ? String(now)
    : "Now " + d.toISOString().slice(0, 16).replace("T", " ") + " UTC" + (data && data.today ? " · business day " + data.today : "");
}
async function refreshClock() {
  const c = await loadConfig();
  const res = await api("GET", "/_local/clock", undefined, { auth: false });
  if (c.local) showClock(res.now);
}
for (const btn of document.querySelectorAll("#clock [data-days]")) {
  btn.addEventListener("click", async () => {
    const days = Number(btn.dataset.days);
    const all = document.querySelectorAll("#clock [data-days]");
    for (const b of all) b.disabled = true;
    try {
      await busy(btn, "Moving…", async () => {
        const res = await api("POST", "/_local/clock", { days }, { auth: false });
        await reload();
        showClock(res.now);
        const fired = (res.fired || []).length;
        toast("Moved " + plural(days, "day") + " forward · " + plural(fired, "scheduled job") + " ran.");
      });
    } finally {
      for (const b of all) b.disabled = false;
    }
  });
}

// ---------- boot ----------
loadConfig().catch(() => {});
if (token && !expired(token)) start();
else {
  sessionStorage.removeItem(TOKEN_KEY);
  token = null;
  showAuth();
}
