// The console's words: error codes and system-message codes in English (docs/protocol.md).
import { $ } from "../../frontend/shared/dom.js";
import { fill, messageText } from "../../frontend/shared/i18n.js";

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
  rate_limited: "You're sending quickly: your reply goes out in a moment.",
  unknown_action: "The server doesn't support that yet.",
  invalid_request: "The server refused that request.",
  network: "The server can't be reached.",
  unauthorized: "Your session has expired. Please sign in again.",
  agent_unavailable: "That agent is not online or has no free slot.",
  not_serving_client: "That agent or team doesn't serve this client.",
};
export const errorText = (code) => ERRORS[code] || "Something went wrong (" + (code || "error") + ").";

// The codes of docs/protocol.md ("Objects"); an unknown code falls back to the server's text.
const SYSTEM = {
  agent_joined: "{name} joined the chat",
  visitor_closed: "The visitor closed the chat",
  agent_closed: "{name} closed the chat",
  transferred: "The chat was handed to another agent",
  idle_closed: "Closed after a period of inactivity",
};
/** A message's text; system messages sent as codes are translated, older ones are shown as sent. */
export const textOf = (m) => messageText(m, (key, params) => (SYSTEM[key.slice(4)] == null ? undefined : fill(SYSTEM[key.slice(4)], params)));

/** The visitor's name, or "Visitor ABCD" (from the visitor id) so unnamed visitors can be told apart. */
export function visitorLabel(conv) {
  const name = String((conv && conv.visitorName) || "").trim();
  const id = String((conv && conv.visitorId) || "").slice(-4).toUpperCase();
  return name && name.toLowerCase() !== "visitor" ? name : ("Visitor " + id).trim();
}

let toastTimer = 0;
/** A short message at the bottom of the screen. */
export function toast(text, kind = "error") {
  const el = $("toast");
  el.textContent = text;
  el.dataset.kind = kind;
  el.hidden = false;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => (el.hidden = true), 5000);
}
