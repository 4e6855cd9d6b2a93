// HTTP with JSON bodies and the API's JSON errors (`4xx {"code", "message"}`, docs/protocol.md).

export class ApiError extends Error {
  constructor(status, code, message, data) {
    super(message || code || "HTTP " + status);
    this.status = status;
    this.code = code || "";
    this.data = data || {}; // the whole error body (retryAfter, a TOTP setup's secretCode…)
  }
}

/**
 * fetchJSON(url, {method, body, token, credentials}) -> the parsed JSON reply.
 * Rejects with an ApiError: `status` 0 and code "network" when the request never got an answer.
 */
export async function fetchJSON(url, { method = "GET", body, token, credentials, cache } = {}) {
  const headers = {};
  if (body !== undefined) headers["content-type"] = "application/json";
  if (token) headers.authorization = "Bearer " + token;
  let res;
  try {
    res = await fetch(url, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      credentials,
      cache,
    });
  } catch (err) {
    throw new ApiError(0, "network", err && err.message);
  }
  const data = await res.json().catch(() => ({}));
  if (!res.ok) throw new ApiError(res.status, data.code, data.message, data);
  return data;
}

/** The site's config.json (apiUrl, wsUrl, …), written next to the app by the server. */
export function configLoader(url) {
  let cfg = null;
  return async () => {
    if (!cfg) cfg = await fetchJSON(url, { cache: "no-store", credentials: "omit" });
    return cfg;
  };
}
