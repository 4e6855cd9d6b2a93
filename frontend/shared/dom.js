// DOM helpers shared by the widget, the console and the dashboard. Data always goes in as
// text (textContent or text nodes), never as HTML.

/**
 * h("li", {class: "m", "data-seq": 3, onclick: fn, text: "hi"}, child, "text", null)
 * `on…` attributes become listeners, `text` the text content; null/false attributes and
 * null children are left out; string children become text nodes.
 */
export function h(tag, attrs, ...kids) {
  const el = document.createElement(tag);
  for (const k in attrs || {}) {
    const v = attrs[k];
    if (v == null || v === false) continue;
    if (k.startsWith("on")) el.addEventListener(k.slice(2), v);
    else if (k === "text") el.textContent = v;
    else el.setAttribute(k, v === true ? "" : v);
  }
  for (const kid of kids) if (kid != null && kid !== false) el.append(kid);
  return el;
}

/** document.getElementById. */
export const $ = (id) => document.getElementById(id);
