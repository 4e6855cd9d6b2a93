// Parley agent console. Protocol: docs/protocol.md. All data is written with textContent.
import { createConn, rid } from "../../widget/src/lib/conn.js";

const TOKEN_KEY = "parley.console.idToken";
const TYPING_REFRESH_MS = 4000;
const TYPING_IDLE_MS = 3000;
const TYPING_SHOW_MS = 8000;

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
  for (const kid of kids) if (kid != null) el.append(kid);
  return el;
}

// ---------- state ----------
let cfg = null;
let token = sessionStorage.getItem(TOKEN_KEY);
let me = {};
let conn = null;
const queue = new Map(); // conversationId -> Conversation
const chats = new Map(); // conversationId -> Chat
let openId = null;
const accepting = new Set();

/** @returns Chat */
function chatFor(conv) {
  let c = chats.get(conv.conversationId);
  if (!c) {
    c = {
      id: conv.conversationId,
      conv,
      msgs: new Map(), // seq -> Message
      lastSeq: 0,
      unread: 0,
      typing: false,
      typingTimer: 0,
      outbox: [], // {id, text, state: queued|inflight|unsure, el}
      draft: "",
      typingSentAt: 0,
      typingIdle: 0,
      lastActivity: Date.parse(conv.acceptedAt || conv.createdAt) || Date.now(),
      notes: [], // local system notes (no seq)
    };
    chats.set(c.id, c);
  } else if (conv) c.conv = { ...c.conv, ...conv };
  return c;
}

// ---------- helpers ----------
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
/** The visitor's name, or "Visitor ABCD" (from the visitor id) so unnamed visitors can be told apart. */
function visitorLabel(conv) {
  const name = String((conv && conv.visitorName) || "").trim();
  const id = String((conv && conv.visitorId) || "").slice(-4).toUpperCase();
  return name && name.toLowerCase() !== "visitor" ? name : ("Visitor " + id).trim();
}
const initials = (name) =>
  String(name || "?")
    .trim()
    .split(/\s+/)
    .slice(0, 2)
    .map((w) => w.charAt(0).toUpperCase())
    .join("");
const clock = (iso) => {
  const d = iso ? new Date(iso) : new Date();
  return isNaN(d) ? "" : d.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
};
function ago(iso) {
  const s = Math.max(0, (Date.now() - Date.parse(iso)) / 1000) | 0;
  if (!iso || isNaN(s)) return "";
  if (s < 60) return "just now";
  if (s < 3600) return ((s / 60) | 0) + " min";
  return ((s / 3600) | 0) + " h " + (((s % 3600) / 60) | 0) + " min";
}
function hostOf(url) {
  try {
    const u = new URL(url);
    return u.host + (u.pathname === "/" ? "" : u.pathname);
  } catch (e) {
    return url || "";
  }
}
let toastTimer = 0;
function toast(text, kind = "error") {
  const el = $("toast");
  el.textContent = text;
  el.dataset.kind = kind;
  el.hidden = false;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => (el.hidden = true), 5000);
}
const ERRORS = {
  message_too_long: "That reply is too long (4,000 characters at most).",
  empty_message: "Type a reply first.",
  conversation_closed: "This chat is already closed.",
  already_taken: "Another agent already accepted this chat.",
  not_accepted: "You haven't accepted this chat.",
  not_found: "That chat no longer exists.",
  forbidden: "You are not allowed to do that.",
  service_unavailable: "This client's service is deactivated.",
  timeout: "The server didn't answer in time. Reconnecting…",
  disconnected: "Connection lost. Your message will be sent when it's back.",
};
const errorText = (code) => ERRORS[code] || "Something went wrong (" + (code || "error") + ").";

