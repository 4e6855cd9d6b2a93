// The pre-chat form (docs/protocol.md, "Pre-chat form"): shown before the first message when
// the client has one. Checked here as on the server, which has the last word: a refusal
// (`invalid_prechat` with `field` and `reason`) shows the form again with that field's error.
// Labels and options are the client's own words; only the form's own strings are translated.
import { h } from "../../frontend/shared/dom.js";

const TEXT = {
  en: {
    intro: "Before we start, please tell us a little about you.",
    start: "Start chat",
    choose: "Choose…",
    required: "Please fill in this field.",
    invalid_email: "Please enter a valid email.",
    invalid_phone: "Please enter a valid phone number.",
    invalid_option: "Please choose one of the options.",
    too_long: "This answer is too long.",
    consent_required: "Please accept to continue.",
    other: "Please check this field.",
  },
  es: {
    intro: "Antes de empezar, cuéntanos un poco sobre ti.",
    start: "Iniciar chat",
    choose: "Elige…",
    required: "Completa este campo.",
    invalid_email: "Escribe un correo electrónico válido.",
    invalid_phone: "Escribe un número de teléfono válido.",
    invalid_option: "Elige una de las opciones.",
    too_long: "Esta respuesta es demasiado larga.",
    consent_required: "Acepta para continuar.",
    other: "Revisa este campo.",
  },
};
// The server's limits and patterns (parley/chat/prechat.py).
const MAX = { text: 200, email: 254, phone: 32, textarea: 500, select: 200 };
const EMAIL = /^[^@\s]+@[^@\s]+\.[^@\s]+$/;
const PHONE = /^\+?[0-9][0-9 ().-]*$/;

// Per type: the reason a non-blank answer is refused, or "".
const FORMAT = {
  email: (v) => (EMAIL.test(v) ? "" : "invalid_email"),
  phone: (v) => (PHONE.test(v) && v.replace(/\D/g, "").length >= 6 ? "" : "invalid_phone"),
  select: (v, f) => ((f.options || []).includes(v) ? "" : "invalid_option"),
};

/** The reason an answer is refused, or "" (the server's reasons, same order). */
function problem(f, v) {
  if (f.type === "consent") return v ? "" : "consent_required";
  if (!v) return f.required ? "required" : "";
  if (v.length > (MAX[f.type] || 200)) return "too_long";
  return FORMAT[f.type] ? FORMAT[f.type](v, f) : "";
}

/**
 * createPreChat(lang, done) -> {el, set(fields), pending(), answers(), refuse(key, reason)}.
 * `done()` runs when the visitor submits a valid form; the answers are kept for a new chat on
 * the same page (each startConversation carries them).
 */
export function createPreChat(lang, done) {
  const s = TEXT[lang] || TEXT.en;
  const form = h("form", { class: "off pc", hidden: true, novalidate: true, "data-testid": "parley-prechat" });
  let fields = [];
  let answers = null; // null: not filled in yet
  let errs = {};
  let ctl = {}; // key -> its input (not form.elements: a key like "length" would clash)

  function control(f) {
    const attrs = { name: f.key, "data-testid": "parley-prechat-" + f.key, required: !!f.required };
    if (f.type === "select") {
      return h("select", attrs, h("option", { value: "", text: s.choose }), ...(f.options || []).map((o) => h("option", { value: o, text: o })));
    }
    if (f.type === "consent") return h("input", { ...attrs, type: "checkbox" });
    if (f.type === "textarea") return h("textarea", { ...attrs, maxlength: String(MAX.textarea) });
    const type = { email: "email", phone: "tel" }[f.type] || "text";
    return h("input", { ...attrs, type, maxlength: String(MAX[f.type] || 200) });
  }
  function build() {
    errs = {};
    ctl = {};
    const rows = fields.map((f) => {
      const err = h("span", { class: "offerr", role: "alert", "data-testid": "parley-prechat-error-" + f.key, hidden: true });
      errs[f.key] = err;
      ctl[f.key] = control(f);
      const label = h("span", { text: f.label + (f.required && f.type !== "consent" ? " *" : "") });
      if (f.type === "consent") return h("label", { class: "pcc" }, h("span", {}, ctl[f.key], " " + (f.consentText || f.label)), err);
      return h("label", {}, label, ctl[f.key], err);
    });
    form.replaceChildren(h("p", { text: s.intro }), ...rows, h("button", { type: "submit", class: "nc", "data-testid": "parley-prechat-start", text: s.start }));
  }
  function value(f) {
    const el = ctl[f.key];
    return f.type === "consent" ? !!(el && el.checked) : el ? el.value.trim() : "";
  }
  function show(key, reason) {
    const err = errs[key];
    if (!err) return false;
    err.hidden = !reason;
    err.textContent = reason ? s[reason] || s.other : "";
    ctl[key].setAttribute("aria-invalid", reason ? "true" : "false");
    return !!reason;
  }

  form.addEventListener("submit", (e) => {
    e.preventDefault();
    const got = {};
    let bad = null;
    for (const f of fields) {
      const v = value(f);
      if (show(f.key, problem(f, v)) && !bad) bad = f.key;
      if (v) got[f.key] = v;
    }
    if (bad) return ctl[bad].focus();
    answers = got;
    form.hidden = true;
    done();
  });

  return {
    el: form,
    /** The session's preChatFields; the form is (re)built only when they change. */
    set(list) {
      const next = Array.isArray(list) ? list.filter((f) => f && typeof f.key === "string") : [];
      if (JSON.stringify(next) === JSON.stringify(fields)) return;
      fields = next;
      answers = fields.length ? null : {};
      build();
    },
    /** True while the form must be filled in before a chat can start. */
    pending: () => answers === null && fields.length > 0,
    answers: () => (fields.length ? answers || undefined : undefined),
    /** The server refused an answer: back to the form, with the field's error. */
    refuse(key, reason) {
      answers = null;
      form.hidden = false;
      if (!show(key, reason || "other")) show(fields[0] && fields[0].key, "other");
    },  };
}
