// The widget's strings. `{0}` is replaced by t()'s second argument, `{name}` by its `name`.
// `sys_<code>` keys translate system messages that arrive as codes (docs/protocol.md, "Objects").
import { fill } from "../../frontend/shared/i18n.js";

const en = {
  chat: "Chat",
  title: "Chat with us",
  hello: "Hi! How can we help you today?",
  online: "We typically reply in a few minutes",
  waiting: "An agent will join shortly",
  with: "Chatting with {0}",
  agent: "Agent",
  you: "You",
  placeholder: "Type your message…",
  send: "Send",
  end: "End chat",
  minimize: "Minimize chat",
  open: "Open chat",
  openUnread: "Open chat ({0} unread)",
  hide: "Close chat window",
  typing: "{0} is typing…",
  connecting: "Connecting…",
  reconnecting: "Connection lost. Reconnecting…",
  ended: "This chat has ended.",
  youEnded: "You ended the chat.",
  newChat: "Start a new chat",
  sending: "Sending…",
  notSent: "Waiting for the connection…",
  failed: "Not delivered.",
  retry: "Retry",
  unavailable: "Chat is not available right now.",
  offline: "We're offline right now. Leave a message and we'll get back to you by email.",
  noAnswer: "Sorry, nobody could answer in time. Leave us a message and we'll get back to you. You're still in line if you'd rather wait.",
  keepWaiting: "Keep waiting",
  opensAt: "We're back {0}.",
  name: "Your name",
  email: "Email",
  phone: "Phone (optional)",
  offlineCheck: "Please fill in your name, a valid email and your message.",
  offlineRate: "You've sent several messages already. Please try again in a few minutes.",
  message: "Message",
  leave: "Send message",
  thanks: "Thanks! We received your message and will get back to you soon.",
  offlineFailed: "Sorry, your message couldn't be sent. Please try again later.",
  e_message_too_long: "That message is too long (4,000 characters at most).",
  e_empty_message: "Please type a message first.",
  e_conversation_closed: "This chat has ended. Start a new chat to keep talking.",
  e_generic: "Something went wrong. Please try again.",
  e_rate_limited: "You're sending quickly; your message goes out in a moment.",
  powered: "Powered by Parley",
  queued: "You are number {0} in line",
  queuedWait: "You are number {0} in line · about {1} min",
  sys_agent_joined: "{name} joined the chat",
  sys_visitor_closed: "You ended the chat.",
  sys_agent_closed: "{name} closed the chat",
  sys_idle_closed: "This chat was closed after a period of inactivity.",
  sys_transferred: "You are being connected with another agent.",
};

const es = {
  chat: "Chat",
  title: "Chatea con nosotros",
  hello: "¡Hola! ¿En qué podemos ayudarte hoy?",
  online: "Solemos responder en pocos minutos",
  waiting: "Enseguida te atiende un agente",
  with: "Conversando con {0}",
  agent: "Agente",
  you: "Tú",
  placeholder: "Escribe tu mensaje…",
  send: "Enviar",
  end: "Terminar chat",
  minimize: "Minimizar el chat",
  open: "Abrir el chat",
  openUnread: "Abrir el chat ({0} sin leer)",
  hide: "Cerrar la ventana del chat",
  typing: "{0} está escribiendo…",
  connecting: "Conectando…",
  reconnecting: "Se perdió la conexión. Reconectando…",
  ended: "Este chat ha terminado.",
  youEnded: "Terminaste el chat.",
  newChat: "Iniciar un chat nuevo",
  sending: "Enviando…",
  notSent: "Esperando la conexión…",
  failed: "No entregado.",
  retry: "Reintentar",
  unavailable: "El chat no está disponible en este momento.",
  offline: "Ahora no estamos conectados. Déjanos un mensaje y te responderemos por correo.",
  noAnswer: "Lo sentimos, nadie pudo responder a tiempo. Déjanos un mensaje y te responderemos. Sigues en la fila si prefieres esperar.",
  keepWaiting: "Seguir esperando",
  opensAt: "Volvemos el {0}.",
  name: "Tu nombre",
  email: "Correo electrónico",
  phone: "Teléfono (opcional)",
  offlineCheck: "Escribe tu nombre, un correo válido y tu mensaje.",
  offlineRate: "Ya enviaste varios mensajes. Inténtalo de nuevo en unos minutos.",
  message: "Mensaje",
  leave: "Enviar mensaje",
  thanks: "¡Gracias! Recibimos tu mensaje y te responderemos pronto.",
  offlineFailed: "Lo sentimos, no pudimos enviar tu mensaje. Inténtalo más tarde.",
  e_message_too_long: "Ese mensaje es demasiado largo (máximo 4.000 caracteres).",
  e_empty_message: "Escribe un mensaje primero.",
  e_conversation_closed: "Este chat ha terminado. Inicia un chat nuevo para seguir hablando.",
  e_generic: "Algo salió mal. Inténtalo de nuevo.",
  e_rate_limited: "Estás enviando muy rápido; tu mensaje saldrá en un momento.",
  powered: "Con tecnología de Parley",
  queued: "Eres el número {0} en la fila",
  queuedWait: "Eres el número {0} en la fila · unos {1} min",
  sys_agent_joined: "{name} se unió al chat",
  sys_visitor_closed: "Terminaste el chat.",
  sys_agent_closed: "{name} cerró el chat",
  sys_idle_closed: "Este chat se cerró por inactividad.",
  sys_transferred: "Te estamos conectando con otro agente.",
};

/** The page's language: <html lang>, else the browser's; "es" or "en". */
export function pickLang(doc = document, nav = navigator) {
  const l = (doc.documentElement.lang || nav.language || "en").toLowerCase();
  return l.startsWith("es") ? "es" : "en";
}

/**
 * t(key, arg) -> the string; `arg` fills {0} (a scalar or a list) or {name}-style slots (an
 * object). t.known(key, params) is the same but undefined for a key neither language has.
 */
export function translator(lang) {
  const dict = lang === "es" ? es : en;
  const known = (key, arg) => {
    const template = dict[key] || en[key];
    return template == null ? undefined : fill(template, arg);
  };
  const t = (key, arg) => {
    const text = known(key, arg);
    return text == null ? key : text;
  };
  t.known = known;
  return t;
}
