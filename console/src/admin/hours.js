// Admin: a client's business hours (docs/hours.md) — time zone, ranges per weekday, holiday
// calendar (closed dates, short days), after-hours coverage (PR-2), or a preset (CO-8
// call_on_me, always open). Saved on its own (PATCH {hours}); the server validates and its
// message (400 invalid_hours naming the field) is shown under the form. Shows "Open now /
// Closed" and the next change from the server's answer, in the client's zone.
import { h } from "../../../frontend/shared/dom.js";
import { toast } from "../text.js";
import { admin } from "./api.js";

const DAYS = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"];
const PRESETS = [
  ["", "Custom hours (edit below)"],
  ["call_on_me", "CO-8 call_on_me: weekdays 8am–5pm MST, US holidays"],
  ["always_open", "Always open (24/7)"],
  ["none", "No hours (always open, nothing stored)"],
];
const TIME = "([01][0-9]|2[0-3]):[0-5][0-9]|24:00";
const rules = new WeakMap(); // holiday line element -> its named-holiday rule, kept as stored

const cap = (s) => s.charAt(0).toUpperCase() + s.slice(1);
const removeButton = (label, target, text = "×") =>
  h("button", { type: "button", class: "btn btn-ghost btn-sm", text, "aria-label": "Remove " + label, onclick: () => target().remove() });

function timeInput(part, value, label) {
  return h("input", { class: "hours-time", "data-part": part, value: value || "", placeholder: "HH:MM", pattern: TIME, maxlength: "5", size: "5", "aria-label": label + " " + part });
}

/** One range "HH:MM – HH:MM ×" (`label` names it for screen readers and tests). */
function rangeRow(range, label) {
  const row = h("span", { class: "hours-range", "data-range": "" }, timeInput("start", range.start, label), "–", timeInput("end", range.end, label), removeButton(label, () => row));
  return row;
}

/** A growing list of ranges with its "+ range" button. */
function rangeList(ranges, label, testid) {
  const list = h("span", { class: "hours-ranges", "data-ranges": "" });
  const add = (r) => list.append(rangeRow(r, label + " range " + (list.children.length + 1)));
  for (const r of ranges) add(r);
  const more = h("button", { type: "button", class: "btn btn-ghost btn-sm", text: "+ range", "data-testid": testid, onclick: () => add({ start: "09:00", end: "17:00" }) });
  return [list, more];
}

const readRanges = (el) =>
  [...el.querySelectorAll("[data-range]")].map((r) => ({
    start: r.querySelector('[data-part="start"]').value.trim(),
    end: r.querySelector('[data-part="end"]').value.trim(),
  }));

function dayRow(day, ranges) {
  return h("div", { class: "hours-day", "data-day": day, "data-testid": "hours-day-" + day }, h("span", { class: "hours-dayname", text: cap(day).slice(0, 3) }), ...rangeList(ranges, cap(day), "hours-add-" + day));
}

/** "Thanksgiving Day +1 (US)" for a named-holiday rule (not editable here: remove or keep). */
function describeRule(on) {
  const shift = on.offset_days ? (on.offset_days > 0 ? " +" : " ") + on.offset_days + " d" : "";
  return on.name + shift + " (" + (on.country || "US") + (on.observed ? ", observed" : "") + ")";
}

/** A holiday line: a closed day, or a short day with its ranges. */
function holidayRow(kind, line) {
  const on = line.on || { kind: "date", day: "" };
  const label = line.label || "";
  const when = on.kind === "date" ? h("input", { type: "date", "data-part": "day", value: on.day || "", "aria-label": "Date of " + (label || "holiday") }) : h("span", { class: "muted", text: describeRule(on) });
  const row = h(
    "div",
    { class: "hours-holiday", "data-holiday": kind, "data-testid": "hours-holiday" },
    h("span", { class: "ctag", text: kind === "closed" ? "Closed" : "Short day" }),
    h("input", { "data-part": "label", value: label, placeholder: "Label (e.g. Stocktaking)", maxlength: "80", "aria-label": "Holiday label" }),
    when,
    ...(kind === "short" ? rangeList(line.ranges || [{ start: "09:00", end: "13:00" }], label || "Short day", "hours-add-short-range") : []),
    removeButton("holiday " + (label || kind), () => row, "Remove line"),
  );
  if (on.kind !== "date") rules.set(row, on);
  return row;
}

function readHoliday(row) {
  const line = {
    label: row.querySelector('[data-part="label"]').value.trim(),
    on: rules.get(row) || { kind: "date", day: row.querySelector('[data-part="day"]').value },
  };
  if (row.dataset.holiday === "short") line.ranges = readRanges(row);
  return line;
}

/** The body's `hours`: null (removed), a preset (with the coverage override) or full hours. */
function readHours(form) {
  const preset = form.elements.preset.value;
  const coverage = form.elements.coverage.checked;
  if (preset === "none") return null;
  if (preset) return { preset, after_hours_coverage: coverage };
  const lines = (kind) => [...form.querySelectorAll(`[data-holiday="${kind}"]`)].map(readHoliday);
  return {
    time_zone: form.elements.zone.value.trim(),
    weekly: Object.fromEntries(DAYS.map((d) => [d, readRanges(form.querySelector(`[data-day="${d}"]`))])),
    holidays: { closed_days: lines("closed"), short_days: lines("short") },
    after_hours_coverage: coverage,
  };
}

