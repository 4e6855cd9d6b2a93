// "Install the widget": the one script tag with this client's widget key.
import { $ } from "../../../frontend/shared/dom.js";
import { INSTALL_KEY, store } from "../state.js";

function installInfo(acc) {
  const fallback = store.installFallback;
  if (fallback && fallback.clientId === acc.client_id) return fallback;
  try {
    return JSON.parse(localStorage.getItem(INSTALL_KEY + acc.client_id) || "null");
  } catch {
    return null;
  }
}

export function renderInstall(acc) {
  const info = installInfo(acc);
  $("install").hidden = !info || !info.widgetKey || acc.status === "terminated";
  if (!info || !info.widgetKey) return;
  const src = location.origin + "/widget/loader.js";
  $("snippet").textContent = '<script src="' + src + '" data-widget-key="' + info.widgetKey + '" async></script>';
  $("install-sub").textContent =
    "Paste this tag before </body> on every page of " + (info.website || "your website") + " — the widget only opens on that site.";
}

async function copySnippet() {
  const text = $("snippet").textContent;
  let ok = false;
  try {
    await navigator.clipboard.writeText(text);
    ok = true;
  } catch {
    const range = document.createRange();
    range.selectNodeContents($("snippet"));
    const sel = getSelection();
    sel.removeAllRanges();
    sel.addRange(range);
    ok = document.execCommand && document.execCommand("copy");
  }
  $("copy-snippet").textContent = ok ? "Copied" : "Press Ctrl+C";
  setTimeout(() => ($("copy-snippet").textContent = "Copy"), 2000);
}

export function initInstall() {
  $("copy-snippet").addEventListener("click", copySnippet);
}