// ---------- HTTP ----------
async function loadConfig() {
  if (cfg) return cfg;
  const res = await fetch(new URL("config.json", document.baseURI), { cache: "no-store" });
  if (!res.ok) throw new Error("config.json: HTTP " + res.status);
  cfg = await res.json();
  return cfg;
}
async function postJSON(path, body) {
  const c = await loadConfig();
  const res = await fetch(c.apiUrl + path, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  const data = await res.json().catch(() => ({}));
  if (!res.ok) {
    const err = new Error(data.message || data.code || "HTTP " + res.status);
    err.code = data.code;
    err.status = res.status;
    throw err;
  }
  return data;
}

// ---------- login ----------
function showLogin(message) {
  $("shell").hidden = true;
  $("login").hidden = false;
  const err = $("login-error");
  err.textContent = message || "";
  err.hidden = !message;
  document.title = "Parley — Agent console";
  $("username").focus();
}
$("login-form").addEventListener("submit", async (e) => {
  e.preventDefault();
  const username = $("username").value.trim();
  const password = $("password").value;
  const err = $("login-error");
  if (!username || !password) {
    err.textContent = "Enter your username and password.";
    err.hidden = false;
    return;
  }
  const btn = $("login-btn");
  btn.disabled = true;
  btn.textContent = "Signing in…";
  try {
    const data = await postJSON("/api/auth/login", { username, password });
    token = data.idToken;
    sessionStorage.setItem(TOKEN_KEY, token);
    $("password").value = "";
    err.hidden = true;
    start();
  } catch (ex) {
    err.textContent =
      ex.status === 401 ? "Wrong username or password." : "Couldn't sign in: " + (ex.message || "network error") + ".";
    err.hidden = false;
  } finally {
    btn.disabled = false;
    btn.textContent = "Sign in";
  }
});
$("logout").addEventListener("click", () => logout());
function logout(message) {
  if (conn) conn.stop();
  conn = null;
  token = null;
  sessionStorage.removeItem(TOKEN_KEY);
  queue.clear();
  chats.clear();
  openId = null;
  renderAll();
  showLogin(message);
}

// ---------- connection ----------
function start() {
  me = claims(token);
  const name = me.name || me["cognito:username"] || me.email || "Agent";
  $("me-name").textContent = name;
  $("me-avatar").textContent = initials(name);
  $("login").hidden = true;
  $("shell").hidden = false;
  renderAll();
  conn = createConn({
    url: async () => {
      if (!token || expired(token)) {
        const err = new Error("session expired");
        err.fatal = true;
        err.auth = true;
        throw err;
      }
      const c = await loadConfig();
      return c.wsUrl + (c.wsUrl.includes("?") ? "&" : "?") + "token=" + encodeURIComponent(token);
    },
    ready: onOpen,
    event: onEvent,
    state: (s, err) => {
      setStatus(s);
      if (s === "open") flushAll();
      if (s === "stopped" && err && err.auth) logout("Your session has expired. Please sign in again.");
    },
  });
  conn.start();
}
function setStatus(s) {
  const el = $("status");
  el.dataset.state = s;
  el.textContent = { open: "Online", connecting: "Connecting…", reconnecting: "Reconnecting…", stopped: "Offline" }[s] || s;
}
window.addEventListener("online", () => conn && conn.kick());

async function onOpen(c) {
  const data = await c.request("subscribeQueue", {});
  queue.clear();
  for (const conv of data.waiting || []) if (!chats.has(conv.conversationId)) queue.set(conv.conversationId, conv);
  const mine = new Set();
  for (const conv of data.mine || []) {
    chatFor(conv);
    mine.add(conv.conversationId);
  }
  // Catch up on every chat still open here (those closed meanwhile report it in `resume`).
  const open = [...chats.values()].filter((ch) => ch.conv.status !== "closed");
  await Promise.all(open.map((ch) => resume(c, ch)));
  for (const ch of chats.values()) for (const item of ch.outbox) if (item.state !== "queued") item.state = "queued";
  renderAll();
}
async function resume(c, chat) {
  let since = chat.lastSeq;
  const quiet = since === 0; // the first load of a chat's history is not "unread"
  try {
    for (;;) {
      const data = await c.request("resume", { conversationId: chat.id, sinceSeq: since });
      const msgs = data.messages || [];
      for (const m of msgs) {
        if (!claim(chat, m)) addMessage(chat, m, quiet);
        since = Math.max(since, m.seq);
      }
      if (data.conversation) chat.conv = { ...chat.conv, ...data.conversation };
      if (!data.hasMore || !msgs.length) break;
    }
  } catch (err) {
    if (err.code === "not_found") {
      chat.conv.status = "closed";
      return;
    }
    if (err.code === "disconnected" || err.code === "timeout") throw err;
    // e.g. forbidden: this chat is no longer ours; keep what we have.
  }
}

function onEvent(f) {
  const conv = f.conversation;
  const id = f.conversationId || (conv && conv.conversationId);
  const chat = id && chats.get(id);
  switch (f.type) {
    case "conversation.waiting":
      if (!chat && conv) {
        queue.set(id, conv);
        renderQueue();
        updateTitle();
      }
      break;
    case "conversation.accepted":
      queue.delete(id);
      if (chat) {
        chat.conv = { ...chat.conv, ...conv };
        addMessage(chat, f.message);
      } else if (conv && conv.agentId && conv.agentId === me.sub && !accepting.has(id)) {
        // Accepted by me in another tab: follow it here too.
        const ch = chatFor(conv);
        if (conn && conn.ready()) resume(conn, ch).then(renderAll, () => {});
      }
      renderAll();
      break;
    case "conversation.closed":
      queue.delete(id);
      if (chat) {
        chat.conv = { ...chat.conv, ...conv, status: "closed" };
        addMessage(chat, f.message);
        setTyping(chat, false);
      }
      renderAll();
      break;
    case "message":
      if (chat) {
        addMessage(chat, f.message);
        if (f.message && f.message.role === "visitor") setTyping(chat, false);
      }
      break;
    case "typing":
      if (chat && f.role === "visitor") setTyping(chat, !!f.isTyping);
      break;
    case "error":
      toast(errorText(f.code));
      break;
  }
}

// ---------- messages ----------
function addMessage(chat, m, quiet) {
  if (!m || typeof m.seq !== "number" || chat.msgs.has(m.seq)) return;
  chat.msgs.set(m.seq, m);
  if (m.seq > chat.lastSeq) chat.lastSeq = m.seq;
  chat.lastActivity = Date.parse(m.sentAt) || Date.now();
  if (chat.id === openId) insertMessageEl(messageEl(m), m.seq);
  else if (m.role === "visitor" && !quiet) chat.unread++;
  soon();
}
let renderQueued = false;
/** Re-render the chat list and the title once, after the current burst of events. */
function soon() {
  if (renderQueued) return;
  renderQueued = true;
  Promise.resolve().then(() => {
    renderQueued = false;
    renderChats();
    updateTitle();
  });
}
function messageEl(m) {
  const role = m.role === "visitor" || m.role === "agent" ? m.role : "system";
  const who = role === "agent" ? m.senderName || "You" : role === "visitor" ? m.senderName || "" : "";
  const el = h(
    "li",
    { class: "msg msg-" + role, "data-testid": "console-message", "data-role": role },
    h("div", { class: "bubble", "data-testid": "console-message-text", text: String(m.text == null ? "" : m.text) }),
    role === "system" ? null : h("div", { class: "meta", text: [who, clock(m.sentAt)].filter(Boolean).join(" · ") }),
  );
  if (typeof m.seq === "number") el.setAttribute("data-seq", String(m.seq));
  return el;
}
function insertMessageEl(el, seq) {
  const list = $("messages");
  const atBottom = list.scrollHeight - list.scrollTop - list.clientHeight < 80;
  let before = null;
  if (seq != null) {
    for (const other of list.children) {
      const s = other.getAttribute("data-seq");
      if (s !== null && s !== "" && Number(s) > seq) {
        before = other;
        break;
      }
      if (other.dataset.status === "pending") {
        before = other;
        break;
      }
    }
  }
  list.insertBefore(el, before);
  if (atBottom || seq == null) list.scrollTop = list.scrollHeight;
}

// ---------- sending (outbox per chat, kept across reconnects) ----------
function claim(chat, m) {
  if (m.role !== "agent") return false;
  const item = chat.outbox.find((i) => i.state === "unsure" && i.text === String(m.text).trim());
  if (!item) return false;
  confirmItem(chat, item, m);
  return true;
}
function confirmItem(chat, item, m) {
  chat.outbox.splice(chat.outbox.indexOf(item), 1);
  if (item.el) item.el.remove();
  addMessage(chat, m);
}
function pendingEl(item) {
  const el = h(
    "li",
    { class: "msg msg-agent", "data-testid": "console-message", "data-role": "agent", "data-status": "pending" },
    h("div", { class: "bubble", "data-testid": "console-message-text", text: item.text }),
    h("div", { class: "meta", text: "Sending…" }),
  );
  item.el = el;
  return el;
}
function send() {
  const chat = chats.get(openId);
  const input = $("input");
  const text = input.value.trim();
  if (!chat || !text || chat.conv.status === "closed") return;
  input.value = "";
  chat.draft = "";
  stopTyping(chat);
  const item = { id: rid(), text, state: "queued" };
  chat.outbox.push(item);
  insertMessageEl(pendingEl(item), null);
  flush(chat);
}
const flushing = new Set();
function flushAll() {
  for (const chat of chats.values()) flush(chat);
}
async function flush(chat) {
  if (flushing.has(chat.id) || !conn || !conn.ready()) return;
  flushing.add(chat.id);
  try {
    let item;
    while ((item = chat.outbox.find((i) => i.state === "queued")) && conn && conn.ready()) {
      item.state = "inflight";
      try {
        const data = await conn.request("sendMessage", { conversationId: chat.id, text: item.text });
        confirmItem(chat, item, data.message);
      } catch (err) {
        if (err.code === "disconnected" || err.code === "timeout") {
          item.state = "unsure";
          break;
        }
        chat.outbox.splice(chat.outbox.indexOf(item), 1);
        if (item.el) {
          item.el.dataset.status = "failed";
          item.el.querySelector(".meta").textContent = "Not delivered: " + errorText(err.code);
        }
        if (err.code === "conversation_closed") {
          chat.conv.status = "closed";
          renderAll();
        }
        toast(errorText(err.code));
      }
    }
  } finally {
    flushing.delete(chat.id);
  }
}
$("composer").addEventListener("submit", (e) => {
  e.preventDefault();
  send();
});
$("input").addEventListener("keydown", (e) => {
  if (e.key === "Enter" && !e.shiftKey && !e.isComposing) {
    e.preventDefault();
    send();
  }
});

// ---------- typing ----------
$("input").addEventListener("input", () => {
  const chat = chats.get(openId);
  if (!chat) return;
  chat.draft = $("input").value;
  if (chat.conv.status !== "active" || !conn || !conn.ready()) return;
  if (!chat.draft.trim()) return stopTyping(chat);
  const now = Date.now();
  if (now - chat.typingSentAt > TYPING_REFRESH_MS) {
    chat.typingSentAt = now;
    conn.request("typing", { conversationId: chat.id, isTyping: true }).catch(() => {});
  }
  clearTimeout(chat.typingIdle);
  chat.typingIdle = setTimeout(() => stopTyping(chat), TYPING_IDLE_MS);
});
function stopTyping(chat) {
  clearTimeout(chat.typingIdle);
  if (!chat.typingSentAt) return;
  chat.typingSentAt = 0;
  if (conn && conn.ready() && chat.conv.status === "active")
    conn.request("typing", { conversationId: chat.id, isTyping: false }).catch(() => {});
}
function setTyping(chat, on) {
  clearTimeout(chat.typingTimer);
  chat.typing = on;
  if (on) chat.typingTimer = setTimeout(() => setTyping(chat, false), TYPING_SHOW_MS);
  if (chat.id === openId) {
    $("typing-text").textContent = visitorLabel(chat.conv) + " is typing…";
    $("typing").hidden = !on;
  }
  renderChats();
}

// ---------- accept / close ----------
async function accept(id, btn) {
  if (!conn || !conn.ready()) return toast("Not connected yet.");
  accepting.add(id);
  btn.disabled = true;
  btn.textContent = "Accepting…";
  try {
    const data = await conn.request("acceptConversation", { conversationId: id });
    queue.delete(id);
    const chat = chatFor(data.conversation);
    for (const m of data.messages || []) addMessage(chat, m, true);
    chat.unread = 0;
    renderQueue();
    openChat(id);
  } catch (err) {
    if (["already_taken", "conversation_closed", "not_found"].includes(err.code)) queue.delete(id);
    toast(errorText(err.code));
    renderQueue();
  } finally {
    accepting.delete(id);
  }
}
$("close-chat").addEventListener("click", async () => {
  const chat = chats.get(openId);
  if (!chat || chat.conv.status === "closed" || !conn) return;
  const btn = $("close-chat");
  btn.disabled = true;
  try {
    const data = await conn.request("closeConversation", { conversationId: chat.id });
    chat.conv = { ...chat.conv, ...(data.conversation || {}), status: "closed" };
    if (data.message) addMessage(chat, data.message);
    else chat.notes.push("You closed the chat.");
    stopTyping(chat);
    setTyping(chat, false);
    renderAll();
    if (!data.message) openChat(chat.id);
  } catch (err) {
    if (err.code === "conversation_closed") {
      chat.conv.status = "closed";
      renderAll();
    }
    toast(errorText(err.code));
  } finally {
    btn.disabled = false;
  }
});
$("dismiss-chat").addEventListener("click", () => {
  chats.delete(openId);
  const next = [...chats.values()].find((c) => c.conv.status !== "closed");
  openId = null;
  if (next) openChat(next.id);
  else renderAll();
});

// ---------- rendering ----------
function renderAll() {
  renderQueue();
  renderChats();
  renderPane(false);
  updateTitle();
}
function renderQueue() {
  const list = $("queue");
  const items = [...queue.values()].sort((a, b) => Date.parse(a.createdAt) - Date.parse(b.createdAt));
  list.replaceChildren(
    ...items.map((conv) => {
      const btn = h("button", {
        type: "button",
        class: "btn btn-primary btn-sm",
        "data-testid": "console-accept",
        text: accepting.has(conv.conversationId) ? "Accepting…" : "Accept",
        disabled: accepting.has(conv.conversationId),
      });
      btn.addEventListener("click", () => accept(conv.conversationId, btn));
      return h(
        "li",
        { class: "qitem", "data-testid": "console-queue-item", "data-conversation-id": conv.conversationId },
        h("span", { class: "avatar avatar-sm avatar-wait", "aria-hidden": "true", text: initials(visitorLabel(conv)) }),
        h(
          "div",
          { class: "qbody" },
          h(
            "div",
            { class: "qtop" },
            h("span", { class: "qname", text: visitorLabel(conv) }),
            h("span", { class: "qwait", "data-created": conv.createdAt || "", text: ago(conv.createdAt) }),
          ),
          h("div", { class: "qpreview", text: conv.preview || "" }),
          conv.pageUrl ? h("div", { class: "qpage", text: hostOf(conv.pageUrl) }) : null,
        ),
        btn,
      );
    }),
  );
  $("queue-count").textContent = String(items.length);
  $("queue-count").dataset.hot = items.length ? "1" : "";
  $("queue-empty").hidden = items.length > 0;
}
function lastText(chat) {
  let best = null;
  for (const m of chat.msgs.values()) if (m.role !== "system" && (!best || m.seq > best.seq)) best = m;
  if (!best) return chat.conv.preview || "";
  return (best.role === "agent" ? "You: " : "") + best.text;
}
function renderChats() {
  const list = $("chats");
  const items = [...chats.values()].sort(
    (a, b) => (a.conv.status === "closed") - (b.conv.status === "closed") || b.lastActivity - a.lastActivity,
  );
  list.replaceChildren(
    ...items.map((chat) => {
      const closed = chat.conv.status === "closed";
      const li = h(
        "li",
        {
          class: "citem" + (chat.id === openId ? " active" : "") + (closed ? " closed" : ""),
          "data-testid": "console-chat-item",
          "data-conversation-id": chat.id,
          "data-status": chat.conv.status,
          "aria-current": chat.id === openId ? "true" : null,
        },
        h("span", { class: "avatar avatar-sm", "aria-hidden": "true", text: initials(visitorLabel(chat.conv)) }),
        h(
          "div",
          { class: "cbody" },
          h(
            "div",
            { class: "ctop" },
            h("span", { class: "cname", text: visitorLabel(chat.conv) }),
            closed ? h("span", { class: "ctag", text: "Closed" }) : null,
          ),
          h("div", { class: "cpreview" + (chat.typing ? " is-typing" : ""), text: chat.typing ? "typing…" : lastText(chat) }),
        ),
        chat.unread
          ? h("span", { class: "badge", "data-testid": "console-unread", "aria-label": chat.unread + " unread", text: String(chat.unread) })
          : null,
      );
      li.tabIndex = 0;
      li.setAttribute("role", "button");
      li.addEventListener("click", () => openChat(chat.id));
      li.addEventListener("keydown", (e) => {
        if (e.key === "Enter" || e.key === " ") {
          e.preventDefault();
          openChat(chat.id);
        }
      });
      return li;
    }),
  );
  $("chats-count").textContent = String([...chats.values()].filter((c) => c.conv.status !== "closed").length);
  $("chats-empty").hidden = items.length > 0;
}
function openChat(id) {
  const prev = chats.get(openId);
  if (prev && prev.id !== id) {
    prev.draft = $("input").value;
    stopTyping(prev);
  }
  openId = id;
  const chat = chats.get(id);
  if (chat) chat.unread = 0;
  renderChats();
  renderPane(true);
  updateTitle();
  if (chat && chat.conv.status !== "closed") $("input").focus();
}
function renderPane(rebuild) {
  const chat = chats.get(openId);
  $("pane-empty").hidden = !!chat;
  $("pane-chat").hidden = !chat;
  $("info").hidden = !chat;
  if (!chat) return;
  const conv = chat.conv;
  const closed = conv.status === "closed";
  $("chat-avatar").textContent = initials(visitorLabel(conv));
  $("chat-title").textContent = visitorLabel(conv);
  $("chat-sub").textContent = closed
    ? "Closed" + (conv.closedAt ? " at " + clock(conv.closedAt) : "")
    : "Started " + clock(conv.createdAt) + (conv.pageUrl ? " · " + hostOf(conv.pageUrl) : "");
  $("close-chat").hidden = closed;
  $("dismiss-chat").hidden = !closed;
  $("composer").hidden = closed;
  $("closed-bar").hidden = !closed;
  $("typing").hidden = !chat.typing || closed;
  $("typing-text").textContent = visitorLabel(conv) + " is typing…";
  if (rebuild) {
    const list = $("messages");
    const msgs = [...chat.msgs.values()].sort((a, b) => a.seq - b.seq);
    list.replaceChildren(
      ...msgs.map(messageEl),
      ...chat.notes.map((text) => messageEl({ role: "system", text })),
      ...chat.outbox.map((item) => item.el || pendingEl(item)),
    );
    list.scrollTop = list.scrollHeight;
    $("input").value = chat.draft || "";
  }
  renderInfo(chat);
}
function renderInfo(chat) {
  const conv = chat.conv;
  const rows = [
    ["Name", conv.visitorName || "—"],
    ["Visitor ID", conv.visitorId || "—"],
    ["Status", conv.status],
    ["Page", conv.pageUrl || "—"],
    ["Waiting since", conv.createdAt ? new Date(conv.createdAt).toLocaleString() : "—"],
    ["Accepted", conv.acceptedAt ? new Date(conv.acceptedAt).toLocaleString() : "—"],
    ["Agent", conv.agentName || "—"],
    ["Conversation", conv.conversationId],
  ];
  $("info-list").replaceChildren(
    ...rows.flatMap(([k, v]) => {
      let value = h("dd", { text: v });
      if (k === "Page" && /^https?:\/\//i.test(v)) {
        value = h("dd", {}, h("a", { href: v, target: "_blank", rel: "noopener noreferrer", text: hostOf(v) }));
      }
      return [h("dt", { text: k }), value];
    }),
  );
}
function updateTitle() {
  let unread = 0;
  for (const c of chats.values()) unread += c.unread;
  const n = queue.size + unread;
  document.title = (n ? "(" + n + ") " : "") + "Parley — Agent console";
}
// Waiting times tick.
setInterval(() => {
  for (const el of document.querySelectorAll(".qwait")) el.textContent = ago(el.dataset.created);
}, 15000);

// ---------- boot ----------
loadConfig().catch(() => {});
if (token && !expired(token)) start();
else {
  sessionStorage.removeItem(TOKEN_KEY);
  token = null;
  showLogin();
}
