// The conversation pane: the open chat's messages, the composer (with an outbox kept across
// reconnects), typing indicators, close and dismiss.
import { newClientMessageId, pendingFor, retryAfterMs } from "../../frontend/shared/chatsync.js";
import { $, h } from "../../frontend/shared/dom.js";
import { clockTime, hostOf, initials } from "../../frontend/shared/format.js";
import { away, newMessage, updateTitle } from "./attention.js";
import { renderChats } from "./chats.js";
import { renderInfo } from "./info.js";
import { chatToLead } from "./leads.js";
import { online, store } from "./state.js";
import { errorText, textOf, toast, visitorLabel } from "./text.js";
import { renderTransfer } from "./transfer.js";

const TYPING_REFRESH_MS = 4000; // re-send isTyping:true at most this often while typing
const TYPING_IDLE_MS = 3000; // isTyping:false after this long without a keystroke
const TYPING_SHOW_MS = 8000; // hide the visitor's indicator if no stop ever comes

// ---------- messages ----------
/** Adds a stored message once (by seq); `quiet` for history that is not news. A copy of one
 * of my pending replies (same clientMessageId) takes its place. */
export function addMessage(chat, m, quiet) {
  if (!m || typeof m.seq !== "number" || chat.msgs.has(m.seq)) return;
  chat.log.add(m.seq);
  replacesPending(chat, m);
  chat.msgs.set(m.seq, m);
  chat.lastActivity = Date.parse(m.sentAt) || Date.now();
  if (chat.id === store.openId) insertMessageEl(messageEl(m), m.seq);
  if (m.role === "visitor" && !quiet && chat.conv.status !== "closed") {
    if (chat.id !== store.openId || away()) chat.unread++;
    newMessage(chat, m, () => openChat(chat.id));
  }
  soon();
}

let renderQueued = false;
/** Re-render the chat list and the title once, after the current burst of events. */
export function soon() {
  if (renderQueued) return;
  renderQueued = true;
  Promise.resolve().then(() => {
    renderQueued = false;
    renderChats();
  });
}

function messageEl(m) {
  const role = m.role === "visitor" || m.role === "agent" ? m.role : "system";
  const who = role === "agent" ? m.senderName || "You" : role === "visitor" ? m.senderName || "" : "";
  const el = h(
    "li",
    { class: "msg msg-" + role + (m.internal ? " msg-note" : ""), "data-testid": "console-message", "data-role": role },
    h("div", { class: "bubble", "data-testid": "console-message-text", text: textOf(m) }),
    role === "system" ? null : h("div", { class: "meta", text: [who, clockTime(m.sentAt)].filter(Boolean).join(" · ") }),
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
      if ((s !== null && s !== "" && Number(s) > seq) || other.dataset.status === "pending") {
        before = other;
        break;
      }
    }
  }
  list.insertBefore(el, before);
  if (atBottom || seq == null) list.scrollTop = list.scrollHeight;
}

/** A local note in the open chat (not stored, no seq). */
export function note(chat, text) {
  chat.notes.push(text);
  if (chat.id === store.openId) insertMessageEl(messageEl({ role: "system", text }), null);
}

/** A transfer note (agents only, never shown to the visitor): `{authorName, text, at}`. */
export function addTransferNote(chat, n) {
  if (!n || !n.text) return;
  const key = (n.at || "") + "|" + n.text;
  chat.seenNotes = chat.seenNotes || new Set();
  if (chat.seenNotes.has(key)) return;
  chat.seenNotes.add(key);
  note(chat, "Note from " + (n.authorName || "a colleague") + ": " + n.text);
}

