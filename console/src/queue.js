// The queue panel: waiting chats of the agent's clients, oldest first, with Accept.
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
    store.queue.delete(id);
    const chat = chatFor(data.conversation);
    for (const m of data.messages || []) addMessage(chat, m, true);
    chat.unread = 0;
    renderQueue();
    openChat(id);
  } catch (err) {
    if (["already_taken", "conversation_closed", "not_found"].includes(err.code)) store.queue.delete(id);
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

export function renderQueue() {
  const items = [...store.queue.values()].sort((a, b) => Date.parse(a.createdAt) - Date.parse(b.createdAt));
  $("queue").replaceChildren(...items.map(queueItem));
  $("queue-count").textContent = String(items.length);
  $("queue-count").dataset.hot = items.length ? "1" : "";
  $("queue-empty").hidden = items.length > 0;
  updateTitle();
}

// Waiting times tick.
setInterval(() => {
  for (const el of document.querySelectorAll(".qwait")) el.textContent = ago(el.dataset.created);
}, 15000);
