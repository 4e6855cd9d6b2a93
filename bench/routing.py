"""Routing benchmarks against the embedded local stack (moto + local gateway + our handlers).

* **requests** — DynamoDB requests of one routing decision, counted at moto's server (every
  request of every Lambda environment), with 3 and 30 online agents and 10 and 1,000 waiting
  chats. Two decisions: a new chat that must queue (every agent is full) and a close whose
  freed slot takes the oldest waiting chat. The counts must be equal in every setting.
* **latency** — time from a visitor's first message (`startConversation` sent) to the
  visitor learning its agent (the `conversation.accepted` frame or an ack already `active`),
  50 visitors starting within 2 s, 10 agents with a cap of 5.

Waiting chats beyond the measured ones are seeded through the repositories (the same items
`startConversation` writes), so the 1,000-chat queue is built in seconds; the measured
decisions go through the real WebSocket handlers.
"""

from __future__ import annotations

import json
import random
import sys
import threading
import time
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from websockets.sync.client import ClientConnection, connect
from websockets.typing import Origin

from bench.counting import REVOCATION_READ, ServerCounter, Snapshot, classify_revocation

TIMEOUT = 120.0  # a cold local Lambda environment on a busy two-core machine takes seconds
SETTINGS = ((3, 10), (3, 1000), (30, 10), (30, 1000))  # (online agents, waiting chats)
REPEATS = 3


@dataclass(frozen=True)
class RoutingConfig:
    settings: tuple[tuple[int, int], ...] = SETTINGS
    repeats: int = REPEATS
    visitors: int = 50
    agents: int = 10
    cap: int = 5
    spread_s: float = 10.0  # arrivals spread over 10 s: 5 new chats a second


# --- a small synchronous client ------------------------------------------------------------
class Socket:
    def __init__(self, ws: ClientConnection) -> None:
        self.ws = ws
        self.frames: list[dict[str, Any]] = []

    def request(self, action: str, **fields: Any) -> dict[str, Any]:
        request_id = uuid.uuid4().hex[:12]
        self.ws.send(json.dumps({"action": action, "requestId": request_id, **fields}))
        while True:
            frame = json.loads(self.ws.recv(timeout=TIMEOUT))
            if frame.get("requestId") == request_id and frame["type"] in ("ack", "error"):
                if frame["type"] != "ack":
                    raise RuntimeError(f"{action} refused: {frame}")
                data: dict[str, Any] = frame["data"]
                return data
            self.frames.append(frame)

    def close(self) -> None:
        self.ws.close()


def _connect(url: str, origin: Origin | None = None) -> ClientConnection:
    # Frames nobody reads (agents hear every chat of their client) must not fill the client's
    # receive queue: a full queue stops reading the socket and would slow the gateway's posts.
    return connect(url, origin=origin, open_timeout=TIMEOUT, max_queue=None, ping_interval=None)


def _post(url: str, body: dict[str, Any], origin: str | None = None) -> dict[str, Any]:
    import urllib.request

    headers = {"Content-Type": "application/json", **({"Origin": origin} if origin else {})}
    request = urllib.request.Request(url, data=json.dumps(body).encode(), headers=headers, method="POST")
    with urllib.request.urlopen(request, timeout=TIMEOUT) as response:
        data: dict[str, Any] = json.loads(response.read())
        return data


@dataclass
class Desk:
    client_id: str
    team_id: str
    widget_key: str
    origin: str
    agents: list[Socket]


def open_desk(stack: Any, agents: int, cap: int) -> Desk:
    """A client with one team of `agents` agents (this cap), each connected and online."""
    from parley.chat.models import Agent, Client
    from parley.composition import chat as services

    suffix = uuid.uuid4().hex[:8]
    desk = Desk(f"cl_bench_{suffix}", f"tm_bench_{suffix}", f"wk_bench_{suffix}", stack.base_url, [])
    stack.add_client(Client(client_id=desk.client_id, name=f"Bench {suffix}", widget_key=desk.widget_key,
                            allowed_origins=[desk.origin], team_ids=[desk.team_id], idle_timeout_seconds=0,
                            no_answer_timeout_seconds=0))
    tenants = services.tenant_repository()
    for i in range(agents):
        username = f"b{suffix}a{i}"
        sub = stack.add_agent(username, f"Agent {i}", [desk.client_id])
        tenants.put_agent(Agent(agent_id=sub, name=f"Agent {i}", client_ids=[desk.client_id],
                                team_ids=[desk.team_id], max_concurrent_chats=cap))
        token = _post(f"{stack.base_url}/api/auth/login",
                      {"username": username, "password": stack.demo.agent_password})["idToken"]
        agent = Socket(_connect(f"{stack.ws_url}?token={token}"))
        agent.request("setStatus", status="online")
        desk.agents.append(agent)
    return desk


