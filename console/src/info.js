// The visitor panel: who the visitor is and where the chat came from.
import { $, h } from "../../frontend/shared/dom.js";
import { hostOf } from "../../frontend/shared/format.js";

const when = (iso) => (iso ? new Date(iso).toLocaleString() : "—");

export function renderInfo(chat) {
  const conv = chat.conv;
  const rows = [
    ["Name", conv.visitorName || "—"],
    ["Visitor ID", conv.visitorId || "—"],
    ["Status", conv.status + (conv.visitorLeft ? " (visitor left)" : "")],
    ["Page", conv.pageUrl || "—"],
    ["Waiting since", when(conv.createdAt)],
    ["Accepted", when(conv.acceptedAt)],
    ["Agent", conv.agentName || "—"],
    ["Conversation", conv.conversationId],
  ];
  // Pre-chat answers, when the client's form asked for any (issue 10, part 5).
  const prechat = conv.preChat && typeof conv.preChat === "object" ? conv.preChat : {};
  for (const [k, v] of Object.entries(prechat)) rows.push([k, typeof v === "string" ? v : JSON.stringify(v)]);
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
