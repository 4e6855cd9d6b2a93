// Parley agent console: sign-in, the connection and its events. The panels are modules:
// queue.js, chats.js, conversation.js (+ info.js, transfer.js), attention.js (sound,
// notifications, title), connection.js (connection pill, online/away).
// Protocol: docs/protocol.md. All data is written with textContent.
import { claims, expired } from "../../frontend/shared/auth.js";
import { resumeFrom } from "../../frontend/shared/chatsync.js";
import { createConn } from "../../frontend/shared/conn.js";
import { $ } from "../../frontend/shared/dom.js";
import { initials } from "../../frontend/shared/format.js";
import { armOnGesture, initSoundToggle, newChat, resetTitle } from "./attention.js";
import { renderChats } from "./chats.js";
import { chosenStatus, initStatusControl, refreshLoad, sendStatus, showConnection, statusChanged } from "./connection.js";
import {
  addMessage,
  addTransferNote,
  dismiss,
  flushAll,
  initConversation,
  openChat,
  refreshPending,
  renderPane,
  setTyping,
} from "./conversation.js";
import { wireAdmin } from "./admin/index.js";
import { wireLeads } from "./leads.js";
import { signInSteps, submitMfaCode } from "./login.js";
import { dequeue, initQueue, renderQueue, subscribeQueue } from "./queue.js";
import { initTransfer } from "./transfer.js";
import { initViews, wireViews } from "./views.js";
import { chatFor, loadConfig, online, session, store } from "./state.js";
import { errorText, toast, visitorLabel } from "./text.js";

// Heartbeat: ping after 5 s of silence, the ack must come within 4 s, so a dead socket shows
// as "Reconnecting…" within about 10 s (agents are few; one ping each per 5 s is cheap).
const HEARTBEAT_MS = 5000;
const DEADLINE_MS = 4000;

// ---------- login ----------
function showLogin(message) {
  $("shell").hidden = true;
  $("login").hidden = false;
  const err = $("login-error");
  err.textContent = message || "";
  err.hidden = !message;
  resetTitle();
  $("username").focus();
}

async function signIn(e, setupMfa = false) {
  if (e) e.preventDefault();
  if (submitMfaCode()) return; // the code step of a sign-in already under way (login.js)
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
    const data = await signInSteps(username, password, setupMfa); // a TOTP code or setup if asked
    store.token = data.idToken;
    session.set(store.token);
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
}

function logout(message) {
  if (store.conn) store.conn.stop();
  store.conn = null;
  store.token = null;
  session.clear();
  store.queue.clear();
  store.chats.clear();
  store.openId = null;
  renderAll();
  showLogin(message);
}

function renderAll() {
  renderQueue();
  renderChats();
  renderPane(false);
  refreshLoad();
}

// ---------- connection ----------
function start() {
  store.me = claims(store.token);
  const name = store.me.name || store.me["cognito:username"] || store.me.email || "Agent";
  $("me-name").textContent = name;
  $("me-avatar").textContent = initials(name);
  $("login").hidden = true;
  $("shell").hidden = false;
  renderAll();
  initViews();
  armOnGesture();
  store.conn = createConn({
    url: async () => {
      if (expired(store.token)) {
        const err = new Error("session expired");
        err.fatal = true;
        err.auth = true;
        throw err;
      }
      const c = await loadConfig();
      return c.wsUrl + (c.wsUrl.includes("?") ? "&" : "?") + "token=" + encodeURIComponent(store.token);
    },
    ready: onOpen,
    event: onEvent,
    state: (s, err) => {
      showConnection(s);
      refreshPending();
      if (s === "open") {
        flushAll();
        // Presence is set by the agent, not by connecting (docs/protocol.md): say it after every
        // (re)connect. An older server's error changes nothing.
        sendStatus(chosenStatus(), { quiet: true });
      }
      if (s === "stopped" && err && err.auth) logout("Your session has expired. Please sign in again.");
    },
    heartbeatMs: HEARTBEAT_MS,
    deadlineMs: DEADLINE_MS,
  });
  store.conn.start();
}

async function onOpen(c) {
  const data = await subscribeQueue(c);
  // The clients I serve, when the server names them: ids, or {id, name}.
  store.clients = (data.clients || []).map((x) => (typeof x === "string" ? { id: x, name: x } : x));
  for (const conv of data.mine || []) chatFor(conv);
  // Catch up on every chat still open here (those closed meanwhile report it in `resume`).
  const open = [...store.chats.values()].filter((ch) => ch.conv.status !== "closed");
  await Promise.all(open.map((ch) => resume(c, ch)));
  for (const ch of store.chats.values()) for (const item of ch.outbox) if (item.state !== "queued") item.state = "queued";
  renderAll();
}