def visitor(stack: Any, desk: Desk) -> Socket:
    session = _post(f"{stack.base_url}/api/visitor/session", {"widgetKey": desk.widget_key}, desk.origin)
    url = f"{stack.ws_url}?widgetKey={desk.widget_key}&visitorToken={quote(session['visitorToken'])}"
    return Socket(_connect(url, Origin(desk.origin)))


def seed_waiting(desk: Desk, count: int) -> None:
    """`count` waiting chats of this client, as startConversation stores them (no visitor socket)."""
    from datetime import timedelta

    from parley.chat.models import Conversation, ConversationStatus, Message, Role
    from parley.clock import utcnow
    from parley.composition import chat as chat_services
    from parley.composition import routing as routing_services

    chat, routing = chat_services.chat_repository(), routing_services.routing_repository()
    start = utcnow() - timedelta(hours=1)  # older than anything measured: they are the queue's head

    def one(i: int) -> None:
        at = start + timedelta(milliseconds=i)
        conversation = Conversation(conversation_id=f"cv_seed_{uuid.uuid4().hex[:16]}", client_id=desk.client_id,
                                    status=ConversationStatus.WAITING, visitor_id=f"v_seed_{i}", last_seq=1,
                                    created_at=at, team_ids=[desk.team_id])
        first = Message(conversation_id=conversation.conversation_id, client_id=desk.client_id, seq=1,
                        role=Role.VISITOR, sender_id=conversation.visitor_id, text="waiting", sent_at=at)
        chat.create_conversation(conversation, first, f"seed-{i}")
        routing.enqueue(conversation)

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(one, range(count)))


# --- requests per decision -----------------------------------------------------------------
def _quiet(counter: ServerCounter, seconds: float = 0.3, bound: float = 10.0) -> None:
    deadline = time.monotonic() + bound
    while counter.idle_for() < seconds and time.monotonic() < deadline:
        time.sleep(0.05)


def _dynamodb(delta: Snapshot) -> dict[str, int]:
    return {op: n for op, n in delta.operations("dynamodb").items() if op != REVOCATION_READ}


def measure_setting(stack: Any, counter: ServerCounter, agents: int, waiting: int, repeats: int) -> dict[str, Any]:
    print(f"routing: {agents} agents, {waiting} waiting ...", file=sys.stderr, flush=True)
    desk = open_desk(stack, agents, cap=1)
    sockets: list[Socket] = []
    owned: list[str] = []
    for _ in range(agents):  # every agent full
        v = visitor(stack, desk)
        sockets.append(v)
        owned.append(v.request("startConversation", text="first")["conversation"]["conversationId"])
    seed_waiting(desk, waiting)
    probes = [visitor(stack, desk) for _ in range(repeats)]
    queued: list[dict[str, int]] = []
    for probe in probes:
        _quiet(counter)
        before = counter.snapshot()
        reply = probe.request("startConversation", text="probe")
        assert reply["conversation"]["status"] == "waiting", reply
        _quiet(counter)
        queued.append(_dynamodb(counter.snapshot() - before))
    freed: list[dict[str, int]] = []
    for agent, cid in list(zip(desk.agents, owned, strict=True))[:repeats]:
        _quiet(counter)
        before = counter.snapshot()
        agent.request("closeConversation", conversationId=cid)
        _quiet(counter)
        freed.append(_dynamodb(counter.snapshot() - before))
    for s in (*desk.agents, *sockets, *probes):
        s.close()
    return {"online_agents": agents, "waiting": waiting, "queued": queued, "freed": freed}


def run_requests(stack: Any, counter: ServerCounter, cfg: RoutingConfig) -> dict[str, Any]:
    settings = [measure_setting(stack, counter, a, w, cfg.repeats) for a, w in cfg.settings]
    reference = settings[0]
    stable = all(len({json.dumps(x, sort_keys=True) for x in s[k]}) == 1 for s in settings for k in ("queued", "freed"))
    equal = all(s["queued"][0] == reference["queued"][0] and s["freed"][0] == reference["freed"][0] for s in settings)
    return {"settings": settings, "stable": stable, "equal": equal, "pass": stable and equal,
            "counted_at": "moto's server (every DynamoDB request of every Lambda environment)"}


# --- latency ---------------------------------------------------------------------------------
def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return 0.0
    k = min(len(ordered) - 1, max(0, round(p / 100 * len(ordered) + 0.5) - 1))
    return round(ordered[k], 1)


