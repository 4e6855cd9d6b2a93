// The client's data: retention notes and the export (LC-3) as a download.
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
  const res = await api("GET", "/api/client/export", undefined, { raw: true });
  const blob = await res.blob();
  const cd = res.headers.get("content-disposition") || "";
  const m = /filename="?([^";]+)"?/i.exec(cd);
  const name = (m && m[1].replace(/[^A-Za-z0-9._-]/g, "_")) || "parley-export.json";
  const url = URL.createObjectURL(blob);
  const a = h("a", { href: url, download: name, hidden: true });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10000);
  toast("Your data was downloaded as " + name + ".");
}

export function initData() {
  $("export").addEventListener("click", () => busy($("export"), "Preparing…", exportData));
}