// ---------- sending (outbox per chat, kept across reconnects) ----------
function replacesPending(chat, m) {
  const mine = m.role === "agent" && pendingFor(chat.outbox, m);
  if (mine) dropPending(chat, mine);
}
function dropPending(chat, item) {
  const i = chat.outbox.indexOf(item);
  if (i >= 0) chat.outbox.splice(i, 1);
  if (item.el) item.el.remove();
}
/** The ack (first or `duplicate`) of a pending reply: the stored message replaces it. */
function confirmItem(chat, item, m) {
  dropPending(chat, item);
  addMessage(chat, m);
}
/** "Sending…" only while connected; otherwise say that it waits for the connection. */
const pendingText = () => (store.connState === "open" ? "Sending…" : "Not sent yet: waiting for the connection…");
function pendingEl(item) {
  item.el = h(
    "li",
    { class: "msg msg-agent", "data-testid": "console-message", "data-role": "agent", "data-status": "pending" },
    h("div", { class: "bubble", "data-testid": "console-message-text", text: item.text }),
    h("div", { class: "meta", text: pendingText() }),
  );
  return item.el;
}
/** Re-label pending messages after the connection state changed. */
export function refreshPending() {
  for (const chat of store.chats.values())
    for (const item of chat.outbox) if (item.el) item.el.querySelector(".meta").textContent = pendingText();
}

function send() {
  const chat = store.chats.get(store.openId);
  const input = $("input");
  const text = input.value.trim();
  if (!chat || !text || chat.conv.status === "closed") return;
  input.value = "";
  chat.draft = "";
  stopTyping(chat);
  const item = { cmid: newClientMessageId(), text, state: "queued" };
  chat.outbox.push(item);
  insertMessageEl(pendingEl(item), null);
  flush(chat);
}

const flushing = new Set();
export function flushAll() {
  for (const chat of store.chats.values()) flush(chat);
}
async function flush(chat) {
  if (flushing.has(chat.id) || !online()) return;
  flushing.add(chat.id);
  try {
    let item;
    while ((item = chat.outbox.find((i) => i.state === "queued")) && online()) {
      item.state = "inflight";
      try {
        const data = await store.conn.request("sendMessage", {
          conversationId: chat.id,
          text: item.text,
          clientMessageId: item.cmid,
        });
        confirmItem(chat, item, data.message);
      } catch (err) {
        if (!sendFailed(chat, item, err)) break;
      }
    }
  } finally {
    flushing.delete(chat.id);
  }
}

/** After a refused or unanswered send: true to go on with the next reply, false to stop. */
function sendFailed(chat, item, err) {
  if (err.code === "disconnected" || err.code === "timeout") {
    item.state = "unsure"; // maybe stored: sent again with the same id after the reconnect
    return false;
  }
  if (err.code === "rate_limited" || err.code === "send_in_progress") {
    // Nothing stored (or the first copy is still being stored): again when the server says.
    item.state = "queued";
    if (err.code === "rate_limited") toast(errorText(err.code), "info");
    setTimeout(() => flush(chat), retryAfterMs(err));
    return false;
  }
  chat.outbox.splice(chat.outbox.indexOf(item), 1);
  if (item.el) {
    item.el.dataset.status = "failed";
    item.el.querySelector(".meta").textContent = "Not delivered: " + errorText(err.code);
  }
  if (err.code === "conversation_closed") {
    chat.conv.status = "closed";
    renderPane(false);
    renderChats();
  }
  toast(errorText(err.code));
  return true;
}

// ---------- typing ----------
function onInput() {
  const chat = store.chats.get(store.openId);
  if (!chat) return;
  chat.draft = $("input").value;
  if (chat.conv.status !== "active" || !online()) return;
  if (!chat.draft.trim()) return stopTyping(chat);
  const now = Date.now();
  if (now - chat.typingSentAt > TYPING_REFRESH_MS) {
    chat.typingSentAt = now;
    store.conn.request("typing", { conversationId: chat.id, isTyping: true }).catch(() => {});
  }
  clearTimeout(chat.typingIdle);
  chat.typingIdle = setTimeout(() => stopTyping(chat), TYPING_IDLE_MS);
}
function stopTyping(chat) {
  clearTimeout(chat.typingIdle);
  if (!chat.typingSentAt) return;
  chat.typingSentAt = 0;
  if (online() && chat.conv.status === "active")
    store.conn.request("typing", { conversationId: chat.id, isTyping: false }).catch(() => {});
}
/** The visitor's typing indicator. */
export function setTyping(chat, on) {
  clearTimeout(chat.typingTimer);
  chat.typing = on;
  if (on) chat.typingTimer = setTimeout(() => setTyping(chat, false), TYPING_SHOW_MS);
  if (chat.id === store.openId) {
    $("typing-text").textContent = visitorLabel(chat.conv) + " is typing…";
    $("typing").hidden = !on;
  }
  renderChats();
}

