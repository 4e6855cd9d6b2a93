// Cancellation notice: the policy, giving notice (with a reason when required, CH-9), the
// computed end date and its explanation, withdrawal.
import { $, h } from "../../../frontend/shared/dom.js";
import { api } from "../http.js";
import { store } from "../state.js";
import { app, busy, showError, toast } from "../ui.js";

const TITLES = {
  pending: (n) => "Notice given on " + n.given_on,
  withdrawn: (n) => "Notice of " + n.given_on + " withdrawn — your subscription continues",
  effective: (n) => "Your notice of " + n.given_on + " took effect",
};
const PILLS = { pending: ["pill-warn", "Pending"], withdrawn: ["", "Withdrawn"], effective: ["pill-bad", "Effective"] };
const ENDS = {
  pending: "Your service ends after ",
  withdrawn: "Service would have ended after ",
  effective: "Your service ended after ",
};
const UNAVAILABLE = {
  trial: "You're in your free trial: there is nothing to cancel. Without a plan and a card, the service simply stops when the trial ends (CO-4).",
  terminated: "Your subscription has ended.",
  deactivated: "The service is deactivated for non-payment; contact your provider to cancel.",
  stopped: "The service is stopped; there is nothing to cancel.",
};

function renderPolicy(policy) {
  const kind = policy.noticeDayKind === "business" ? "business" : "calendar";
  $("cancel-policy").textContent = policy.noticeDays
    ? "Cancelling needs " + policy.noticeDays + " " + kind + " days' notice; the end date follows your contract's rules and is shown before anything else happens. No refunds for the cycle already paid."
    : "Give notice to end your subscription.";
  const required = !!policy.noticeRequiresReason;
  $("reason-required").hidden = !required;
  $("reason-optional").hidden = required;
  $("notice-reason").required = required;
}

function renderNoticeBox(notice) {
  const status = PILLS[notice.status] ? notice.status : "effective";
  const pending = status === "pending";
  const box = $("notice");
  box.dataset.status = notice.status;
  const [pill, label] = PILLS[status];
  $("notice-title").replaceChildren(
    TITLES[status](notice),
    h("span", { class: "rule", text: notice.rule_id }),
    h("span", { class: "pill " + pill, "data-testid": "dash-notice-status", text: label }),
  );
  $("notice-effective").textContent = ENDS[status] + notice.effective_date;
  $("notice-explanation").textContent = notice.explanation;
  const facts = [
    ["Last day of service", notice.effective_date],
    pending ? ["Withdraw until", notice.withdraw_until] : null,
    notice.outstanding_due_date ? ["Outstanding amounts due by", notice.outstanding_due_date] : null,
    ["Reason", notice.reason || "—"],
    ["Rule", notice.rule_id],
  ].filter(Boolean);
  $("notice-facts").replaceChildren(...facts.flatMap(([k, v]) => [h("dt", { text: k }), h("dd", { text: v })]));
  $("withdraw-notice").hidden = !pending;
  $("withdraw-notice").disabled = !pending || store.data.today > notice.withdraw_until;
}

export function renderNotice(acc) {
  renderPolicy(store.data.policy || {});
  const notice = acc.notice;
  const pending = !!notice && notice.status === "pending";
  $("notice").hidden = !notice;
  if (notice) renderNoticeBox(notice);
  const canGive = acc.status === "active" && !pending;
  $("notice-form").hidden = !canGive;
  const why = $("cancel-unavailable");
  why.hidden = canGive || pending || (!!notice && notice.status === "effective");
  why.textContent = UNAVAILABLE[acc.status] || "";
}

function giveNotice(e) {
  e.preventDefault();
  const reason = $("notice-reason").value.trim();
  if ($("notice-reason").required && !reason) return showError("Please tell us why you are cancelling: your contract requires a reason.");
  busy($("give-notice"), "Giving notice…", async () => {
    const res = await api("POST", "/api/client/notice", reason ? { reason } : {});
    $("notice-reason").value = "";
    await app.reload();
    toast("Notice given: your service ends after " + res.notice.effective_date + ".");
  });
}

export function initNotice() {
  $("notice-form").addEventListener("submit", giveNotice);
  $("withdraw-notice").addEventListener("click", () =>
    busy($("withdraw-notice"), "Withdrawing…", async () => {
      await api("DELETE", "/api/client/notice");
      await app.reload();
      toast("Notice withdrawn: your subscription continues.");
    }),
  );
}