def run_latency(stack: Any, cfg: RoutingConfig) -> dict[str, Any]:
    """Twice: the first round also starts the local Lambda environments (one process each for
    as many invocations as run at once: cold starts), the second runs on warm ones."""
    cold = _latency_round(stack, cfg)
    warm = _latency_round(stack, cfg)
    return {**warm, "cold": cold}


def _latency_round(stack: Any, cfg: RoutingConfig) -> dict[str, Any]:
    print(f"routing: latency, {cfg.visitors} visitors ...", file=sys.stderr, flush=True)
    desk = open_desk(stack, cfg.agents, cfg.cap)
    visitors = [visitor(stack, desk) for _ in range(cfg.visitors)]
    offsets = [random.uniform(0, cfg.spread_s) for _ in visitors]
    barrier = threading.Barrier(len(visitors))

    def one(i: int) -> float:
        v = visitors[i]
        barrier.wait()
        time.sleep(offsets[i])
        sent = time.perf_counter()
        reply = v.request("startConversation", text=f"hello {i}")
        acked = time.perf_counter()
        accepted = [f for f in v.frames if f["type"] == "conversation.accepted"]
        if not accepted and reply["conversation"]["status"] != "active":
            deadline = time.monotonic() + TIMEOUT
            while time.monotonic() < deadline:
                frame = json.loads(v.ws.recv(timeout=TIMEOUT))
                if frame["type"] == "conversation.accepted":
                    return (time.perf_counter() - sent) * 1000
            raise RuntimeError("never assigned")
        return (acked - sent) * 1000  # the accepted frame came before (or with) the ack

    t0 = time.perf_counter()
    with ThreadPoolExecutor(len(visitors)) as pool:
        times = list(pool.map(one, range(len(visitors))))
    run_s = time.perf_counter() - t0
    for s in (*desk.agents, *visitors):
        s.close()
    return {"visitors": cfg.visitors, "agents": cfg.agents, "cap": cfg.cap, "spread_s": cfg.spread_s,
            "assigned": len(times), "p50_ms": percentile(times, 50), "p99_ms": percentile(times, 99),
            "max_ms": round(max(times), 1), "run_s": round(run_s, 2)}


def run(cfg: RoutingConfig = RoutingConfig()) -> dict[str, Any]:
    from infra.local.stack import LocalStack

    t0 = time.perf_counter()
    stack = LocalStack().start()
    started = time.perf_counter() - t0
    counter = ServerCounter(classify=classify_revocation).install(stack)
    try:
        requests = run_requests(stack, counter, cfg)
        try:
            latency = run_latency(stack, cfg)
        except (TimeoutError, RuntimeError) as exc:  # report the request counts all the same
            latency = {"error": repr(exc)}
    finally:
        counter.close()
        stack.stop()
    return {"stack_start_s": round(started, 2), "requests": requests, "latency": latency,
            "pass": bool(requests["pass"])}


def print_results(result: dict[str, Any]) -> None:
    r = result["requests"]
    print("\n== routing: DynamoDB requests per routing decision ==")
    print(f"counted at {r['counted_at']}; {REVOCATION_READ} reads are left out (a 30 s cache per agent)")
    for s in r["settings"]:
        for kind, label in (("queued", "new chat, all agents full -> queued"),
                            ("freed", "chat closed -> oldest waiting assigned")):
            counts = Counter(s[kind][0])
            print(f"  {s['online_agents']:>3} agents {s['waiting']:>5} waiting  {label:<40} "
                  f"total {sum(counts.values()):>3}  " + ", ".join(f"{op} {n}" for op, n in sorted(counts.items())))
    print(f"{'PASS' if r['pass'] else 'FAIL'}  equal in every setting: {r['equal']}; the same on every repeat: "
          f"{r['stable']}")
    lat = result["latency"]
    print("\n== routing: first message -> assignment (the visitor hears its agent) ==")
    if "error" in lat:
        print(f"ERROR, the latency run could not finish: {lat['error']}")
        return
    print(f"{lat['visitors']} visitors within {lat['spread_s']} s, {lat['agents']} agents with a cap of {lat['cap']}: "
          f"p50 {lat['p50_ms']} ms, p99 {lat['p99_ms']} ms, max {lat['max_ms']} ms ({lat['assigned']} assigned, "
          f"{lat['run_s']} s; warm Lambda environments)")
    cold = lat["cold"]
    print(f"  the first round, which also started the local Lambda environments: p50 {cold['p50_ms']} ms, "
          f"p99 {cold['p99_ms']} ms")


def entry(args: Any) -> tuple[dict[str, Any], bool | None]:
    """`python -m bench routing` (bench/__main__.py)."""
    result = run()
    print(f"\n(local stack started in {result['stack_start_s']} s)")
    print_results(result)
    return result, bool(result["pass"])
