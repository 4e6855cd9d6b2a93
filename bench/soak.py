"""Soak: conversations under abrupt connection drops, through the local stack (issue 11).

Every visitor and agent is a Python WebSocket client that follows the clients' rules of
docs/protocol.md ("Client rules"), the same ones the widget and console implement in
frontend/shared/chatsync.js:

* it renders each seq once and remembers the highest CONTIGUOUS seq; a resume asks from it and
  follows `hasMore` pages; a live frame past a hole waits up to 1 s for the hole, then resumes;
* every send carries a clientMessageId and stays pending until its ack; after a reconnect the
  client resumes first (a resumed copy with its id confirms it) and sends what is still pending
  again with the same id (an ack with `duplicate: true` confirms it);
* a `rate_limited` or `send_in_progress` refusal is sent again after `retryAfter`;
* no answer within 10 s: the socket is taken for dead and replaced.

Each conversation has a visitor and an agent (one agent account per conversation, cap 1, so the
router gives each its own), both sending `messages` texts one at a time. On a try, with
probability `drop_rate`, the client kills its TCP connection at once (no closing handshake) and
reconnects: half of the time just before the frame would go out (the message is sent after the
reconnect), half of the time right after it went out (the server stores it, the ack is lost: a
resumed copy or a duplicate ack confirms it). At the end both sides wait for the other's messages;
then the server's transcript and both sides' views are checked:

* lost: a message its sender had confirmed that is not in the transcript, or a transcript
  message missing from a side's view;
* duplicated: a text stored twice, or a seq rendered twice;
* out of order: a side's view (in seq order) or the transcript not in each sender's send order.

`late` counts transcript messages a side got only from the final check's resume (their live relay
was lost and no later frame showed the hole) — the next resume of a real client recovers them.
"""

from __future__ import annotations

import contextlib
import json
import random
import socket
import sys
import threading
import time
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection, connect
from websockets.typing import Origin

REQUEST_TIMEOUT = 10.0  # no answer: the socket is dead (the clients' request timeout)
GAP_WAIT = 1.0  # a hole in the live seqs is given this long to fill before a resume
SETTLE_TIMEOUT = 60.0  # after the sends, how long a side waits for the other's last messages
MAX_RESUME_PAGES = 1000
# Refusals that store nothing and say when to try again: a rate limit, and a retry that overtook
# its original (still being stored; docs/protocol.md "Idempotent sends").
RETRY_LATER = ("rate_limited", "send_in_progress")


@dataclass(frozen=True)
class SoakConfig:
    conversations: int = 50
    messages: int = 100  # per side
    drop_rate: float = 0.10
    seed: int = 11


class Dropped(Exception):
    """The connection is gone (dropped on purpose, closed, or silent past the timeout)."""


class SeqLog:
    """Seqs seen in one conversation: the highest contiguous, and those that came early."""

    def __init__(self) -> None:
        self.contiguous = 0
        self.early: set[int] = set()
        self.gap_since: float | None = None

    def add(self, seq: int) -> bool:
        if seq <= self.contiguous or seq in self.early:
            return False
        if seq == self.contiguous + 1:
            self.contiguous = seq
        else:
            self.early.add(seq)
        self._advance()
        return True

    def complete(self, seq: int) -> None:
        """A resume page ended at `seq`: nothing else is stored up to it."""
        if seq > self.contiguous:
            self.early = {s for s in self.early if s > seq}
            self.contiguous = seq
            self._advance()

    def _advance(self) -> None:
        while self.contiguous + 1 in self.early:
            self.contiguous += 1
            self.early.discard(self.contiguous)
        if not self.early:
            self.gap_since = None
        elif self.gap_since is None:
            self.gap_since = time.monotonic()

    def gap_overdue(self) -> bool:
        return self.gap_since is not None and time.monotonic() - self.gap_since >= GAP_WAIT


