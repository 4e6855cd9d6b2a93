// Parley chat UI, loaded lazily by loader.js into the launcher's shadow root.
// Protocol: docs/protocol.md. Every piece of data is written with textContent, never as HTML.
import { fetchJSON } from "../../frontend/shared/api.js";
import { createSeqLog, newClientMessageId, pendingFor, resumeFrom, retryAfterMs } from "../../frontend/shared/chatsync.js";
import { createConn } from "../../frontend/shared/conn.js";
import { h } from "../../frontend/shared/dom.js";
import { messageText } from "../../frontend/shared/i18n.js";
import { pickLang, translator } from "./i18n.js";
import { createPreChat } from "./prechat.js";

/* global __PARLEY_WIDGET_CSS__ */
const CSS = typeof __PARLEY_WIDGET_CSS__ === "string" ? __PARLEY_WIDGET_CSS__ : "";
const MAX_CHARS = 4000;
const TYPING_REFRESH_MS = 4000; // re-send isTyping:true at most this often while typing
const TYPING_IDLE_MS = 3000; // isTyping:false after this long without a keystroke
const TYPING_SHOW_MS = 8000; // hide the agent's indicator if no stop ever comes
// Heartbeat (frontend/shared/conn.js, docs/protocol.md "Client rules"): ping a quiet socket
// every 15 s, drop it when the ack takes over 5 s. Visitors are many, so slower than the console's.
const HEARTBEAT_MS = 15000;
const DEADLINE_MS = 5000;
// Error codes that mean "nobody can answer now": the offline form takes over (docs/protocol.md).
const OFFLINE_CODES = ["service_unavailable"];

const ICON_CHAT =
  '<svg viewBox="0 0 24 24" fill="none" stroke="currentColor" stroke-width="2" stroke-linecap="round" stroke-linejoin="round" aria-hidden="true"><path d="M21 12a8 8 0 0 1-11.6 7.1L4 20l1-4.6A8 8 0 1 1 21 12z"/></svg>';
const ICON_DOWN =
  '<svg viewBox="0 0 24 24" fill="none" stroke="currentColor" stroke-width="2.2" stroke-linecap="round" stroke-linejoin="round" aria-hidden="true"><path d="M6 9l6 6 6-6"/></svg>';
const ICON_SEND =
  '<svg viewBox="0 0 24 24" fill="currentColor" aria-hidden="true"><path d="M3.4 20.4l17.45-7.48a1 1 0 0 0 0-1.84L3.4 3.6a.99.99 0 0 0-1.39.91L2 9.12c0 .5.37.93.87.99L17 12 2.87 13.88c-.5.07-.87.5-.87 1l.01 4.61c0 .71.73 1.2 1.39.91z"/></svg>';

const boot = window.__parley;
if (boot && boot.root && !boot.toggle) main(boot);