function inZone(iso, zone) {
  const at = new Date(iso);
  try {
    const opts = { timeZone: zone, weekday: "short", day: "numeric", month: "short", hour: "2-digit", minute: "2-digit", hourCycle: "h23" };
    return new Intl.DateTimeFormat("en-US", opts).format(at) + " (" + zone + ")";
  } catch {
    return at.toISOString();
  }
}

/** "Open now · closes at Tue, Dec 1, 17:00 (America/New_York)" from the server's availability. */
export function statusText(client) {
  const a = client.availability;
  if (!a) return "";
  if (!client.hours) return "Open now · no hours set: always open";
  const when = a.next_change ? inZone(a.next_change, client.hours.time_zone) : "";
  if (a.open && !a.within_hours) return "Open now · outside hours, answered with after-hours coverage";
  if (a.open) return "Open now" + (when ? " · closes at " + when : "");
  return "Closed" + (when ? " · opens at " + when : " · no opening ahead");
}

function zoneField(zone) {
  const names = typeof Intl.supportedValuesOf === "function" ? Intl.supportedValuesOf("timeZone") : [];
  const list = h("datalist", { id: "hours-zones" }, ...names.map((z) => h("option", { value: z })));
  const input = h("input", { name: "zone", value: zone, list: "hours-zones", placeholder: "e.g. America/New_York", "data-testid": "hours-zone", autocomplete: "off" });
  return h("label", { class: "field" }, h("span", { text: "Time zone (IANA name)" }), input, list);
}

/** The hours editor of a stored client (the reply of GET/PATCH carries `availability`). */
export function hoursForm(client) {
  const hours = client.hours || { time_zone: "UTC", weekly: {}, holidays: {} };
  const holidays = hours.holidays || {};
  const status = h("p", { class: "hours-status", "data-testid": "hours-status", text: statusText(client) || "…" });
  const error = h("p", { class: "login-error", role: "alert", "data-testid": "hours-error", hidden: true });
  const lines = h("div", { class: "hours-holidays" }, ...(holidays.closed_days || []).map((l) => holidayRow("closed", l)), ...(holidays.short_days || []).map((l) => holidayRow("short", l)));
  const custom = h(
    "div",
    { class: "hours-custom", "data-testid": "hours-custom" },
    zoneField(hours.time_zone),
    h("fieldset", { class: "picker" }, h("legend", { text: "Weekly hours (no range = closed that day)" }), ...DAYS.map((d) => dayRow(d, (hours.weekly || {})[d] || []))),
    h(
      "fieldset",
      { class: "picker" },
      h("legend", { text: "Holiday calendar" }),
      lines,
      h(
        "span",
        { class: "hours-actions" },
        h("button", { type: "button", class: "btn btn-ghost btn-sm", text: "+ closed date", "data-testid": "hours-add-closed", onclick: () => lines.append(holidayRow("closed", {})) }),
        h("button", { type: "button", class: "btn btn-ghost btn-sm", text: "+ short day", "data-testid": "hours-add-short", onclick: () => lines.append(holidayRow("short", {})) }),
      ),
    ),
  );
  const preset = h("select", { name: "preset", "data-testid": "hours-preset" }, ...PRESETS.map(([v, text]) => h("option", { value: v, text })));
  preset.value = client.hours ? client.hours.preset || "" : "none";
  const showCustom = () => (custom.hidden = preset.value !== "");
  preset.addEventListener("change", showCustom);
  showCustom();
  const save = h("button", { class: "btn btn-primary", type: "submit", "data-testid": "hours-save", text: "Save hours" });
  const form = h(
    "form",
    { class: "admin-form", "data-testid": "admin-client-hours", novalidate: true },
    h("h3", { text: "Business hours" }),
    status,
    h("label", { class: "field" }, h("span", { text: "Preset" }), preset),
    custom,
    h("label", { class: "check" }, h("input", { type: "checkbox", name: "coverage", checked: !!hours.after_hours_coverage, "data-testid": "hours-coverage" }), " After-hours coverage (PR-2: chats answered outside hours too)"),
    save,
    error,
  );
  const path = "/clients/" + encodeURIComponent(client.client_id);
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    error.hidden = true;
    save.disabled = true;
    try {
      const { client: saved } = await admin("PATCH", path, { hours: readHours(form) });
      form.replaceWith(hoursForm(saved));
      toast("Saved the hours of " + saved.name + ".", "info");
    } catch (err) {
      error.textContent = err.message || "Couldn't save the hours.";
      error.hidden = false;
      save.disabled = false;
    }
  });
  // A client from the table carries no availability (and may predate a save): load it afresh.
  if (!client.availability)
    admin("GET", path).then(
      ({ client: fresh }) => form.isConnected && form.replaceWith(hoursForm(fresh)),
      () => (status.textContent = ""),
    );
  return form;
}
