// The admin API (`/api/admin/...`, Cognito group "admins"; docs/admin.md). Bodies are camelCase,
// replies carry the stored items (snake_case). Errors are ApiErrors with the server's message.
import { fetchJSON } from "../../../frontend/shared/api.js";
import { loadConfig, store } from "../state.js";

export async function admin(method, path, body) {
  const cfg = await loadConfig();
  return fetchJSON(cfg.apiUrl + "/api/admin" + path, { method, body, token: store.token, cache: "no-store" });
}

/** "a, b\nc" -> ["a", "b", "c"]. */
export const list = (text) =>
  String(text || "")
    .split(/[\s,]+/)
    .map((s) => s.trim())
    .filter(Boolean);
