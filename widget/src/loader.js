// Parley widget loader: the only script a client's page embeds.
//   <script src="https://host/widget/loader.js" data-widget-key="wk_..." async></script>
// It draws the launcher button and nothing else; the chat UI (chat-ui.js, same folder) is
// loaded on the first click, or at once when this browser has an open conversation.
(function (w, d) {
  const script = d.currentScript || d.querySelector("script[data-widget-key]");
  if (!script || w.__parley) return;
  const key = script.getAttribute("data-widget-key");
  const base = script.src.replace(/[^/]*([?#].*)?$/, "");
  let state = {};
  try {
    state = JSON.parse(localStorage.getItem("parley:" + key)) || {};
  } catch {
    // Storage blocked (privacy mode, sandboxed frame) or unreadable: start with no saved state.
  }
  const es = /^es/i.test(d.documentElement.lang || navigator.language || "");
  const boot = (w.__parley = { key: key, base: base, es: es, state: state });

  function mount() {
    const host = d.createElement("div");
    host.id = "parley-widget";
    const root = host.attachShadow({ mode: "open" });
    // Static markup only; no data is ever written as HTML.
    root.innerHTML =
      "<style>:host{all:initial}.l{position:fixed;right:20px;bottom:20px;z-index:2147483000;width:60px;height:60px;" +
      "border:0;border-radius:50%;background:var(--pa,#1f6feb);color:var(--pf,#fff);cursor:pointer;display:grid;" +
      "place-items:center;box-shadow:0 6px 20px rgba(0,0,0,.25);transition:transform .15s}.l:hover{transform:scale(1.06)}" +
      ".l:focus-visible{outline:3px solid #fff;box-shadow:0 0 0 6px var(--pa,#1f6feb)}.l svg{width:28px;height:28px}" +
      "@media (prefers-reduced-motion:reduce){.l{transition:none}}</style>" +
      '<button class="l" type="button" data-testid="parley-launcher" aria-haspopup="dialog" aria-expanded="false">' +
      '<svg viewBox="0 0 24 24" fill="none" stroke="currentColor" stroke-width="2" stroke-linecap="round" ' +
      'stroke-linejoin="round" aria-hidden="true"><path d="M21 12a8 8 0 0 1-11.6 7.1L4 20l1-4.6A8 8 0 1 1 21 12z"/></svg></button>';
    const btn = root.lastChild;
    btn.setAttribute("aria-label", es ? "Abrir el chat" : "Open chat");
    if (/^#[0-9a-f]{3,8}$/i.test(state.accent || "")) host.style.setProperty("--pa", state.accent);
    boot.host = host;
    boot.root = root;
    boot.launcher = btn;
    btn.onclick = function () {
      boot.toggle ? boot.toggle() : load(1);
    };
    d.body.appendChild(host);
    if (state.conv && !state.closed) load(state.open);
  }

  function load(open) {
    boot.open = boot.open || open;
    if (boot.loading) return;
    boot.loading = 1;
    boot.launcher.setAttribute("aria-busy", "true");
    const s = d.createElement("script");
    s.src = base + "chat-ui.js";
    s.async = true;
    s.onerror = function () {
      boot.loading = 0; // let a later click try again
      boot.launcher.removeAttribute("aria-busy");
      s.remove();
    };
    d.head.appendChild(s);
  }

  d.body ? mount() : d.addEventListener("DOMContentLoaded", mount);
})(window, document);
