// Transfer a chat to another agent or a team, with a note only agents see. Wired once the
// routing API documents it (docs/protocol.md); until then the control stays hidden.
import { $ } from "../../frontend/shared/dom.js";

export function renderTransfer() {
  const btn = $("transfer-chat");
  if (btn) btn.hidden = true;
}
