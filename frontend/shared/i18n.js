// Message templates and system messages that travel as codes (docs/protocol.md).

/** fill("{name} joined", {name: "Alex"}) -> "Alex joined"; {0} is the first of a list or a scalar. */
export function fill(template, params) {
  const p = params == null ? {} : typeof params === "object" ? params : [params];
  return String(template).replace(/\{(\w+)\}/g, (all, k) => (p[k] == null ? "" : String(p[k])));
}

/**
 * The text of a message as this page should show it. A system message with a `code` (and
 * `params`) is translated with `t("sys_" + code, params)` when the dictionary knows the code;
 * otherwise (an older server, an unknown code) the server's own `text` is shown.
 * @param {{code?: string, params?: object, text?: string}} m
 * @param {(key: string, params?: object) => string | undefined} lookup  undefined for an unknown key
 */
export function messageText(m, lookup) {
  if (m && m.code) {
    const translated = lookup("sys_" + m.code, m.params || {});
    if (translated != null) return translated;
  }
  return String(m == null || m.text == null ? "" : m.text);
}
