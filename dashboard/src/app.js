// Parley client dashboard: signup and sign-in, then the panels (panels/*.js): status, install,
// plans, payment method, usage, invoices, cancellation notice, data export, timeline, and the
// local clock. Static; talks to the HTTP API named by config.json ({apiUrl, wsUrl, region,
// cognitoClientId, local?}). Every piece of data is written with textContent (never innerHTML).
// Requests go out one at a time (http.js): the dashboard never has two in flight.
import { claims, expired } from "../../frontend/shared/auth.js";
import { $ } from "../../frontend/shared/dom.js";
import { initials } from "../../frontend/shared/format.js";
import { api } from "./http.js";
import { refreshClock } from "./panels/clock.js";
import { initData, renderData } from "./panels/data.js";
import { renderInstall, initInstall } from "./panels/install.js";
import { renderInvoices } from "./panels/invoices.js";
import { initNotice, renderNotice } from "./panels/notice.js";
import { initPayment, renderPayment } from "./panels/payment.js";
import { renderPlans } from "./panels/plans.js";
import { renderStatus, setBanner } from "./panels/status.js";
import { renderTimeline } from "./panels/timeline.js";
import { forgetBilling, initBilling, renderBilling } from "./panels/billing.js";
import { initPayNow } from "./panels/paynow.js";
import { renderUsage } from "./panels/usage.js";
import { closeCodeStep, initSignup, loadPolicy, passwordProblem, signInSteps, submitCode, verifyEmail } from "./signup.js";
import { INSTALL_KEY, loadConfig, session, store } from "./state.js";
import { app, busy, clearError, fail, initUi, showError, toast, whenSessionOver } from "./ui.js";

let mode = "login"; // auth form: login | signup

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
  closeCodeStep();
  if (next === "signup") loadPolicy().catch(() => {}); // the hint; signUp checks it again
  clearError();
  (next === "login" ? $("username") : $("company")).focus();
}

function showAuth(message) {
  $("app").hidden = true;
  $("auth").hidden = false;
  document.title = "Parley — Client dashboard";
  setMode("login");
  showError(message || "");
}

async function signIn(username, password, setupMfa = false) {
  const res = await signInSteps(username, password, setupMfa); // a TOTP code or setup if asked
  store.token = res.idToken;
  session.set(store.token);
}

async function logIn(setupMfa = false) {
  const password = $("password").value;
  const username = $("username").value.trim();
  if (!username || !password) return showError("Enter your email and password.");
  await busy($("login-btn"), "Signing in…", async () => {
    try {
      await signIn(username, password, setupMfa);
    } catch (err) {
      throw err.status === 401 ? new Error("Wrong email or password.") : err;
    }
    $("password").value = "";
    start();
  });
}

/** The signup form's values, or a message saying what is missing. */
function signupFields() {
  const company = $("company").value.trim();
  const email = $("email").value.trim();
  const password = $("password").value;
  let website = $("website").value.trim();
  if (website && !/^https?:\/\//i.test(website)) website = "https://" + website;
  if (!company || !email || !website || !password) return { problem: "Fill in every field." };
  return { company, email, password, website };
}

async function signUp() {
  const f = signupFields();
  if (f.problem) return showError(f.problem);
  await busy($("signup-btn"), "Creating your account…", async () => {
    const weak = passwordProblem(await loadPolicy(), f.password);
    if (weak) return showError(weak);
    const started = await api("POST", "/api/signup", { company: f.company, email: f.email, password: f.password, website: f.website }, { auth: false });
    const res = await verifyEmail(started.email); // step 2: the emailed code; then the client exists
    try {
      localStorage.setItem(INSTALL_KEY + res.clientId, JSON.stringify({ widgetKey: res.widgetKey, website: f.website }));
    } catch {
      /* storage unavailable: the snippet is shown for this visit only */
    }
    store.installFallback = { clientId: res.clientId, widgetKey: res.widgetKey, website: f.website };
    await signIn(f.email, f.password);
    $("password").value = "";
    $("username").value = f.email;
    start("Welcome to Parley! Your free trial has started.");
  });
}

function logout(message) {
  store.token = null;
  store.data = null;
  forgetBilling();
  session.clear();
  for (const id of ["company", "website", "email", "password", "notice-reason"]) $(id).value = "";
  $("content").hidden = true;
  $("loading").hidden = false;
  showAuth(message);
}

// ---------- dashboard ----------
async function start(welcome) {
  const me = claims(store.token);
  const name = me.email || me["cognito:username"] || "Client";
  $("me-name").textContent = name;
  $("me-avatar").textContent = initials(name);
  $("auth").hidden = true;
  $("app").hidden = false;
  clearError();
  const c = await loadConfig().catch((err) => {
    fail(err);
    return null;
  });
  if (!c) return;
  store.cfg = c;
  $("clock").hidden = !c.local;
  $("test-cards").hidden = !c.local;
  $("stripe-setup").hidden = !!c.local;
  $("portal-note").textContent = c.local ? "Opens the local stand-in for the Stripe customer portal." : "Opens Stripe's secure portal.";
  await reload();
  if (welcome && store.data) toast(welcome);
}

async function reload() {
  try {
    store.data = await api("GET", "/api/client/billing");
    render();
    if (store.cfg && store.cfg.local) await refreshClock();
  } catch (err) {
    if (err.status === 403) return logout("This account is not a client's dashboard user. Sign in with the email you signed up with.");
    fail(err);
  }
}

function render() {
  $("loading").hidden = true;
  $("content").hidden = false;
  const data = store.data;
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
  for (const panel of [renderStatus, renderInstall, renderPlans, renderPayment, renderUsage, renderInvoices, renderBilling, renderNotice, renderData, renderTimeline])
    panel(acc);
}

// ---------- boot ----------
app.reload = reload;
whenSessionOver(logout);
initUi();
initInstall();
initPayment();
initNotice();
initData();
initPayNow();
initBilling();
$("tab-login").addEventListener("click", () => setMode("login"));
$("tab-signup").addEventListener("click", () => setMode("signup"));
initSignup();
$("login-mfa").addEventListener("click", () => logIn(true));
$("auth-form").addEventListener("submit", (e) => {
  e.preventDefault();
  if (submitCode()) return; // the code step of a signup or a sign-in
  if (mode === "login") logIn();
  else signUp();
});
$("logout").addEventListener("click", () => logout());
$("refresh").addEventListener("click", () => busy($("refresh"), "Refreshing…", reload));
loadConfig().catch(() => {});
if (store.token && !expired(store.token)) start();
else {
  session.clear();
  store.token = null;
  showAuth();
}
