// The console's state, shared by its panels. One agent per tab; everything here is rebuilt
// from the server after a reload (subscribeQueue + resume).
import { configLoader } from "../../frontend/shared/api.js";
import { tokenStore } from "../../frontend/shared/auth.js";
import { createSeqLog } from "../../frontend/shared/chatsync.js";

export const loadConfig = configLoader(new URL("config.json", document.baseURI).href);
export const session = tokenStore("parley.console.idToken");

export const store = {
  token: session.get(),
  me: {}, // the token's claims
  conn: null, // frontend/shared/conn.js, while signed in
  connState: "connecting",
  queue: new Map(), // conversationId -> Conversation (waiting)
  chats: new Map(), // conversationId -> Chat (mine)
  openId: null, // the chat in the pane
  accepting: new Set(), // conversationIds being accepted from this tab
  clients: [], // [{id, name}] I serve (subscribeQueue's `clients`, when the server sends it)
  resumeChat: null, // (chat) => catch it up (app.js): a live seq gap did not fill in time, a paged accept
  queueTotal: null, // subscribeQueue's waitingTotal (null: an older server did not say)
  queueOrder: "oldest", // "oldest" | "newest" waiting first
  queueCursor: null, // nextCursor: more waiting chats to load
};

/** The Chat for a conversation, created on first sight; later calls merge the conversation in. */
export function chatFor(conv) {
  let c = store.chats.get(conv.conversationId);
  if (!c) {
    c = {
      id: conv.conversationId,
      conv,
      msgs: new Map(), // seq -> Message
      log: createSeqLog(() => store.resumeChat && store.resumeChat(c)), // seqs seen: resume from the contiguous one
      unread: 0,
      typing: false,
      typingTimer: 0,
      outbox: [], // {cmid, text, state: queued|inflight|unsure, el}; cmid = clientMessageId, kept on retries
      draft: "",
      typingSentAt: 0,
      typingIdle: 0,
      lastActivity: Date.parse(conv.acceptedAt || conv.createdAt) || Date.now(),
      notes: [], // local system notes (no seq)
    };
    store.chats.set(c.id, c);
  } else c.conv = { ...c.conv, ...conv };
  return c;
}

/** True while the socket is up and subscribed. */
export const online = () => !!(store.conn && store.conn.ready());
