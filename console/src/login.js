// The console's sign-in (docs/protocol.md, HTTP authentication): the password, then the
// authenticator's code for an account with TOTP, or a TOTP setup — required of admins and
// supervisors, offered to anyone ("Sign in and set up an authenticator app").
// frontend/shared/signin.js runs the conversation; this shows the code step in the login form.
import { fetchJSON } from "../../frontend/shared/api.js";
import { $ } from "../../frontend/shared/dom.js";
import { signInWithSteps } from "../../frontend/shared/signin.js";
import { loadConfig } from "./state.js";

let waiting = null; // resolves with the code typed in the code step

function showStep(step) {
  const form = $("login-form");
  form.dataset.step = "code";
  $("mfa-text").textContent =
    step.kind === "setup"
      ? "Your role needs a second factor. Add Parley to an authenticator app with this secret, then enter the 6-digit code it shows."
      : "Enter the 6-digit code from your authenticator app.";
  $("mfa-secret").hidden = step.kind !== "setup";
  $("mfa-secret-value").textContent = step.kind === "setup" ? step.setup.secretCode : "";
  $("mfa-uri").href = step.kind === "setup" ? step.setup.otpauthUri : "#";
  const err = $("login-error");
  err.textContent = step.retry ? "That code is not right (or has expired). Try again." : "";
  err.hidden = !step.retry;
  $("mfa-code").value = "";
  $("login-btn").disabled = false; // it submits the code now
  $("login-btn").textContent = "Verify";
  $("mfa-code").focus();
  return new Promise((resolve) => (waiting = resolve));
}

/** The form was submitted on the code step: hand the code over (true), or say what is wrong. */
export function submitMfaCode() {
  if (!waiting) return false;
  const code = $("mfa-code").value.trim();
  if (!/^[0-9]{6}$/.test(code)) {
    $("login-error").textContent = "Enter the 6-digit code.";
    $("login-error").hidden = false;
    return true;
  }
  const resolve = waiting;
  waiting = null;
  $("login-btn").disabled = true; // until the server answers
  $("login-btn").textContent = "Signing in…";
  resolve(code);
  return true;
}

/** Sign in with every step the server asks for; resolves with {idToken, accessToken, expiresIn}. */
export async function signInSteps(username, password, setupMfa = false) {
  const cfg = await loadConfig();
  const post = (path, body) => fetchJSON(cfg.apiUrl + path, { method: "POST", body });
  try {
    return await signInWithSteps(post, { username, password, setupMfa }, showStep);
  } finally {
    waiting = null;
    delete $("login-form").dataset.step;
  }
}
