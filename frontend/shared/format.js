// Formatting helpers (dates, durations, names, money) shared by the front-ends.

/** "AB" from "Alex Brown" (or "ab@c.com"); "?" for nothing. */
export const initials = (name) =>
  String(name || "?")
    .trim()
    .split(/[\s@.]+/)
    .filter(Boolean)
    .slice(0, 2)
    .map((w) => w.charAt(0).toUpperCase())
    .join("") || "?";

/** "14:05" (in `lang`, or the browser's language) for an ISO time; now when none. */
export function clockTime(iso, lang) {
  const d = iso ? new Date(iso) : new Date();
  return isNaN(d) ? "" : d.toLocaleTimeString(lang || [], { hour: "2-digit", minute: "2-digit" });
}

/** "just now", "4 min", "1 h 5 min" since an ISO time. */
export function ago(iso, now = Date.now()) {
  const s = (Math.max(0, now - Date.parse(iso)) / 1000) | 0;
  if (!iso || isNaN(Date.parse(iso))) return "";
  if (s < 60) return "just now";
  if (s < 3600) return ((s / 60) | 0) + " min";
  return ((s / 3600) | 0) + " h " + (((s % 3600) / 60) | 0) + " min";
}

/** "example.com/cars" from a URL; the input when it is not one. */
export function hostOf(url) {
  try {
    const u = new URL(url);
    return u.host + (u.pathname === "/" ? "" : u.pathname);
  } catch {
    return url || "";
  }
}

const usd = new Intl.NumberFormat("en-US", { style: "currency", currency: "USD" });
/** "$12.50" from integer cents. */
export const money = (cents) => usd.format((Number(cents) || 0) / 100);
/** "1,234". */
export const num = (n) => (Number(n) || 0).toLocaleString("en-US");
/** "1 chat", "3 chats". */
export const plural = (n, one, many) => num(n) + " " + (Number(n) === 1 ? one : many || one + "s");
