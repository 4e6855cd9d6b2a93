// Error banner, toasts and busy buttons.
import { $ } from "../../frontend/shared/dom.js";

/** Set by app.js: re-read the account after a change. */
export const app = { reload: async () => {} };

let onSessionOver = () => {};
/** What to do when the session is over (sign out); set by app.js. */
export const whenSessionOver = (fn) => (onSessionOver = fn);

export function showError(message) {
  const el = $("error");
  const slot = $("app").hidden ? $("auth-error-slot") : $("app-error-slot");
  if (el.parentNode !== slot) slot.append(el);
  $("error-text").textContent = message;
  el.hidden = !message;
  if (message && !$("app").hidden) el.scrollIntoView({ block: "nearest", behavior: "smooth" });
}
export const clearError = () => showError("");

let toastTimer = 0;
export function toast(text) {
  const el = $("toast");
  el.textContent = text;
  el.hidden = false;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => (el.hidden = true), 4000);
}

/** Shows an error; an expired session goes back to the sign-in form. */
export function fail(err) {
  if (err && err.session) return onSessionOver(err.message);
  showError(String((err && err.message) || err || "Something went wrong."));
}

/** Disables `btn` while `fn` runs; errors are shown in the banner. */
export async function busy(btn, label, fn) {
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

export function initUi() {
  $("error-close").addEventListener("click", clearError);
}
