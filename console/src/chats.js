// The "My chats" panel: the agent's chats, open ones first, most recent activity first, with
// unread counts.
import { $, h } from "../../frontend/shared/dom.js";
import { initials } from "../../frontend/shared/format.js";
import { updateTitle } from "./attention.js";
import { openChat } from "./conversation.js";
import { store } from "./state.js";
import { visitorLabel } from "./text.js";

function lastText(chat) {
  let best = null;
  for (const m of chat.msgs.values()) if (m.role !== "system" && (!best || m.seq > best.seq)) best = m;
  if (!best) return chat.conv.preview || "";
  return (best.role === "agent" ? "You: " : "") + best.text;
}

function chatItem(chat) {
  const closed = chat.conv.status === "closed";
  const current = chat.id === store.openId;
  const li = h(
    "li",
    {
      class: "citem" + (current ? " active" : "") + (closed ? " closed" : ""),
      "data-testid": "console-chat-item",
      "data-conversation-id": chat.id,
      "data-status": chat.conv.status,
      "aria-current": current ? "true" : null,
      tabindex: "0",
      role: "button",
      onclick: () => openChat(chat.id),
      onkeydown: (e) => {
        if (e.key === "Enter" || e.key === " ") {
          e.preventDefault();
          openChat(chat.id);
        }
      },
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
        !closed && chat.conv.visitorLeft ? h("span", { class: "ctag", text: "Left" }) : null,
      ),
      h("div", { class: "cpreview" + (chat.typing ? " is-typing" : ""), text: chat.typing ? "typing…" : lastText(chat) }),
    ),
    chat.unread
      ? h("span", { class: "badge", "data-testid": "console-unread", "aria-label": chat.unread + " unread", text: String(chat.unread) })
      : null,
  );
  return li;
}

export function renderChats() {
  const items = [...store.chats.values()].sort(
    (a, b) => (a.conv.status === "closed") - (b.conv.status === "closed") || b.lastActivity - a.lastActivity,
  );
  $("chats").replaceChildren(...items.map(chatItem));
  $("chats-count").textContent = String(items.filter((c) => c.conv.status !== "closed").length);
  $("chats-empty").hidden = items.length > 0;
  updateTitle();
}
