// Exact resume and idempotent sends (docs/protocol.md, "Client rules"), shared by the visitor
// widget and the agent console so that both follow one implementation:
//
// - a SeqLog per conversation knows the highest CONTIGUOUS seq (every seq 1..n seen) and which
//   later seqs arrived early; a resume always asks from the contiguous seq, never the highest
//   seen (live frames can arrive out of order: my own ack for 153 before the relay of 152);
// - a live frame past a hole waits up to GAP_WAIT_MS for the hole to fill, then resumes;
// - every send carries a clientMessageId, kept across reconnects: a retry with the same id is
//   answered with the original ack (`duplicate: true`), and a resumed or relayed copy of the
//   message names it, so the pending entry is replaced, never shown twice.

export const GAP_WAIT_MS = 1000;
const MAX_RESUME_PAGES = 1000; // a bound on a server that keeps saying hasMore

let fallbackCounter = 0;
/** A client message id (protocol: 1–64 chars of [A-Za-z0-9_-]). */
export function newClientMessageId() {
  const c = globalThis.crypto;
  if (c && typeof c.randomUUID === "function") return c.randomUUID();
  const bytes = new Uint8Array(16);
  if (c && c.getRandomValues) c.getRandomValues(bytes);
  return [...bytes].map((b) => b.toString(16).padStart(2, "0")).join("") + (++fallbackCounter).toString(36);
}

/**
 * The seqs of one conversation seen on this page.
 * @param {() => void} onGap  called when a hole has stayed open for GAP_WAIT_MS (resume then)
 */
export function createSeqLog(onGap) {
  let contiguous = 0;
  const early = new Set(); // seqs > contiguous + 1 that arrived before the hole below them filled
  let gapTimer = 0;

  function advance() {
    while (early.has(contiguous + 1)) early.delete(++contiguous);
    if (!early.size) {
      clearTimeout(gapTimer);
      gapTimer = 0;
    } else if (!gapTimer) {
      gapTimer = setTimeout(() => {
        gapTimer = 0;
        if (early.size) onGap();
      }, GAP_WAIT_MS);
    }
  }

  return {
    /** The highest seq with every seq up to it seen: what `resume` asks from. */
    contiguous: () => contiguous,
    /** Records a seq; true when it is new (render it), false when it was seen already. */
    add(seq) {
      if (typeof seq !== "number" || seq <= contiguous || early.has(seq)) return false;
      if (seq === contiguous + 1) contiguous = seq;
      else early.add(seq);
      advance();
      return true;
    },
    has: (seq) => seq <= contiguous || early.has(seq),
    /** A resume page ended at `seq`: the server holds nothing else up to it (a seq it skipped
     * was never stored), so the log is contiguous up to there. */
    complete(seq) {
      if (seq <= contiguous) return;
      for (const s of early) if (s <= seq) early.delete(s);
      contiguous = seq;
      advance();
    },
    hasGap: () => early.size > 0,
    reset() {
      contiguous = 0;
      early.clear();
      clearTimeout(gapTimer);
      gapTimer = 0;
    },
  };
}

/**
 * Resumes a conversation from its log's contiguous seq, following `hasMore` pages.
 * `onMessage(m)` gets every message of the reply (the caller renders those `log.add` calls new);
 * resolves with the last page's data (its `conversation`, `queue`).
 */
export async function resumeFrom(request, conversationId, log, onMessage) {
  let data = {};
  for (let page = 0; page < MAX_RESUME_PAGES; page++) {
    data = await request("resume", { conversationId, sinceSeq: log.contiguous() });
    const msgs = data.messages || [];
    for (const m of msgs) onMessage(m);
    if (msgs.length) log.complete(msgs[msgs.length - 1].seq);
    if (!data.hasMore || !msgs.length) break;
  }
  return data;
}

/**
 * The pending send a stored message answers: the one with its clientMessageId; from a server
 * that does not echo ids yet, an unconfirmed one ("unsure": its ack was lost) with the same text.
 */
export function pendingFor(outbox, m) {
  if (!m) return null;
  if (m.clientMessageId) return outbox.find((i) => i.cmid === m.clientMessageId) || null;
  const text = String(m.text == null ? "" : m.text).trim();
  return outbox.find((i) => i.state === "unsure" && i.text === text) || null;
}

/** How long to wait before sending a refused (`rate_limited`) frame again. */
export const retryAfterMs = (err) => Math.min(60000, Math.max(250, 1000 * (Number(err && err.retryAfter) || 1)));