function main(boot) {
  const lang = pickLang();
  const t = translator(lang);
  const root = boot.root;
  const launcher = boot.launcher;
  const storeKey = "parley:" + boot.key;

  // ---- persisted state (localStorage; loader.js reads conv/closed/open/accent) ----
  const st = readStore();
  function readStore() {
    try {
      return JSON.parse(localStorage.getItem(storeKey)) || {};
    } catch (e) {
      return {};
    }
  }
  function save() {
    // With its client message id, so a send retried after a reload is still recognised.
    st.outbox = outbox.map((i) => ({ text: i.text, cmid: i.cmid }));
    try {
      localStorage.setItem(storeKey, JSON.stringify(st));
    } catch (e) {
      /* private mode / quota: the chat still works for this page */
    }
  }

  // ---- DOM ----
  const icon = (svg) => {
    const s = h("span", { class: "ic" });
    s.innerHTML = svg; // constant markup, no data
    return s;
  };

  const style = h("style", { text: CSS });
  const avatar = h("div", { class: "av", "aria-hidden": "true" });
  const title = h("div", { class: "tt", id: "parley-title", text: t("title") });
  const subtitle = h("div", { class: "sub", text: t("online") });
  const endBtn = h("button", { type: "button", class: "hb end", "data-testid": "parley-close", text: t("end") });
  const minBtn = h("button", {
    type: "button",
    class: "hb min",
    "data-testid": "parley-minimize",
    "aria-label": t("minimize"),
    title: t("minimize"),
  });
  minBtn.append(icon(ICON_DOWN));
  const status = h("div", { class: "status", "data-testid": "parley-status", role: "status", "aria-live": "polite" });
  const list = h("ol", { class: "ms", "data-testid": "parley-messages", role: "log", "aria-live": "polite", "aria-label": t("chat") });
  const typingEl = h("div", { class: "ty", "data-testid": "parley-typing", hidden: true });
  const input = h("textarea", {
    "data-testid": "parley-input",
    rows: "1",
    maxlength: String(MAX_CHARS),
    placeholder: t("placeholder"),
    "aria-label": t("message"),
  });
  const sendBtn = h("button", { type: "submit", class: "sb", "data-testid": "parley-send", "aria-label": t("send"), title: t("send") });
  sendBtn.append(icon(ICON_SEND));
  const composer = h("form", { class: "cp" }, input, sendBtn);
  const newChatBtn = h("button", { type: "button", class: "nc", "data-testid": "parley-new-chat", text: t("newChat") });
  const endBar = h("div", { class: "eb", hidden: true }, newChatBtn);
  const offlineForm = buildOfflineForm();
  // The client's pre-chat form, before the first message (widget/src/prechat.js).
  const preChat = createPreChat(lang, () => {
    composer.hidden = false;
    input.focus();
    flush();
  });
  function askPreChat() {
    if (st.conv || offline || !preChat.pending()) return;
    preChat.el.hidden = false;
    composer.hidden = true;
  }
  const panel = h(
    "div",
    {
      class: "p",
      role: "dialog",
      "aria-labelledby": "parley-title",
      "data-testid": "parley-panel",
      "data-state": "idle",
      hidden: true,
      lang,
    },
    h("header", { class: "hd" }, avatar, h("div", { class: "ht" }, title, subtitle), endBtn, minBtn),
    status,
    list,
    typingEl,
    preChat.el,
    composer,
    endBar,
    offlineForm,
    h("div", { class: "pw", text: t("powered") }),
  );
  const badge = h("span", { class: "bd", "aria-hidden": "true", hidden: true });
  root.append(style, panel);
  launcher.append(badge);

  // ---- panel open / close ----
  let isOpen = false;
  let unread = 0;
  function setOpen(open) {
    isOpen = open;
    panel.hidden = !open;
    boot.host.toggleAttribute("data-open", open);
    launcher.setAttribute("aria-expanded", String(open));
    const svg = launcher.querySelector("svg");
    if (svg) svg.outerHTML = open ? ICON_DOWN : ICON_CHAT; // constant markup
    if (open) {
      unread = 0;
      scrollDown(true);
      if (!composer.hidden) input.focus();
    }
    updateBadge();
    st.open = open;
    save();
  }
  function updateBadge() {
    badge.hidden = !unread;
    badge.textContent = unread > 9 ? "9+" : String(unread);
    launcher.setAttribute("aria-label", isOpen ? t("hide") : unread ? t("openUnread", unread) : t("open"));
  }
  boot.toggle = () => setOpen(!isOpen);
  minBtn.onclick = () => {
    setOpen(false);
    launcher.focus();
  };
  panel.addEventListener("keydown", (e) => {
    if (e.key === "Escape") minBtn.onclick();
  });

  // ---- client (tenant) look ----
  function applyClient(c) {
    if (!c) return;
    if (c.name) {
      title.textContent = c.name;
      avatar.textContent = c.name.trim().charAt(0).toUpperCase();
    }
    if (c.greeting) greeting.querySelector(".b").textContent = c.greeting;
    const color = String(c.accentColor || "");
    if (/^#([0-9a-f]{3}|[0-9a-f]{6})$/i.test(color)) {
      boot.host.style.setProperty("--pa", color);
      boot.host.style.setProperty("--pf", contrastText(color));
      st.accent = color;
    }
  }
  function contrastText(hex) {
    let x = hex.slice(1);
    if (x.length === 3) x = x.replace(/./g, "$&$&");
    const [r, g, b] = [0, 2, 4].map((i) => parseInt(x.slice(i, i + 2), 16) / 255);
    const lin = (c) => (c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4);
    const lum = 0.2126 * lin(r) + 0.7152 * lin(g) + 0.0722 * lin(b);
    return lum > 0.45 ? "#111" : "#fff";
  }

  // ---- messages ----
  const els = new Map(); // seq -> <li>
  let lastSeq = 0; // highest seq rendered on this page (unread counting)
  // Which seqs were seen: resume asks from the contiguous one; a hole left open resumes.
  const log = createSeqLog(() => gapResume());
  let agentName = "";
  const greeting = h("li", { class: "m m-agent greet", "data-testid": "parley-greeting" }, h("div", { class: "b", text: t("hello") }));
  list.append(greeting);

  const time = (iso) => {
    const d = iso ? new Date(iso) : new Date();
    return isNaN(d) ? "" : d.toLocaleTimeString(lang, { hour: "2-digit", minute: "2-digit" });
  };
  const nearBottom = () => list.scrollHeight - list.scrollTop - list.clientHeight < 80;
  function scrollDown(force) {
    if (force || nearBottom()) list.scrollTop = list.scrollHeight;
  }

  function messageEl(role, text, meta) {
    return h(
      "li",
      { class: "m m-" + role, "data-testid": "parley-message", "data-role": role },
      h("div", { class: "b", "data-testid": "parley-message-text", text }),
      meta != null ? h("div", { class: "mt", text: meta }) : null,
    );
  }
  function metaFor(m) {
    const who = m.role === "agent" ? m.senderName || agentName || t("agent") : "";
    return m.role === "system" ? null : [who, time(m.sentAt)].filter(Boolean).join(" · ");
  }

  /** Renders a stored Message once (deduplicated by seq), in seq order; a copy of one of our
   * pending sends takes its place. */
  function render(m) {
    if (!m || typeof m.seq !== "number" || els.has(m.seq)) return;
    log.add(m.seq);
    const mine = m.role === "visitor" && pendingFor(outbox, m);
    if (mine) dropPending(mine);
    const role = m.role === "visitor" || m.role === "agent" ? m.role : "system";
    // System messages come as codes translated here; older ones as text.
    const text = role === "system" ? messageText(m, t.known) : String(m.text == null ? "" : m.text);
    const el = messageEl(role, text, metaFor(m));
    el.setAttribute("data-seq", String(m.seq));
    place(el, m.seq);
    if (role === "agent") typingEl.hidden = true;
    if (role !== "visitor") countUnread(m.seq);
    noteSeq(m.seq);
  }
  function countUnread(seq) {
    if (isOpen || seq <= (st.seq || 0)) return;
    unread++;
    updateBadge();
  }
  function place(el, seq) {
    const was = nearBottom();
    let before = null;
    let beforeSeq = Infinity;
    for (const [s, e] of els) if (s > seq && s < beforeSeq) [before, beforeSeq] = [e, s];
    if (!before) before = outbox.length ? outbox[0].el : null;
    list.insertBefore(el, before && before.parentNode === list ? before : null);
    els.set(seq, el);
    scrollDown(was);
  }
  function noteSeq(seq) {
    if (seq > lastSeq) lastSeq = seq;
    if (isOpen && lastSeq > (st.seq || 0)) {
      st.seq = lastSeq;
      save();
    }
  }
  function systemNote(text) {
    const el = messageEl("system", text);
    list.append(el);
    scrollDown(true);
  }

  // ---- outbox: messages typed but not yet acknowledged (kept across reconnects/reloads) ----
  // state: "queued" (not sent), "inflight" (sent, awaiting ack), "unsure" (sent, connection lost)
  const outbox = [];
  function enqueue(text, state, cmid) {
    const el = messageEl("visitor", text, pendingMeta());
    el.setAttribute("data-status", "pending");
    // The same id on every try (reconnects, reloads): the server stores it once.
    const item = { cmid: cmid || newClientMessageId(), text, state, el };
    outbox.push(item);
    list.append(el);
    scrollDown(true);
    return item;
  }
  /** "Sending…" while connected; otherwise say plainly that it waits for the connection. */
  const pendingMeta = () => (connState === "open" ? t("sending") : t("notSent"));
  function refreshPending() {
    for (const item of outbox) {
      const meta = item.el.querySelector(".mt");
      if (meta) meta.textContent = pendingMeta();
    }
  }
  function dropPending(item) {
    const i = outbox.indexOf(item);
    if (i >= 0) outbox.splice(i, 1);
    item.el.remove();
    save();
  }
  /** The ack (first or `duplicate`) of a pending send: the stored message replaces it. */
  function confirm(item, m) {
    dropPending(item);
    render(m);
  }
  function fail(item, code) {
    outbox.splice(outbox.indexOf(item), 1);
    save();
    const el = item.el;
    el.setAttribute("data-status", "failed");
    const meta = el.querySelector(".mt");
    meta.textContent = t("failed") + " ";
    if (code !== "message_too_long" && code !== "empty_message") {
      meta.append(
        h("button", {
          type: "button",
          class: "rt",
          text: t("retry"),
          onclick: () => {
            el.remove();
            enqueue(item.text, "queued");
            save();
            flush();
          },
        }),
      );
    }
    flash(code);
  }
  let flushing = false;
  let retryTimer = 0;
  /** Sends one outbox item (starting the conversation with the first); resolves with the stored Message. */
  async function deliver(item) {
    const clientMessageId = item.cmid;
    if (st.conv) return (await conn.request("sendMessage", { conversationId: st.conv, text: item.text, clientMessageId })).message;
    const data = await conn.request("startConversation", {
      text: item.text,
      clientMessageId,
      pageUrl: location.href.slice(0, 2000),
      language: lang,
      preChat: preChat.answers(),
    });
    startedConversation(data.conversation);
    showPlace(data.queue);
    // Routed at once: "X joined the chat" can reach us before this ack; play it now.
    for (const f of early.splice(0)) onEvent(f);
    return data.message;
  }
  /** After a failed send: true to go on with the next item, false to stop (the item waits). */
  function sendFailed(item, code, err) {
    if (code === "invalid_prechat") {
      item.state = "queued"; // sent again once the form is corrected
      composer.hidden = true;
      preChat.refuse(err.field, err.reason);
      return false;
    }
    if (code === "disconnected" || code === "timeout") {
      item.state = "unsure"; // maybe stored: sent again with the same id after the reconnect
      return false;
    }
    if (code === "rate_limited" || code === "send_in_progress") {
      // Nothing stored (or the first copy is still being stored): again when the server says.
      item.state = "queued";
      if (code === "rate_limited") flash(code);
      clearTimeout(retryTimer);
      retryTimer = setTimeout(flush, retryAfterMs(err));
      return false;
    }
    if (OFFLINE_CODES.includes(code)) {
      item.state = "queued";
      goOffline("service_deactivated");
      return false;
    }
    fail(item, code);
    if (code === "conversation_closed") markClosed();
    if (code === "not_found") forgetConversation();
    return true;
  }
  async function flush() {
    if (flushing || !conn.ready() || st.closed || offline || (!st.conv && preChat.pending())) return;
    flushing = true;
    try {
      let item;
      while ((item = outbox.find((i) => i.state === "queued")) && conn.ready() && !st.closed) {
        item.state = "inflight";
        try {
          confirm(item, await deliver(item));
        } catch (err) {
          if (!sendFailed(item, err.code, err)) break;
        }
      }
    } finally {
      flushing = false;
    }
  }

  function send() {
    const text = input.value.trim();
    if (!text) return;
    if (text.length > MAX_CHARS) return flash("message_too_long");
    input.value = "";
    autosize();
    stopTyping();
    enqueue(text, "queued");
    save();
    flush();
  }
  composer.addEventListener("submit", (e) => {
    e.preventDefault();
    send();
  });
  input.addEventListener("keydown", (e) => {
    if (e.key === "Enter" && !e.shiftKey && !e.isComposing) {
      e.preventDefault();
      send();
    }
  });
  function autosize() {
    input.style.height = "auto";
    input.style.height = Math.min(input.scrollHeight, 120) + "px";
  }

  // ---- typing (ours, throttled) ----
  let typingSentAt = 0;
  let typingIdle = 0;
  input.addEventListener("input", () => {
    autosize();
    if (!st.conv || st.closed || !conn.ready()) return;
    if (!input.value.trim()) return stopTyping();
    const now = Date.now();
    if (now - typingSentAt > TYPING_REFRESH_MS) {
      typingSentAt = now;
      sendTyping(true);
    }
    clearTimeout(typingIdle);
    typingIdle = setTimeout(stopTyping, TYPING_IDLE_MS);
  });
  function stopTyping() {
    clearTimeout(typingIdle);
    if (!typingSentAt) return;
    typingSentAt = 0;
    sendTyping(false);
  }
  function sendTyping(isTyping) {
    if (st.conv && conn.ready()) conn.request("typing", { conversationId: st.conv, isTyping }).catch(() => {});
  }
  // ---- typing (theirs) ----
  let typingHide = 0;
  function showTyping(on) {
    clearTimeout(typingHide);
    typingEl.textContent = t("typing", agentName || t("agent"));
    typingEl.hidden = !on;
    if (on) {
      scrollDown(false);
      typingHide = setTimeout(() => (typingEl.hidden = true), TYPING_SHOW_MS);
    }
  }

  // ---- conversation state ----
  function setState(s) {
    panel.setAttribute("data-state", s);
    endBtn.hidden = !(st.conv && !st.closed) || offline;
    refreshStatus();
  }
  function startedConversation(c) {
    st.conv = c.conversationId;
    st.closed = false;
    st.seq = 0;
    save();
    applyConversation(c);
  }
  function applyConversation(c) {
    if (!c) return;
    if (c.agentName) agentName = c.agentName;
    if (c.status === "closed") return markClosed();
    if (c.status === "active") endUnanswered(); // an agent joined (live or seen on resume)
    subtitle.textContent = c.status === "active" ? t("with", agentName || t("agent")) : t("waiting");
    subtitle.removeAttribute("data-position");
    setState(c.status === "active" ? "active" : "waiting");
  }
  /** The visitor's place in the queue and the estimated wait, while waiting (docs/protocol.md). */
  function showPlace(q) {
    if (!q || !(q.position > 0) || panel.getAttribute("data-state") !== "waiting") return;
    const minutes = Math.max(1, Math.round((Number(q.estimatedWaitSeconds) || 0) / 60));
    subtitle.textContent = q.estimatedWaitSeconds > 0 ? t("queuedWait", [q.position, minutes]) : t("queued", q.position);
    subtitle.setAttribute("data-position", String(q.position));
  }
  function markClosed(byMe) {
    if (!st.closed) {
      st.closed = true;
      save();
      if (byMe) systemNote(t("youEnded"));
    }
    for (const item of outbox.slice()) fail(item, "conversation_closed");
    stopTyping();
    showTyping(false);
    composer.hidden = true;
    endBar.hidden = false;
    subtitle.textContent = t("online");
    setState("closed");
    scrollDown(true);
  }
  function forgetConversation() {
    st.conv = null;
    st.closed = false;
    st.seq = 0;
    save();
  }
  function newChat() {
    endUnanswered();
    forgetConversation();
    for (const el of els.values()) el.remove();
    els.clear();
    for (const el of list.querySelectorAll(".m:not(.greet)")) el.remove();
    outbox.length = 0;
    lastSeq = 0;
    log.reset();
    agentName = "";
    composer.hidden = false;
    endBar.hidden = true;
    askPreChat();
    subtitle.textContent = t("online");
    setState("idle");
    input.focus();
  }
  newChatBtn.onclick = newChat;
  endBtn.onclick = async () => {
    if (!st.conv || st.closed) return;
    endBtn.disabled = true;
    try {
      const data = await conn.request("closeConversation", { conversationId: st.conv });
      if (data.message) render(data.message);
      markClosed(!data.message);
    } catch (err) {
      if (err.code === "conversation_closed") markClosed();
      else flash(err.code);
    } finally {
      endBtn.disabled = false;
    }
  };

  // ---- status line ----
  let connState = "connecting";
  let flashText = "";
  let flashTimer = 0;
  function flash(code) {
    flashText = t("e_" + code) !== "e_" + code ? t("e_" + code) : t("e_generic");
    clearTimeout(flashTimer);
    flashTimer = setTimeout(() => {
      flashText = "";
      refreshStatus();
    }, 6000);
    refreshStatus();
  }
  function refreshStatus() {
    let text = "";
    let kind = "";
    if (fatal) [text, kind] = [t("unavailable"), "error"];
    else if (offline) [text, kind] = [t("offline") + (opensAt ? " " + t("opensAt", opensAt) : ""), "offline"];
    else if (flashText) [text, kind] = [flashText, "error"];
    else if (st.closed && st.conv) [text, kind] = [t("ended"), "closed"];
    else if (connState === "reconnecting") [text, kind] = [t("reconnecting"), "reconnecting"];
    else if (connState === "connecting" && (st.conv || outbox.length)) [text, kind] = [t("connecting"), "connecting"];
    status.textContent = text;
    status.setAttribute("data-state", kind || connState);
  }

  // ---- offline ("leave a message") ----
  let offline = false;
  let unanswered = false; // nobody took the queued chat in time: the form is offered, the chat goes on
  let fatal = false;
  function buildOfflineForm() {
    const f = h("form", { class: "off", hidden: true, "data-testid": "parley-offline", novalidate: true });
    const field = (name, label, tag, type, required = true) =>
      h(
        "label",
        {},
        h("span", { text: label }),
        h(tag, { name, type, required, maxlength: tag === "input" ? "200" : String(MAX_CHARS), "data-testid": "parley-offline-" + name }),
      );
    const note = h("p", { class: "offerr", role: "alert", "data-testid": "parley-offline-error", hidden: true });
    f.append(
      h("p", { class: "na", "data-testid": "parley-no-answer", text: t("noAnswer"), hidden: true }),
      field("name", t("name"), "input", "text"),
      field("email", t("email"), "input", "email"),
      field("phone", t("phone"), "input", "tel", false),
      field("text", t("message"), "textarea"),
      note,
      h("button", { type: "submit", class: "nc", "data-testid": "parley-offline-send", text: t("leave") }),
      h("button", { type: "button", class: "nc kw", "data-testid": "parley-keep-waiting", text: t("keepWaiting"), hidden: true, onclick: () => endUnanswered() }),
    );
    f.addEventListener("submit", async (e) => {
      e.preventDefault();
      const v = (n) => f.elements[n].value.trim();
      const problem = !v("name") || !/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(v("email")) || !v("text") ? "offlineCheck" : "";
      note.hidden = !problem;
      if (problem) {
        note.textContent = t(problem);
        return;
      }
      const btn = f.querySelector("button");
      btn.disabled = true;
      try {
        await postJSON(cfg.apiUrl + "/api/visitor/offline-message", {
          widgetKey: boot.key,
          visitorToken: st.token,
          name: v("name"),
          email: v("email"),
          phone: v("phone"),
          message: v("text"),
          page: location.href.slice(0, 2000),
          language: lang,
          conversationId: st.conv || undefined,
          reason: offlineReason || undefined,
        });
        f.replaceChildren(h("p", { class: "ok", "data-testid": "parley-offline-thanks", text: t("thanks") }));
      } catch (err) {
        btn.disabled = false;
        note.hidden = false;
        note.textContent = t(err.status === 429 ? "offlineRate" : err.status === 400 ? "offlineCheck" : "offlineFailed");
      }
    });
    return f;
  }
  let opensAt = "";
  let offlineReason = "";
  /** Why (docs/protocol.md: service_deactivated, outside_hours, no_agent_online, no_answer) and,
   * outside hours, when the client opens again (ISO). */
  function goOffline(reason, nextChange) {
    if (offline) return;
    offline = true;
    unanswered = false;
    noAnswerParts(false);
    offlineReason = reason || "";
    const d = nextChange ? new Date(nextChange) : null;
    if (d && !isNaN(d)) opensAt = d.toLocaleString(lang, { weekday: "long", hour: "2-digit", minute: "2-digit" });
    conn.stop();
    const textArea = offlineForm.elements.text;
    if (textArea && !textArea.value) textArea.value = outbox.map((i) => i.text).join("\n\n");
    composer.hidden = true;
    endBar.hidden = true;
    typingEl.hidden = true;
    offlineForm.hidden = false;
    preChat.el.hidden = true;
    setState("offline");
  }

  /** `conversation.unanswered` (docs/protocol.md): the form with reason no_answer, beside the
   * conversation; the chat stays queued, the connection open. */
  function showUnanswered() {
    if (offline || unanswered || st.closed) return;
    unanswered = true;
    offlineReason = "no_answer";
    composer.hidden = true;
    offlineForm.hidden = false;
    noAnswerParts(true);
  }
  /** An agent joined, or the visitor chose to wait: back to the chat. */
  function endUnanswered() {
    if (!unanswered) return;
    unanswered = false;
    offlineReason = "";
    offlineForm.hidden = true;
    composer.hidden = false;
  }
  // The no-answer text and "Keep waiting" belong to that case only.
  function noAnswerParts(on) {
    for (const el of offlineForm.querySelectorAll(".na,.kw")) el.hidden = !on;
  }

  // ---- HTTP ----
  let cfg = null;
  const postJSON = (url, body) => fetchJSON(url, { method: "POST", body, credentials: "omit" });

  /** A refused session: offline, or unavailable for good (4xx other than 408/429), or worth a retry. */
  function sessionRefused(err) {
    if (err.code === "service_unavailable") {
      goOffline("service_deactivated");
      err.fatal = true;
    } else if (err.status >= 400 && err.status < 500 && err.status !== 408 && err.status !== 429) {
      fatal = true; // unknown widget key, origin not allowed, client disabled: retrying won't help
      composer.hidden = true;
      err.fatal = true;
      setState("unavailable");
    }
    return err;
  }
  /** Nobody can chat now (the session's `offline`, or from an older server `online`/`open`):
   * the offline form — unless a chat is going on and only hours or presence say so. */
  function closedNow(session) {
    const off = session.offline;
    let reason = off && off.reason;
    if (off === undefined) {
      if (session.client && session.client.online === false) reason = "service_deactivated";
      else if (session.open === false) reason = "outside_hours";
    }
    if (!reason || (st.conv && !st.closed && reason !== "service_deactivated")) return false;
    goOffline(reason, (off && off.nextChange) || session.nextChange);
    return true;
  }

  /** Config + visitor session, then the WebSocket URL. Run before every (re)connect. */
  async function connectUrl() {
    if (!cfg) cfg = await fetchJSON(boot.base + "config.json", { credentials: "omit" });
    const body = { widgetKey: boot.key };
    if (st.token) body.visitorToken = st.token;
    const session = await postJSON(cfg.apiUrl + "/api/visitor/session", body).catch((err) => {
      throw sessionRefused(err);
    });
    st.token = session.visitorToken;
    save();
    applyClient(session.client);
    if (closedNow(session)) {
      const err = new Error("offline");
      err.fatal = true;
      throw err;
    }
    preChat.set(session.preChatFields);
    askPreChat();
    const q = "widgetKey=" + encodeURIComponent(boot.key) + "&visitorToken=" + encodeURIComponent(st.token);
    return cfg.wsUrl + (cfg.wsUrl.includes("?") ? "&" : "?") + q;
  }

  /** Catch up on the conversation from the contiguous seq (0 after a reload: the whole
   * transcript is rendered again), every page of it. */
  async function catchUp(c) {
    const data = await resumeFrom(c.request, st.conv, log, render);
    applyConversation(data.conversation);
    showPlace(data.queue);
  }
  /** A live seq gap that did not fill within a second: resume (a failure reconnects anyway). */
  let gapResuming = false;
  function gapResume() {
    if (gapResuming || !st.conv || st.closed || !conn.ready()) return;
    gapResuming = true;
    catchUp(conn)
      .catch(() => {})
      .finally(() => (gapResuming = false));
  }
  async function onOpen(c) {
    if (st.conv && !st.closed) {
      try {
        await catchUp(c);
      } catch (err) {
        if (err.code !== "not_found") {
          if (OFFLINE_CODES.includes(err.code)) {
            goOffline("service_deactivated");
            err.fatal = true;
          }
          throw err;
        }
        forgetConversation();
      }
    }
    // Anything sent before the connection dropped and not found in the transcript: send again.
    for (const item of outbox) if (item.state !== "queued") item.state = "queued";
  }

  // Server events for this conversation, by type (docs/protocol.md).
  const EVENTS = {
    message: (f) => render(f.message),
    typing: (f) => f.role === "agent" && showTyping(!!f.isTyping),
    "conversation.accepted": (f) => {
      applyConversation(f.conversation);
      render(f.message);
    },
    "conversation.updated": (f) => applyConversation(f.conversation),
    "queue.position": (f) => showPlace(f),
    "conversation.unanswered": () => showUnanswered(),
    "conversation.closed": (f) => {
      render(f.message);
      markClosed();
    },
  };
  const early = []; // events of the conversation being started, received before its ack
  function onEvent(f) {
    if (f.type === "error") return OFFLINE_CODES.includes(f.code) ? goOffline("service_deactivated") : flash(f.code);
    const id = f.conversationId || (f.conversation && f.conversation.conversationId);
    const handler = Object.prototype.hasOwnProperty.call(EVENTS, f.type) && EVENTS[f.type];
    if (!handler || !id) return;
    if (id === st.conv) handler(f);
    else if (!st.conv && early.length < 20) early.push(f);
  }

  const conn = createConn({
    url: connectUrl,
    ready: onOpen,
    event: onEvent,
    state: (s) => {
      connState = s;
      refreshStatus();
      refreshPending();
      if (s === "open") flush();
    },
    heartbeatMs: HEARTBEAT_MS,
    deadlineMs: DEADLINE_MS,
  });

  // Another tab of this site started or ended a conversation: follow it.
  window.addEventListener("storage", (e) => {
    if (e.key !== storeKey) return;
    const next = readStore();
    if (next.conv !== st.conv) {
      newChat();
      st.conv = next.conv;
      st.closed = next.closed;
      save();
      conn.stop();
      conn.start();
    } else if (next.closed && !st.closed) markClosed();
  });

  // ---- start ----
  for (const o of st.outbox || []) typeof o === "string" ? enqueue(o, "unsure") : enqueue(o.text, "unsure", o.cmid);
  setState(st.conv && !st.closed ? "waiting" : "idle");
  if (st.closed) forgetConversation(); // a closed chat is not shown again after a reload
  launcher.removeAttribute("aria-busy");
  setOpen(!!boot.open);
  conn.start();
}
