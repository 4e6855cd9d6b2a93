// The client's data: retention notes and the export (LC-3), downloaded from its S3 link.
import { $, h } from "../../../frontend/shared/dom.js";
import { api } from "../http.js";
import { busy, toast } from "../ui.js";

export function renderData(acc) {
  $("data-note").textContent = acc.data_deleted
    ? "Your chat records were deleted after the retention period; invoices and history remain."
    : acc.data_deletion_date
      ? "Your chat records will be deleted on " + acc.data_deletion_date + ". Download them before then."
      : "";
  $("data-note").hidden = !$("data-note").textContent;
}

async function exportData() {
  // The whole export is written to S3; the reply is a link valid for a few minutes, which
  // downloads it under the name the server gave it (a navigation, so no token goes along).
  const res = await api("GET", "/api/client/export");
  const a = h("a", { href: res.downloadUrl, hidden: true });
  document.body.append(a);
  a.click();
  a.remove();
  toast("Your data export (" + res.conversations + " conversations) is downloading.");
}

export function initData() {
  $("export").addEventListener("click", () => busy($("export"), "Preparing…", exportData));
}