@dataclass
class Stats:
    drops: int = 0
    reconnects: int = 0
    resends: int = 0
    duplicate_acks: int = 0
    confirmed_by_resume: int = 0
    rate_limited: int = 0
    in_progress: int = 0  # send_in_progress: a retry that overtook its original
    gap_resumes: int = 0
    ack_ms: list[float] = field(default_factory=list)  # a clean attempt: send -> its ack
    confirm_ms: list[float] = field(default_factory=list)  # first try -> confirmed, drops included

    def merge(self, other: Stats) -> None:
        for name in ("drops", "reconnects", "resends", "duplicate_acks", "confirmed_by_resume", "rate_limited",
                     "in_progress", "gap_resumes"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.ack_ms += other.ack_ms
        self.confirm_ms += other.confirm_ms


class RuleClient:
    """One participant of one conversation, following the client rules over reconnects."""

    def __init__(self, url: str, origin: str | None, conversation_id: str, *, agent: bool, rng: random.Random,
                 drop_rate: float) -> None:
        self.url, self.origin = url, origin
        self.conversation_id = conversation_id
        self.agent = agent
        self.rng, self.drop_rate = rng, drop_rate
        self.ws: ClientConnection | None = None
        self.log = SeqLog()
        self.view: dict[int, dict[str, Any]] = {}  # seq -> Message, rendered once
        self.pending: dict[str, str] = {}  # clientMessageId -> text, until confirmed
        self.stats = Stats()

    # --- the connection ----------------------------------------------------------------------
    def open_socket(self) -> None:
        """Connects; an agent says it is online (the console does on every connect)."""
        self.ws = connect(self.url, origin=Origin(self.origin) if self.origin else None,
                          open_timeout=REQUEST_TIMEOUT, max_queue=None, ping_interval=None)
        if self.agent:
            self.ok("setStatus", status="online")

    def connect(self) -> None:
        """(Re)connect, then catch up from the contiguous seq."""
        while True:
            try:
                self.open_socket()
                self.resume()
                return
            except (Dropped, OSError, ConnectionClosed, TimeoutError):
                self._forget_socket()
                time.sleep(0.2 + self.rng.random() * 0.3)

    def drop(self) -> None:
        """Kill the TCP connection at once: no closing handshake, whatever was in flight is lost."""
        self.stats.drops += 1
        ws = self.ws
        if ws is not None:
            with contextlib.suppress(OSError):
                ws.socket.shutdown(socket.SHUT_RDWR)
        self._forget_socket()

    def _forget_socket(self) -> None:
        ws, self.ws = self.ws, None
        if ws is not None:
            with contextlib.suppress(OSError):
                ws.socket.close()

    def reconnect(self) -> None:
        self._forget_socket()
        self.stats.reconnects += 1
        self.connect()

    # --- frames ----------------------------------------------------------------------------
    def _recv(self, timeout: float) -> dict[str, Any] | None:
        if self.ws is None:
            raise Dropped
        try:
            raw = self.ws.recv(timeout=timeout)
        except TimeoutError:
            return None
        except (ConnectionClosed, OSError) as exc:
            raise Dropped from exc
        frame = json.loads(raw)
        return frame if isinstance(frame, dict) else None

    def _send(self, frame: dict[str, Any]) -> None:
        if self.ws is None:
            raise Dropped
        try:
            self.ws.send(json.dumps(frame))
        except (ConnectionClosed, OSError) as exc:
            raise Dropped from exc

    def request(self, action: str, **fields: Any) -> dict[str, Any]:
        """Sends an action; returns its ack or error frame (a `rate_limited` one is sent again
        after `retryAfter`); events meanwhile are rendered."""
        while True:
            request_id = uuid.uuid4().hex[:16]
            self._send({"action": action, "requestId": request_id, **fields})
            reply = self.await_reply(request_id)
            if reply.get("code") not in RETRY_LATER:
                return reply
            if reply.get("code") == "rate_limited":
                self.stats.rate_limited += 1
            else:
                self.stats.in_progress += 1
            time.sleep(min(10.0, float(reply.get("retryAfter") or 1)))

    def ok(self, action: str, **fields: Any) -> dict[str, Any]:
        reply = self.request(action, **fields)
        if reply["type"] != "ack":
            raise RuntimeError(f"{action} refused: {reply}")
        data: dict[str, Any] = reply["data"]
        return data

    def await_reply(self, request_id: str) -> dict[str, Any]:
        deadline = time.monotonic() + REQUEST_TIMEOUT
        while time.monotonic() < deadline:
            frame = self._recv(min(0.25, max(0.01, deadline - time.monotonic())))
            if frame is None:
                continue
            if frame.get("requestId") == request_id and frame.get("type") in ("ack", "error"):
                return frame
            self.on_event(frame)
        raise Dropped  # no answer: dead

    def on_event(self, frame: dict[str, Any]) -> None:
        message = frame.get("message")
        if isinstance(message, dict) and message.get("conversationId") == self.conversation_id:
            self.render(message)

    def render(self, m: dict[str, Any]) -> None:
        seq = m.get("seq")
        if not isinstance(seq, int):
            return
        if seq in self.view:
            return
        self.view[seq] = m
        self.log.add(seq)
        cmid = m.get("clientMessageId")
        if cmid and self.pending.pop(cmid, None) is not None:
            self.stats.confirmed_by_resume += 1

    def resume(self) -> None:
        for _ in range(MAX_RESUME_PAGES):
            data = self.ok("resume", conversationId=self.conversation_id, sinceSeq=self.log.contiguous)
            messages = data.get("messages") or []
            for m in messages:
                self.render(m)
            if messages:
                self.log.complete(int(messages[-1]["seq"]))
            if not data.get("hasMore") or not messages:
                return

    def mind_gaps(self) -> None:
        if self.log.gap_overdue():
            self.stats.gap_resumes += 1
            self.resume()

    # --- sending -----------------------------------------------------------------------------
    def send(self, text: str) -> None:
        """Sends one message until it is confirmed (ack, duplicate ack, or a resumed copy)."""
        cmid = uuid.uuid4().hex
        self.pending[cmid] = text
        first = time.perf_counter()
        tries = 0
        while cmid in self.pending:
            try:
                if tries:
                    self.stats.resends += 1
                tries += 1
                self._try_send(cmid, text)
            except Dropped:
                self.reconnect()  # resumes: a stored copy confirms it
        self.stats.confirm_ms.append((time.perf_counter() - first) * 1000)

    def _try_send(self, cmid: str, text: str) -> None:
        fault = self.rng.random()
        if fault < self.drop_rate / 2:  # the connection died before the frame went out
            self.drop()
            raise Dropped
        request_id = uuid.uuid4().hex[:16]
        sent = time.perf_counter()
        self._send({"action": "sendMessage", "requestId": request_id, "conversationId": self.conversation_id,
                    "text": text, "clientMessageId": cmid})
        if fault < self.drop_rate:  # ... or right after: the frame is on its way, its ack is lost
            self.drop()
            raise Dropped
        reply = self.await_reply(request_id)
        if reply["type"] == "ack":
            data = reply["data"]
            if data.get("duplicate"):
                self.stats.duplicate_acks += 1
            else:
                self.stats.ack_ms.append((time.perf_counter() - sent) * 1000)
            self.pending.pop(cmid, None)
            self.render(data["message"])
            self.mind_gaps()
        elif reply.get("code") in RETRY_LATER:
            if reply["code"] == "rate_limited":
                self.stats.rate_limited += 1
            else:
                self.stats.in_progress += 1
            time.sleep(min(10.0, float(reply.get("retryAfter") or 1)))
        else:
            raise RuntimeError(f"sendMessage refused: {reply}")

    def settle(self, other_role: str, count: int) -> None:
        """Reads live frames (minding gaps) until the other side's `count` texts are in the view
        or SETTLE_TIMEOUT passes."""
        deadline = time.monotonic() + SETTLE_TIMEOUT
        while len(_texts(self.view, other_role)) < count and time.monotonic() < deadline:
            try:
                frame = self._recv(0.25)
                if frame is not None:
                    self.on_event(frame)
                self.mind_gaps()
            except Dropped:
                self.reconnect()

    def close(self) -> None:
        if self.ws is not None:
            self.ws.close()
            self.ws = None


# --- the run -----------------------------------------------------------------------------------
def _post(url: str, body: dict[str, Any], origin: str | None = None) -> dict[str, Any]:
    import urllib.request

    headers = {"Content-Type": "application/json", **({"Origin": origin} if origin else {})}
    request = urllib.request.Request(url, data=json.dumps(body).encode(), headers=headers, method="POST")
    with urllib.request.urlopen(request, timeout=30) as response:
        data: dict[str, Any] = json.loads(response.read())
        return data


@dataclass
class Pair:
    conversation_id: str
    visitor: RuleClient
    agent: RuleClient


def open_pairs(stack: Any, cfg: SoakConfig) -> list[Pair]:
    """A client of its own with one agent (cap 1) per conversation; each visitor starts a chat
    and the router gives it to a free agent, who finds it in `subscribeQueue`'s `mine`."""
    from parley.chat.models import Agent, Client
    from parley.composition import chat as services

    suffix = uuid.uuid4().hex[:8]
    client_id, team_id, widget_key, origin = f"cl_soak_{suffix}", f"tm_soak_{suffix}", f"wk_soak_{suffix}", \
        stack.base_url
    stack.add_client(Client(client_id=client_id, name=f"Soak {suffix}", widget_key=widget_key,
                            allowed_origins=[origin], team_ids=[team_id], idle_timeout_seconds=0,
                            no_answer_timeout_seconds=0))
    tenants = services.tenant_repository()
    agent_urls: list[str] = []
    for i in range(cfg.conversations):
        username = f"s{suffix}a{i}"
        sub = stack.add_agent(username, f"Soak Agent {i}", [client_id])
        tenants.put_agent(Agent(agent_id=sub, name=f"Soak Agent {i}", client_ids=[client_id], team_ids=[team_id],
                                max_concurrent_chats=1))
        token = _post(f"{stack.base_url}/api/auth/login",
                      {"username": username, "password": stack.demo.agent_password})["idToken"]
        agent_urls.append(f"{stack.ws_url}?token={token}")

    rng = random.Random(cfg.seed)
    agents = [RuleClient(url, None, "", agent=True, rng=random.Random(rng.random()), drop_rate=cfg.drop_rate)
              for url in agent_urls]
    for agent in agents:
        agent.open_socket()
    by_conversation: dict[str, RuleClient] = {}
    visitors: list[RuleClient] = []
    for i in range(cfg.conversations):
        session = _post(f"{stack.base_url}/api/visitor/session", {"widgetKey": widget_key}, origin)
        url = f"{stack.ws_url}?widgetKey={widget_key}&visitorToken={quote(session['visitorToken'])}"
        v = RuleClient(url, origin, "", agent=False, rng=random.Random(rng.random()), drop_rate=cfg.drop_rate)
        v.open_socket()
        started = v.ok("startConversation", text=f"soak {i} start", clientMessageId=uuid.uuid4().hex)
        v.conversation_id = started["conversation"]["conversationId"]
        v.render(started["message"])
        visitors.append(v)
    for agent in agents:
        mine = agent.ok("subscribeQueue").get("mine") or []
        if len(mine) != 1:
            raise RuntimeError(f"an agent holds {len(mine)} chats, expected 1")
        agent.conversation_id = mine[0]["conversationId"]
        by_conversation[agent.conversation_id] = agent
        agent.resume()
    return [Pair(v.conversation_id, v, by_conversation[v.conversation_id]) for v in visitors]


def _side(client: RuleClient, role: str, cfg: SoakConfig, barrier: threading.Barrier) -> None:
    barrier.wait()
    for i in range(cfg.messages):
        client.send(f"{role} {i}")


def _texts(view: dict[int, dict[str, Any]], role: str) -> list[str]:
    return [m["text"] for _, m in sorted(view.items()) if m.get("role") == role and m.get("kind") == "text"
            and str(m.get("text", "")).startswith(f"{role} ")]


def check_pair(pair: Pair, cfg: SoakConfig) -> dict[str, int]:
    """Lost / duplicated / out of order for one conversation (see the module docstring)."""
    expected = {role: [f"{role} {i}" for i in range(cfg.messages)] for role in ("visitor", "agent")}
    # What each side got live (and by its own gap and reconnect resumes).
    live = {side: dict(client.view) for side, client in (("visitor", pair.visitor), ("agent", pair.agent))}
    # The server's transcript, read by a fresh resume from 0 (on the visitor's socket).
    transcript: dict[int, dict[str, Any]] = {}
    since = 0
    for _ in range(MAX_RESUME_PAGES):
        data = pair.visitor.ok("resume", conversationId=pair.conversation_id, sinceSeq=since)
        for m in data.get("messages") or []:
            transcript[int(m["seq"])] = m
        if not data.get("messages") or not data.get("hasMore"):
            break
        since = max(transcript)
    lost = duplicated = out_of_order = late = 0
    for role, texts in expected.items():
        stored = _texts(transcript, role)
        counts = Counter(stored)
        lost += sum(1 for t in texts if counts[t] == 0)
        duplicated += sum(n - 1 for n in counts.values() if n > 1)
        if [t for t in stored if counts[t] == 1] != [t for t in texts if counts[t] == 1]:
            out_of_order += 1
    for side, client in (("visitor", pair.visitor), ("agent", pair.agent)):
        missing = [seq for seq in transcript if seq not in live[side]]
        late += len(missing)
        client.resume()  # what the next resume of a real client does
        lost += sum(1 for seq in transcript if seq not in client.view)
        seen = [client.view[s] for s in sorted(client.view)]
        if [m.get("text") for m in seen] != [transcript[s].get("text") for s in sorted(transcript)]:
            out_of_order += 1
    return {"lost": lost, "duplicated": duplicated, "out_of_order": out_of_order, "late": late}


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return 0.0
    k = min(len(ordered) - 1, max(0, round(p / 100 * len(ordered) + 0.5) - 1))
    return round(ordered[k], 1)


def run_soak(stack: Any, cfg: SoakConfig) -> dict[str, Any]:
    """The soak against a running LocalStack; returns the figures (see the module docstring)."""
    print(f"soak: {cfg.conversations} conversations x {cfg.messages} messages each way, "
          f"{cfg.drop_rate:.0%} drops ...", file=sys.stderr, flush=True)
    t0 = time.perf_counter()
    pairs = open_pairs(stack, cfg)
    setup_s = time.perf_counter() - t0
    barrier = threading.Barrier(2 * len(pairs))
    t1 = time.perf_counter()
    with ThreadPoolExecutor(2 * len(pairs)) as pool:
        futures = [pool.submit(_side, c, role, cfg, barrier)
                   for p in pairs for c, role in ((p.visitor, "visitor"), (p.agent, "agent"))]
        for f in futures:
            f.result()
    run_s = time.perf_counter() - t1

    # Both sides read on until they hold the other's messages (or the settle time passes).
    with ThreadPoolExecutor(2 * len(pairs)) as pool:
        settled = [pool.submit(c.settle, other, cfg.messages)
                   for p in pairs for c, other in ((p.visitor, "agent"), (p.agent, "visitor"))]
        for f in settled:
            f.result()
    totals = Counter[str]()
    stats = Stats()
    for p in pairs:
        totals.update(check_pair(p, cfg))
        for c in (p.visitor, p.agent):
            stats.merge(c.stats)
            c.close()
    return {
        "conversations": cfg.conversations, "messages_per_side": cfg.messages, "drop_rate": cfg.drop_rate,
        "sent": 2 * cfg.conversations * cfg.messages,
        "lost": totals["lost"], "duplicated": totals["duplicated"], "out_of_order": totals["out_of_order"],
        "late": totals["late"], "drops": stats.drops, "reconnects": stats.reconnects, "resends": stats.resends,
        "duplicate_acks": stats.duplicate_acks, "confirmed_by_resume": stats.confirmed_by_resume,
        "rate_limited": stats.rate_limited, "send_in_progress": stats.in_progress, "gap_resumes": stats.gap_resumes,
        "ack_p50_ms": percentile(stats.ack_ms, 50), "ack_p99_ms": percentile(stats.ack_ms, 99),
        "confirm_p50_ms": percentile(stats.confirm_ms, 50), "confirm_p99_ms": percentile(stats.confirm_ms, 99),
        "setup_s": round(setup_s, 2), "run_s": round(run_s, 2),
        "pass": totals["lost"] == 0 and totals["duplicated"] == 0 and totals["out_of_order"] == 0,
    }


def run(cfg: SoakConfig) -> dict[str, Any]:
    from infra.local.stack import LocalStack

    t0 = time.perf_counter()
    stack = LocalStack().start()
    started = time.perf_counter() - t0
    try:
        result = run_soak(stack, cfg)
    finally:
        stack.stop()
    return {**result, "stack_start_s": round(started, 2)}


def print_results(r: dict[str, Any]) -> None:
    print(f"\n== soak: {r['conversations']} conversations x {r['messages_per_side']} messages each way, "
          f"{r['drop_rate']:.0%} of tries with an abrupt drop (half before the frame, half after) ==")
    print(f"sent {r['sent']}: lost {r['lost']}, duplicated {r['duplicated']}, out of order {r['out_of_order']} "
          f"(late, recovered by the next resume: {r['late']})")
    print(f"drops {r['drops']}, reconnects {r['reconnects']}, resends {r['resends']} (answered duplicate: "
          f"{r['duplicate_acks']}), confirmed by a resumed copy {r['confirmed_by_resume']}, gap resumes "
          f"{r['gap_resumes']}, rate limited {r['rate_limited']}, send_in_progress {r['send_in_progress']}")
    print(f"ack p50 {r['ack_p50_ms']} ms, p99 {r['ack_p99_ms']} ms (a clean attempt: send -> ack); confirmed p50 "
          f"{r['confirm_p50_ms']} ms, p99 {r['confirm_p99_ms']} ms (first try -> confirmed, drops included)")
    print(f"{'PASS' if r['pass'] else 'FAIL'}  targets: lost, duplicated, out of order all 0 "
          f"(setup {r['setup_s']} s, run {r['run_s']} s)")


def entry(args: Any) -> tuple[dict[str, Any], bool | None]:
    """`python -m bench soak` (bench/__main__.py): 50 conversations x 100 messages, 10 % drops."""
    result = run(SoakConfig())
    print(f"\n(local stack started in {result['stack_start_s']} s)")
    print_results(result)
    return result, bool(result["pass"])
