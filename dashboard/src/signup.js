// The dashboard's auth steps beyond email + password (docs/protocol.md, HTTP authentication):
// the password policy (GET /api/signup/policy: the one the user pool enforces, never numbers of
// our own), the emailed signup code (POST /api/signup/verify, /resend), and the authenticator's
// code at sign-in or while setting TOTP up (frontend/shared/signin.js asks; this shows the step).
import { $ } from "../../frontend/shared/dom.js";
import { signInWithSteps } from "../../frontend/shared/signin.js";
import { api } from "./http.js";
import { showError } from "./ui.js";

let policy = null;

/** The password policy, fetched once; the signup form's hint says what it asks. */
export async function loadPolicy() {
  if (!policy) policy = (await api("GET", "/api/signup/policy", undefined, { auth: false })).password;
  $("password-hint").textContent = describePolicy(policy);
  return policy;
}

function describePolicy(p) {
  const classes = [
    p.requireUppercase && p.requireLowercase ? "upper and lower case letters" : null,
    p.requireDigits ? "a digit" : null,
    p.requireSymbols ? "a symbol" : null,
  ].filter(Boolean);
  return "at least " + p.minLength + " characters" + (classes.length ? ", with " + classes.join(", ") : "");
}

/** What the password lacks by the policy, in words, or "" (the server checks the same). */
export function passwordProblem(p, password) {
  const missing = [];
  if (password.length < p.minLength) missing.push("at least " + p.minLength + " characters");
  if (password.length > p.maxLength) missing.push("at most " + p.maxLength + " characters");
  if (p.requireLowercase && !/[a-z]/.test(password)) missing.push("a lower-case letter");
  if (p.requireUppercase && !/[A-Z]/.test(password)) missing.push("an upper-case letter");
  if (p.requireDigits && !/[0-9]/.test(password)) missing.push("a digit");
  if (p.requireSymbols && ![...password.trim()].some((c) => p.symbols.includes(c) || c === " "))
    missing.push("a symbol");
  return missing.length ? "Choose a password with " + missing.join(", ") + "." : "";
}

// ---------- the code step (one at a time) ----------
let waiting = null; // {resolve, reject} of the code the person is asked for
let resendFor = null; // the email whose signup code may be sent again

/** Show the code step and wait for a 6-digit code. */
function ask({ text, label, secret, uri, resend, retry }) {
  const auth = $("auth");
  auth.dataset.previousMode = auth.dataset.previousMode || auth.dataset.mode;
  auth.dataset.mode = "code";
  $("code-text").textContent = text;
  $("code-label").textContent = label;
  $("code-secret").hidden = !secret;
  $("code-secret-value").textContent = secret || "";
  $("code-uri").href = uri || "#";
  $("resend-btn").hidden = !resend;
  $("code").value = "";
  showError(retry ? "That code is not right (or has expired). Try again." : "");
  $("code").focus();
  return new Promise((resolve, reject) => (waiting = { resolve, reject }));
}

/** True (and the code handed over) when the form was submitted on the code step. */
export function submitCode() {
  if (!waiting) return false;
  const code = $("code").value.trim();
  if (!/^[0-9]{6}$/.test(code)) {
    showError("Enter the 6-digit code.");
    return true;
  }
  const w = waiting;
  waiting = null;
  w.resolve(code);
  return true;
}

/** Leave the code step (signed in, or given up), back to the form it came from. */
export function closeCodeStep() {
  const auth = $("auth");
  if (waiting) waiting.reject(new Error("Cancelled."));
  waiting = null;
  resendFor = null;
  if (auth.dataset.mode === "code") auth.dataset.mode = auth.dataset.previousMode || "login";
  delete auth.dataset.previousMode;
}

/** Signup step 2: the code mailed to `email`, until the server accepts one → {clientId, widgetKey, trial}. */
export async function verifyEmail(email) {
  resendFor = email;
  let retry = false;
  for (;;) {
    const code = await ask({ text: "We sent a 6-digit code to " + email + ". Enter it to start your trial.",
                             label: "Verification code", resend: true, retry });
    try {
      const verified = await api("POST", "/api/signup/verify", { email, code }, { auth: false });
      closeCodeStep();
      return verified;
    } catch (err) {
      if (err.code !== "invalid_code" && err.code !== "code_expired") throw err;
      retry = true;
      if (err.code === "code_expired") showError("This code has expired. Send a new one.");
    }
  }
}

async function resend() {
  if (!resendFor) return;
  try {
    await api("POST", "/api/signup/resend", { email: resendFor }, { auth: false });
    showError("");
    $("code-text").textContent = "We sent a new code to " + resendFor + ".";
  } catch (err) {
    showError(err.message);
  }
}

/** Sign in: the password, then the authenticator's code or a TOTP setup if asked. */
export async function signInSteps(username, password, setupMfa = false) {
  const post = (path, body) => api("POST", path, body, { auth: false });
  try {
    return await signInWithSteps(post, { username, password, setupMfa }, (step) =>
      step.kind === "setup"
        ? ask({ text: "Add Parley to an authenticator app with this secret, then enter the 6-digit code it shows.",
                label: "Authenticator code", secret: step.setup.secretCode, uri: step.setup.otpauthUri, retry: step.retry })
        : ask({ text: "Enter the 6-digit code from your authenticator app.", label: "Authenticator code", retry: step.retry }));
  } finally {
    closeCodeStep();
  }
}

export function initSignup() {
  $("resend-btn").addEventListener("click", resend);
  $("code-cancel").addEventListener("click", () => {
    closeCodeStep();
    showError("");
  });
}
