// The dashboard's state: the signed-in client user's token, the config and the last
// GET /api/client/billing reply, plus names derived from it.
import { configLoader } from "../../frontend/shared/api.js";
import { tokenStore } from "../../frontend/shared/auth.js";

export const session = tokenStore("parley.dashboard.idToken");
export const loadConfig = configLoader(new URL("config.json", document.baseURI).href);
export const INSTALL_KEY = "parley.dashboard.install."; // + clientId -> {widgetKey, website}; public data

export const store = {
  token: session.get(),
  cfg: null, // config.json, once loaded
  data: null, // GET /api/client/billing
  installFallback: null, // the signup's widget key, when storage is unavailable
};

export function unitName(n) {
  const unit = (store.data && store.data.unit) || "engaged_chat";
  if (unit === "engaged_chat") return Number(n) === 1 ? "engaged chat" : "engaged chats";
  if (unit === "agent_minutes") return Number(n) === 1 ? "agent minute" : "agent minutes";
  return String(unit).replace(/_/g, " ");
}
const planById = (id) => ((store.data && store.data.plans) || []).find((p) => p.id === id);
export const planName = (id) => (planById(id) || {}).name || id || "—";

export function duration(seconds) {
  const s = Math.round(Number(seconds));
  if (!isFinite(s)) return "—";
  if (s < 60) return s + " s";
  return Math.floor(s / 60) + " min " + (s % 60) + " s";
}

const BRANDS = { visa: "Visa", mastercard: "Mastercard", amex: "American Express", discover: "Discover", jcb: "JCB", diners: "Diners Club", unionpay: "UnionPay" };
/** "Visa •••• 4242, expires 12/2030" for the server's `card` (never a raw payment method id). */
export function cardText(card) {
  if (!card) return "";
  if (!card.known) return "the card on file";
  const brand = BRANDS[card.brand] || String(card.brand || "Card");
  return brand + " •••• " + card.last4 + ", expires " + String(card.expMonth).padStart(2, "0") + "/" + card.expYear;
}
