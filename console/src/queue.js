// The queue panel: waiting chats of the agent's clients with Accept, a page at a time
// (subscribeQueue: `limit`, `order`, `cursor`; docs/protocol.md), oldest or newest first, with
// the total waiting and "Load more"; live `conversation.waiting` events still add new chats.
import { $, h } from "../../frontend/shared/dom.js";
import { ago, hostOf, initials } from "../../frontend/shared/format.js";
import { updateTitle } from "./attention.js";
import { addMessage, openChat } from "./conversation.js";
import { chatFor, online, store } from "./state.js";
import { errorText, toast, visitorLabel } from "./text.js";

async function accept(id, btn) {
  if (!online()) return toast("Not connected yet.");
  store.accepting.add(id);
  btn.disabled = true;
  btn.textContent = "Accepting…";
  try {
    const data = await store.conn.request("acceptConversation", { conversationId: id });
    dequeue(id);
    const chat = chatFor(data.conversation);
    const msgs = data.messages || [];
    for (const m of msgs) addMessage(chat, m, true);
    // A long history comes in pages: the rest by resume (docs/protocol.md, "Paged replies").
    if (data.hasMore && msgs.length) {
      chat.log.complete(msgs[msgs.length - 1].seq);
      store.resumeChat(chat);
    }
    chat.unread = 0;
    renderQueue();
    openChat(id);
  } catch (err) {
    if (["already_taken", "conversation_closed", "not_found"].includes(err.code)) dequeue(id);
    toast(errorText(err.code));
    renderQueue();
  } finally {
    store.accepting.delete(id);
  }
}

function queueItem(conv) {
  const id = conv.conversationId;
  const btn = h("button", {
    type: "button",
    class: "btn btn-primary btn-sm",
    "data-testid": "console-accept",
    text: store.accepting.has(id) ? "Accepting…" : "Accept",
    disabled: store.accepting.has(id),
  });
  btn.addEventListener("click", () => accept(id, btn));
  return h(
    "li",
    { class: "qitem", "data-testid": "console-queue-item", "data-conversation-id": id },
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
}

const PAGE = 50;

/** A waiting chat left the queue (accepted, routed, closed); the total follows. */
export function dequeue(id) {
  const had = store.queue.delete(id);
  if (had && store.queueTotal != null) store.queueTotal = Math.max(0, store.queueTotal - 1);
  return had;
}

/** The first page of the queue, in the chosen order (after each (re)connect, and on a toggle). */
export async function subscribeQueue(c) {
  const data = await c.request("subscribeQueue", { limit: PAGE, order: store.queueOrder });
  store.queue.clear();
  takePage(data);
  return data;
}

function takePage(data) {
  for (const conv of data.waiting || []) if (!store.chats.has(conv.conversationId)) store.queue.set(conv.conversationId, conv);
  store.queueTotal = typeof data.waitingTotal === "number" ? data.waitingTotal : null;
  store.queueCursor = data.nextCursor || null;
}

let loadingMore = false;
async function loadMore() {
  if (loadingMore || !store.queueCursor || !online()) return;
  loadingMore = true;
  $("queue-more").disabled = true;
  try {
    const data = await store.conn.request("subscribeQueue", { limit: PAGE, order: store.queueOrder, cursor: store.queueCursor });
    takePage(data);
  } catch (err) {
    toast(errorText(err.code));
  } finally {
    loadingMore = false;
    $("queue-more").disabled = false;
    renderQueue();
  }
}

async function toggleOrder() {
  store.queueOrder = store.queueOrder === "newest" ? "oldest" : "newest";
  renderQueue();
  if (!online()) return;
  try {
    await subscribeQueue(store.conn);
  } catch (err) {
    toast(errorText(err.code));
  }
  renderQueue();
}

export function initQueue() {
  $("queue-more").addEventListener("click", loadMore);
  $("queue-order").addEventListener("click", toggleOrder);
}

export function renderQueue() {
  const newest = store.queueOrder === "newest";
  const items = [...store.queue.values()].sort(
    (a, b) => (Date.parse(a.createdAt) - Date.parse(b.createdAt)) * (newest ? -1 : 1),
  );
  // The server's total counts chats beyond the pages loaded here.
  const total = Math.max(items.length, store.queueTotal || 0);
  $("queue").replaceChildren(...items.map(queueItem));
  $("queue-count").textContent = String(total);
  $("queue-count").dataset.hot = total ? "1" : "";
  $("queue-empty").hidden = total > 0;
  $("queue-shown").hidden = total <= items.length;
  $("queue-shown").textContent = "Showing " + items.length + " of " + total + " waiting";
  $("queue-more").hidden = !store.queueCursor;
  const order = $("queue-order");
  order.textContent = newest ? "Newest first" : "Oldest first";
  order.setAttribute("aria-label", newest ? "Show the oldest waiting chats first" : "Show the newest waiting chats first");
  updateTitle();
}

// Waiting times tick.
setInterval(() => {
  for (const el of document.querySelectorAll(".qwait")) el.textContent = ago(el.dataset.created);
}, 15000);