/** Catches a chat up from its contiguous seq (docs/protocol.md "Client rules"), every page. */
async function resume(c, chat) {
  const quiet = chat.log.contiguous() === 0; // the first load of a chat's history is not "unread"
  try {
    const data = await resumeFrom(c.request, chat.id, chat.log, (m) => addMessage(chat, m, quiet));
    if (data.conversation) chat.conv = { ...chat.conv, ...data.conversation };
  } catch (err) {
    if (err.code === "not_found") {
      chat.conv.status = "closed";
      return;
    }
    if (err.code === "disconnected" || err.code === "timeout") throw err;
    // e.g. forbidden: this chat is no longer ours; keep what we have.
  }
}

// A live seq gap that did not fill within a second: resume that chat (a failure reconnects anyway).
store.resumeChat = (chat) => {
  if (chat.resuming || !online() || chat.conv.status === "closed") return;
  chat.resuming = true;
  resume(store.conn, chat)
    .then(renderAll, () => {})
    .finally(() => (chat.resuming = false));
};

/** A chat that became mine without my clicking Accept here (the router, or another tab). */
function adopt(conv, assigned) {
  const known = store.chats.has(conv.conversationId);
  const chat = chatFor(conv);
  dequeue(chat.id);
  if (!known && assigned) newChat(conv, true, () => openChat(chat.id));
  if (online()) resume(store.conn, chat).then(renderAll, () => {});
  if (!store.openId) openChat(chat.id);
  renderAll();
  return chat;
}

const LOSS = {
  no_answer: "wasn't answered in time and went to another agent",
  disconnected: "went to another agent while you were disconnected",
  agent_offline: "went to another agent while you were offline",
};
const lossText = (reason, who) => "The chat with " + who + " " + (LOSS[reason] || "was transferred") + ".";

// Server events by type (docs/protocol.md); each gets the frame, its conversation id and my chat.
const EVENTS = {
  "conversation.waiting"(f, id, chat) {
    if (chat || !f.conversation) return;
    const fresh = !store.queue.has(id);
    store.queue.set(id, f.conversation);
    if (fresh && store.queueTotal != null) store.queueTotal++;
    renderQueue();
    if (fresh) newChat(f.conversation, false);
  },
  // The router gave me this chat (with the transfer notes it brings, agents only).
  "conversation.assigned"(f, id) {
    if (!isMine(f.conversation)) {
      if (dequeue(id)) renderQueue();
      return;
    }
    const chat = adopt(f.conversation, true);
    addMessage(chat, f.message);
    for (const n of f.notes || []) addTransferNote(chat, n);
  },
  "conversation.accepted"(f, id, chat) {
    dequeue(id);
    if (chat) {
      chat.conv = { ...chat.conv, ...f.conversation };
      addMessage(chat, f.message);
    } else if (isMine(f.conversation) && !store.accepting.has(id)) adopt(f.conversation, false);
    renderAll();
  },
  // The chat left me: transferred, not answered in time, or I disconnected.
  "conversation.transferred"(f, id, chat) {
    if (isMine(f.conversation)) {
      adopt(f.conversation, true);
      return;
    }
    if (!chat) return;
    toast(lossText(f.reason, visitorLabel(chat.conv)), "info");
    dismiss(id);
  },
  "conversation.visitor_left"(f, id, chat) {
    if (!chat) return;
    chat.conv = { ...chat.conv, visitorLeft: true };
    renderAll();
  },
  "agent.status"(f) {
    if (f.agent) statusChanged(f.agent, f.reason);
  },
  "conversation.closed"(f, id, chat) {
    dequeue(id);
    if (chat) {
      chat.conv = { ...chat.conv, ...f.conversation, status: "closed" };
      addMessage(chat, f.message);
      setTyping(chat, false);
    }
    renderAll();
  },
  "conversation.updated"(f, id, chat) {
    if (!chat || !f.conversation) return;
    chat.conv = { ...chat.conv, ...f.conversation };
    renderAll();
  },
  message(f, id, chat) {
    if (!chat) return;
    if (f.message && f.message.role === "visitor" && chat.conv.visitorLeft) chat.conv = { ...chat.conv, visitorLeft: false };
    addMessage(chat, f.message);
    if (f.message && f.message.role === "visitor") setTyping(chat, false);
  },
  typing(f, id, chat) {
    if (chat && f.role === "visitor") setTyping(chat, !!f.isTyping);
  },
  error(f) {
    toast(errorText(f.code));
  },
};
const isMine = (conv) => !!(conv && conv.agentId && conv.agentId === store.me.sub);

function onEvent(f) {
  const handler = Object.prototype.hasOwnProperty.call(EVENTS, f.type) && EVENTS[f.type];
  if (!handler) return;
  const id = f.conversationId || (f.conversation && f.conversation.conversationId);
  handler(f, id, id && store.chats.get(id));
  refreshLoad();
}

// ---------- boot ----------
$("login-form").addEventListener("submit", signIn);
$("login-mfa").addEventListener("click", () => signIn(null, true));
$("logout").addEventListener("click", () => logout());
initConversation();
initStatusControl();
initSoundToggle();
initTransfer();
initQueue();
wireAdmin();
wireLeads();
wireViews();
loadConfig().catch(() => {});
if (store.token && !expired(store.token)) start();
else {
  session.clear();
  store.token = null;
  showLogin();
}