// ---------- close / dismiss ----------
async function closeChat() {
  const chat = store.chats.get(store.openId);
  if (!chat || chat.conv.status === "closed" || !store.conn) return;
  const btn = $("close-chat");
  btn.disabled = true;
  try {
    const data = await store.conn.request("closeConversation", { conversationId: chat.id });
    chat.conv = { ...chat.conv, ...(data.conversation || {}), status: "closed" };
    if (data.message) addMessage(chat, data.message);
    else chat.notes.push("You closed the chat.");
    stopTyping(chat);
    setTyping(chat, false);
    renderChats();
    renderPane(!data.message);
  } catch (err) {
    if (err.code === "conversation_closed") {
      chat.conv.status = "closed";
      renderChats();
      renderPane(false);
    }
    toast(errorText(err.code));
  } finally {
    btn.disabled = false;
  }
}
/** Turns the open chat into a lead (a ticket the Leads inbox follows up). */
async function makeLead() {
  const chat = store.chats.get(store.openId);
  if (!chat) return;
  const btn = $("lead-chat");
  btn.disabled = true;
  try {
    await chatToLead(chat.id, "");
    toast("Lead created from this chat: see Leads.", "info");
  } catch (err) {
    toast(err.status === 404 ? "Leads aren't available on this server yet." : "Couldn't make a lead: " + err.message);
  } finally {
    btn.disabled = false;
  }
}

/** Takes a chat off this tab's list (closed, or transferred away). */
export function dismiss(id) {
  store.chats.delete(id);
  if (store.openId !== id) return renderChats();
  const next = [...store.chats.values()].find((c) => c.conv.status !== "closed");
  store.openId = null;
  if (next) openChat(next.id);
  else {
    renderChats();
    renderPane(false);
  }
}

// ---------- the pane ----------
export function openChat(id) {
  const prev = store.chats.get(store.openId);
  if (prev && prev.id !== id) {
    prev.draft = $("input").value;
    stopTyping(prev);
  }
  store.openId = id;
  const chat = store.chats.get(id);
  if (chat) chat.unread = 0;
  renderChats();
  renderPane(true);
  updateTitle();
  if (chat && chat.conv.status !== "closed") $("input").focus();
}

/** The open chat's header, composer and side panel; `rebuild` re-renders its messages too. */
export function renderPane(rebuild) {
  const chat = store.chats.get(store.openId);
  $("pane-empty").hidden = !!chat;
  $("pane-chat").hidden = !chat;
  $("info").hidden = !chat;
  if (!chat) return;
  const conv = chat.conv;
  const closed = conv.status === "closed";
  $("chat-avatar").textContent = initials(visitorLabel(conv));
  $("chat-title").textContent = visitorLabel(conv);
  $("chat-sub").textContent = closed
    ? "Closed" + (conv.closedAt ? " at " + clockTime(conv.closedAt) : "")
    : "Started " + clockTime(conv.createdAt) + (conv.pageUrl ? " · " + hostOf(conv.pageUrl) : "");
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
  renderTransfer(chat);
  renderInfo(chat);
}

/** Hooks the pane's controls up (once). */
export function initConversation() {
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
  $("input").addEventListener("input", onInput);
  $("close-chat").addEventListener("click", closeChat);
  $("lead-chat").addEventListener("click", makeLead);
  $("dismiss-chat").addEventListener("click", () => dismiss(store.openId));
  // Back to the tab: what is on screen is read now.
  const seen = () => {
    const chat = store.chats.get(store.openId);
    if (chat && chat.unread && !away()) {
      chat.unread = 0;
      renderChats();
    }
  };
  addEventListener("focus", seen);
  document.addEventListener("visibilitychange", seen);
}
