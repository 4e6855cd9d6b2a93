// Small form helpers for the admin panels: labelled fields, team pickers, reading values back.
import { h } from "../../../frontend/shared/dom.js";

/** A labelled input; `attrs` go on the input (name, type, value, required, …). */
export function field(label, attrs, tag = "input") {
  const { options, value: initial, ...rest } = attrs;
  const input = h(tag, rest);
  for (const [v, text] of options || []) input.append(h("option", { value: v, text }));
  if (initial != null) input.value = String(initial);
  return h("label", { class: "field" }, h("span", { text: label }), input);
}

/** Checkboxes named `name`, one per item {id, name}, checked for ids in `chosen`. */
export function picker(label, name, items, chosen = []) {
  const on = new Set(chosen);
  return h(
    "fieldset",
    { class: "picker" },
    h("legend", { text: label }),
    ...(items.length
      ? items.map((it) =>
          h("label", { class: "check" }, h("input", { type: "checkbox", name, value: it.id, checked: on.has(it.id) }), " " + it.name),
        )
      : [h("span", { class: "muted", text: "None yet." })]),
  );
}

/** The checked values of the checkboxes named `name` in `form`. */
export const checked = (form, name) => [...form.querySelectorAll(`input[name="${name}"]:checked`)].map((i) => i.value);

/** A form's field value, trimmed. */
export const value = (form, name) => String((form.elements[name] && form.elements[name].value) || "").trim();

/** An int field, or undefined when empty. */
export function int(form, name) {
  const v = value(form, name);
  return v === "" ? undefined : Number.parseInt(v, 10);
}

/** Drop undefined and empty-string entries (the API reads missing as "unchanged"). */
export const compact = (o) => Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined && v !== ""));
