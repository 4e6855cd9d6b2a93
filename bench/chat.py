"""Chat benchmarks against the embedded local stack (moto + local API gateway + our handlers).

Two measurements, one stack:

* **latency** — 50 concurrent conversations (50 visitors, agents spread over a few agent
  accounts), each visitor sending N messages with small random pauses; latency is the time
  from the visitor's `send` to the agent's socket receiving the relayed `message` frame.
* **requests** — DynamoDB requests and PostToConnection calls per relayed message, with 10
  and with 1,000 open idle WebSocket connections (visitors and agents of another client),
  counted where they arrive: at moto's server (every process's requests; the local Lambda
  runtime runs each handler in a process of its own) and at the local gateway (@connections
  posts). A message during which the stream poller or the scheduler ran a function (the
  `usage_meter` batch, the routing sweep) is measured again, so each figure is the message's own.

Everything runs in one process: the stack's gateway loop and handler threads, moto's server
thread, and this module's asyncio client loop (the main thread). Every loop is bounded in
count and in time.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import math
import os
import random
import secrets
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, TypeVar
from urllib.parse import quote

import aiohttp
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed
from websockets.typing import Origin

from bench.counting import (
    REVOCATION_READ,
    RequestCounter,
    ServerCounter,
    Snapshot,
    classify_revocation,
    counting_invoke,
)
from parley.chat import limits

Counts = RequestCounter | ServerCounter

T = TypeVar("T")

DYNAMODB = "dynamodb"
APIGW = "apigw"  # the @connections management API (PostToConnection, GetConnection, DeleteConnection)

# Targets (docs/benchmarks.md): the sequence (conditional UpdateItem) and the message (PutItem).
MAX_DYNAMODB_PER_MESSAGE = 2

CONNECT_CONCURRENCY = 8
OPEN_TIMEOUT = 20.0
REPLY_TIMEOUT = 15.0


class BenchError(RuntimeError):
    """The benchmark could not run as designed (an error frame, a timeout, a missing frame)."""


# --- clients ------------------------------------------------------------------------------
_request_ids = itertools.count(1)


@dataclass
class Peer:
    """One WebSocket connection of the benchmark: replies are matched by requestId, relayed
    `message` frames are timestamped (perf_counter) by text, every frame is counted by type."""

    name: str
    ws: ClientConnection
    frames: Counter[str] = field(default_factory=Counter)
    received_at: dict[str, float] = field(default_factory=dict)
    _replies: dict[str, asyncio.Future[dict[str, Any]]] = field(default_factory=dict)
    _waiters: dict[str, asyncio.Future[float]] = field(default_factory=dict)
    _reader: asyncio.Task[None] | None = None

    def start(self) -> Peer:
        self._reader = asyncio.get_running_loop().create_task(self._read(), name=f"read-{self.name}")
        return self

    async def _read(self) -> None:
        with contextlib.suppress(ConnectionClosed):
            async for raw in self.ws:
                now = time.perf_counter()
                frame = json.loads(raw)
                kind = str(frame.get("type"))
                self.frames[kind] += 1
                if kind in ("ack", "error"):
                    future = self._replies.pop(str(frame.get("requestId")), None)
                    if future is not None and not future.done():
                        future.set_result(frame)
                elif kind == "message":
                    text = str(frame["message"]["text"])
                    self.received_at[text] = now
                    waiter = self._waiters.pop(text, None)
                    if waiter is not None and not waiter.done():
                        waiter.set_result(now)

    def send(self, action: str, **fields: Any) -> asyncio.Future[dict[str, Any]]:
        """Send a request now; the future resolves to its reply frame (ack or error)."""
        request_id = f"b{next(_request_ids)}"
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._replies[request_id] = future
        payload = json.dumps({"action": action, "requestId": request_id, **fields})
        sending = asyncio.ensure_future(self.ws.send(payload))

        def sent(task: asyncio.Future[None]) -> None:
            error = None if task.cancelled() else task.exception()
            if error is not None and not future.done():
                future.set_exception(BenchError(f"{self.name}: send failed: {error!r}"))

        sending.add_done_callback(sent)
        return future

    async def request(self, action: str, **fields: Any) -> dict[str, Any]:
        """Send a request and return its ack's data; an error frame raises BenchError."""
        reply = await _bounded(self.send(action, **fields), REPLY_TIMEOUT, f"{self.name}: no reply to {action}")
        if reply.get("type") != "ack":
            raise BenchError(f"{self.name}: {action} refused: {reply}")
        data: dict[str, Any] = reply.get("data") or {}
        return data

    def expect_message(self, text: str) -> asyncio.Future[float]:
        """A future for the arrival of the relayed `message` frame carrying `text`."""
        future: asyncio.Future[float] = asyncio.get_running_loop().create_future()
        if text in self.received_at:
            future.set_result(self.received_at[text])
        else:
            self._waiters[text] = future
        return future

    async def close(self) -> None:
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self.ws.close(), 10)
        if self._reader is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._reader, 5)


async def _bounded(awaitable: Awaitable[T], timeout: float, what: str) -> T:
    try:
        return await asyncio.wait_for(awaitable, timeout)
    except TimeoutError as exc:
        raise BenchError(f"{what} within {timeout:.0f} s") from exc


async def _gather_limited(coros: Iterable[Awaitable[T]], limit: int) -> list[T]:
    semaphore = asyncio.Semaphore(limit)

    async def one(coro: Awaitable[T]) -> T:
        async with semaphore:
            return await coro

    return list(await asyncio.gather(*(one(c) for c in coros)))


class Harness:
    """Opens visitor and agent connections against a running LocalStack, as the widget and
    console do (HTTP session or login, then the WebSocket with the right query and Origin)."""

    def __init__(self, stack: Any, http: aiohttp.ClientSession) -> None:
        self.stack = stack
        self.http = http
        self._names = itertools.count(1)

    async def _post(self, path: str, body: dict[str, Any], origin: str | None = None) -> dict[str, Any]:
        headers = {"Origin": origin} if origin else {}
        async with self.http.post(f"{self.stack.base_url}{path}", json=body, headers=headers) as response:
            data: dict[str, Any] = await response.json(content_type=None)
            if response.status != 200:
                raise BenchError(f"POST {path}: HTTP {response.status} {data}")
            return data

    async def _connect(self, name: str, url: str, origin: str | None) -> Peer:
        ws = await _bounded(connect(url, origin=Origin(origin) if origin else None, open_timeout=OPEN_TIMEOUT,
                                    ping_interval=None, close_timeout=5, max_queue=None),
                            OPEN_TIMEOUT + 5, f"{name}: WebSocket not open")
        return Peer(name, ws).start()

    async def visitor_token(self, demo: Any) -> str:
        """A visitor token through the HTTP API (POST /api/visitor/session), as the widget gets it."""
        session = await self._post("/api/visitor/session", {"widgetKey": demo.widget_key}, demo.origin)
        return str(session["visitorToken"])

    def minted_visitor_token(self, demo: Any) -> str:
        """A visitor token issued in-process by the same `VisitorTokens` the session handler
        uses (a distinct new visitor). Used for the 1,000 idle visitors: the HTTP round trip
        would only add setup time, it is not what is measured."""
        from parley import services
        from parley.ids import new_id

        token, _ = services.visitor_tokens().issue(demo.client_id, new_id("v"), self.stack.clock.now())
        return str(token)

    async def visitor(self, demo: Any, token: str | None = None) -> Peer:
        token = token or await self.visitor_token(demo)
        url = f"{self.stack.ws_url}?widgetKey={quote(demo.widget_key)}&visitorToken={quote(token)}"
        return await self._connect(f"visitor-{demo.client_id}-{next(self._names)}", url, demo.origin)

    async def agent_token(self, username: str) -> str:
        login = await self._post("/api/auth/login", {"username": username, "password": self.stack.demo.agent_password})
        return str(login["idToken"])

    async def agent(self, username: str, token: str | None = None) -> Peer:
        token = token or await self.agent_token(username)
        return await self._connect(f"agent-{username}-{next(self._names)}", f"{self.stack.ws_url}?token={quote(token)}",
                                   None)


async def _quiesce(counter: Counts, quiet: float = 0.5, limit: float = 90.0) -> float:
    """Wait until no counted AWS call happened for `quiet` seconds (disconnect handlers and
    broadcasts finished); bounded by `limit`. Returns the seconds waited. It always waits
    `quiet` first, so work just triggered (a $disconnect after a close) has time to start."""
    start = time.monotonic()
    await asyncio.sleep(quiet)
    while counter.idle_for() < quiet:
        if time.monotonic() - start > limit:
            raise BenchError(f"the stack did not go quiet within {limit:.0f} s")
        await asyncio.sleep(0.1)
    return time.monotonic() - start


async def _close_all(peers: Iterable[Peer], counter: Counts) -> None:
    await _gather_limited((p.close() for p in peers), 32)
    await _quiesce(counter)


async def _start_conversation(visitor: Peer, agent: Peer, label: str) -> str:
    started = await visitor.request("startConversation", text=f"{label}: hello", name=label)
    conversation_id = str(started["conversation"]["conversationId"])
    await agent.request("acceptConversation", conversationId=conversation_id)
    return conversation_id


def percentile(values: list[float], p: float) -> float:
    """Nearest-rank percentile (p in 0..100) of a non-empty list."""
    ordered = sorted(values)
    rank = max(1, math.ceil(p / 100 * len(ordered)))
    return ordered[rank - 1]


# --- 1. requests per relayed message ----------------------------------------------------
@dataclass
class DirectionResult:
    direction: str
    messages: int
    per_message: list[Snapshot]
    idle_frames: int
    echoed: int  # `message` frames the sender got back for its own messages (must be 0)
    latencies: list[float]  # send -> relayed frame at the receiver, seconds, one message at a time

    def _totals(self, service: str) -> list[int]:
        """Requests per message, the revocation cache's agent-status reads left out (they are
        per agent per environment per 30 s, not per message; reported apart)."""
        return [s.total(service) - s.calls.get((service, REVOCATION_READ), 0) for s in self.per_message]

    def average_operations(self, service: str) -> dict[str, float]:
        total = sum(self.per_message, Snapshot())
        return {op: n / self.messages for op, n in total.operations(service).items()}

    def summary(self) -> dict[str, Any]:
        ddb, posts = self._totals(DYNAMODB), self._totals(APIGW)
        attempts = [s.attempts.get(DYNAMODB, 0) for s in self.per_message]
        post_ops = self.average_operations(APIGW)
        return {
            "direction": self.direction, "messages": self.messages,
            "dynamodb_per_message": self.average_operations(DYNAMODB),
            "dynamodb_avg": sum(ddb) / self.messages, "dynamodb_min": min(ddb), "dynamodb_max": max(ddb),
            "dynamodb_http_attempts_avg": sum(attempts) / self.messages,
            "management_api_per_message": post_ops,
            "posts_avg": post_ops.get("PostToConnection", 0.0),
            "posts_min": min(s.calls.get((APIGW, "PostToConnection"), 0) for s in self.per_message),
            "posts_max": max(s.calls.get((APIGW, "PostToConnection"), 0) for s in self.per_message),
            "management_api_max": max(posts),
            "idle_frames": self.idle_frames, "sender_echoes": self.echoed,
            "unloaded_latency_ms": _latency_summary(self.latencies),
            "aws_ms_per_call": {op: round(ms, 2) for op, ms in
                                {**sum(self.per_message, Snapshot()).mean_ms(DYNAMODB),
                                 **sum(self.per_message, Snapshot()).mean_ms(APIGW)}.items()},
        }


def _latency_summary(seconds: list[float]) -> dict[str, float]:
    ms = [x * 1000 for x in seconds]
    return {"p50": round(percentile(ms, 50), 1), "p99": round(percentile(ms, 99), 1), "max": round(max(ms), 1),
            "mean": round(sum(ms) / len(ms), 1), "samples": len(ms)}


@dataclass(frozen=True)
class Leg:
    """One direction of a conversation: who sends, who should receive, and its label."""

    sender: Peer
    receiver: Peer
    direction: str


async def _measure_direction(leg: Leg, conversation_id: str, messages: int, counter: Counts,
                             idle: list[Peer]) -> DirectionResult:
    sender, receiver, direction = leg.sender, leg.receiver, leg.direction
    idle_before = sum(sum(p.frames.values()) for p in idle)
    echoes_before = sender.frames["message"]
    per_message: list[Snapshot] = []
    latencies: list[float] = []
    for i in range(3 * messages):
        if len(per_message) == messages:
            break
        text = f"{direction} #{i} {secrets.token_hex(4)}"
        relayed = receiver.expect_message(text)
        before = counter.snapshot()
        t0 = time.perf_counter()
        # With a clientMessageId, as the clients send: the idempotency check is part of the cost.
        await sender.request("sendMessage", conversationId=conversation_id, text=text,
                             clientMessageId=f"b{i}-{text[-8:]}")
        latency = await _bounded(relayed, REPLY_TIMEOUT, f"{receiver.name}: message {text!r} not relayed") - t0
        # The ack is the route response: it leaves after the handler returned, i.e. after
        # every DynamoDB request and post of this message. A background invocation (stream
        # batch, scheduled sweep) may have run meanwhile: then measure another message.
        used = counter.snapshot() - before
        if used.calls.get(("background", "invocations")):
            continue
        per_message.append(used)
        latencies.append(latency)
    if len(per_message) < messages:
        raise BenchError(f"{direction}: background invocations overlapped too many messages")
    await asyncio.sleep(0.3)  # anything (wrongly) sent to idle connections arrives by now
    idle_frames = sum(sum(p.frames.values()) for p in idle) - idle_before
    return DirectionResult(direction, messages, per_message, idle_frames, sender.frames["message"] - echoes_before,
                           latencies)


@dataclass
class SettingResult:
    idle: int
    open_connections: int
    directions: list[DirectionResult]
    setup_s: float

    def summary(self) -> dict[str, Any]:
        return {"idle_connections": self.idle, "open_connections_at_gateway": self.open_connections,
                "setup_s": round(self.setup_s, 2), "directions": [d.summary() for d in self.directions]}


async def _grow_idle(harness: Harness, idle: list[Peer], agents: list[Peer], target: int, harbor: Any) -> None:
    """Open harbor visitors until `agents` + visitors = target idle connections."""
    missing = target - len(agents) - len(idle)
    if missing <= 0:
        return
    tokens = [harness.minted_visitor_token(harbor) for _ in range(missing)]
    idle += await _gather_limited((harness.visitor(harbor, t) for t in tokens), CONNECT_CONCURRENCY)


async def run_requests(stack: Any, counter: Counts, settings: list[int], messages: int,
                       idle_agent_usernames: list[str]) -> dict[str, Any]:
    sierra, harbor = stack.demo.sierra, stack.demo.harbor
    results: list[SettingResult] = []
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30)) as http:
        harness = Harness(stack, http)
        idle_agents = [await harness.agent(u) for u in idle_agent_usernames]
        idle_visitors: list[Peer] = []
        try:
            for n_idle in settings:
                t0 = time.perf_counter()
                await _grow_idle(harness, idle_visitors, idle_agents, n_idle, harbor)
                visitor = await harness.visitor(sierra)
                agent = await harness.agent(sierra.agent_username)
                conversation_id = await _start_conversation(visitor, agent, f"requests-{n_idle}")
                await _quiesce(counter)
                setup = time.perf_counter() - t0
                open_now = stack.gateway.open_connections
                idle_all = idle_agents + idle_visitors
                directions = [
                    await _measure_direction(Leg(visitor, agent, "visitor->agent"), conversation_id, messages,
                                             counter, idle_all),
                    await _measure_direction(Leg(agent, visitor, "agent->visitor"), conversation_id, messages,
                                             counter, idle_all),
                ]
                results.append(SettingResult(len(idle_all), open_now, directions, setup))
                await _close_all([visitor, agent], counter)
            idle_frames_total = sum(sum(p.frames.values()) for p in idle_agents + idle_visitors)
        finally:
            t_close = time.perf_counter()
            await _close_all(idle_agents + idle_visitors, counter)
            teardown = time.perf_counter() - t_close
    return _judge_requests(results, idle_frames_total, teardown)


def _judge_requests(results: list[SettingResult], idle_frames_total: int, teardown: float) -> dict[str, Any]:
    checks: list[tuple[str, bool]] = []
    for setting in results:
        for d in setting.directions:
            s = d.summary()
            where = f"{setting.idle} idle, {d.direction}"
            checks.append((f"{where}: DynamoDB requests per message max {s['dynamodb_max']} <= "
                           f"{MAX_DYNAMODB_PER_MESSAGE}", s["dynamodb_max"] <= MAX_DYNAMODB_PER_MESSAGE))
            checks.append((f"{where}: posts per message {s['posts_min']}..{s['posts_max']} == 1 "
                           f"(the other participant's connection)", s["posts_min"] == s["posts_max"] == 1))
            checks.append((f"{where}: no other @connections calls (max {s['management_api_max']} total)",
                           s["management_api_max"] == 1))
            checks.append((f"{where}: idle connections received {s['idle_frames']} frames (0 expected)",
                           s["idle_frames"] == 0))
            checks.append((f"{where}: sender got {s['sender_echoes']} copies of its own messages (0 expected)",
                           s["sender_echoes"] == 0))
    if len(results) > 1:
        def profile(r: SettingResult) -> list[Any]:
            def own(ops: dict[str, float]) -> dict[str, float]:
                return {op: n for op, n in ops.items() if op != REVOCATION_READ}
            return [(d.direction, own(d.average_operations(DYNAMODB)), d.average_operations(APIGW))
                    for d in r.directions]
        first = results[0]
        for other in results[1:]:
            checks.append((f"counts with {first.idle} and {other.idle} idle connections are equal",
                           profile(first) == profile(other)))
    checks.append((f"idle connections received {idle_frames_total} frames in the whole run (0 expected)",
                   idle_frames_total == 0))
    return {"settings": [r.summary() for r in results], "checks": [{"check": c, "pass": ok} for c, ok in checks],
            "pass": all(ok for _, ok in checks), "teardown_s": round(teardown, 2)}


# --- 2. latency ---------------------------------------------------------------------------
@dataclass(frozen=True)
class LatencyConfig:
    conversations: int = 50
    agents: int = 5
    messages: int = 20
    pause_min: float = 0.2
    pause_max: float = 1.0
    seed: int = 2026
    min_deadline: float = 75.0  # the measured phase; setup and teardown are bounded separately

    @property
    def deadline(self) -> float:
        """75 s, or more when long pauses are asked for (1.5 x the pauses alone, plus 0.5 s a message)."""
        return max(self.min_deadline, 1.5 * self.messages * (self.pause_max + 0.5))


@dataclass
class LatencyRun:
    """What the measured phase of the latency run recorded."""

    sent_at: dict[str, float] = field(default_factory=dict)  # message text -> when it was sent
    receiver_of: dict[str, Peer] = field(default_factory=dict)  # message text -> who should get it
    acked_after: list[float] = field(default_factory=list)  # seconds from send to ack
    duration: float = 0.0
    used: Snapshot = field(default_factory=Snapshot)  # the AWS requests of the measured phase


async def run_latency(stack: Any, counter: Counts, cfg: LatencyConfig,
                      agent_usernames: list[str]) -> dict[str, Any]:
    sierra = stack.demo.sierra
    rng = random.Random(cfg.seed)
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30)) as http:
        harness = Harness(stack, http)
        peers: list[Peer] = []
        try:
            t_setup = time.perf_counter()
            agents = await _gather_limited((harness.agent(u) for u in agent_usernames), CONNECT_CONCURRENCY)
            peers += agents
            visitors = await _gather_limited((harness.visitor(sierra) for _ in range(cfg.conversations)),
                                             CONNECT_CONCURRENCY)
            peers += visitors
            # One at a time: moto's TransactWriteItems deep-copies the whole table and races
            # with concurrent writers (HTTP 500, retried by botocore). Setup only, not measured.
            started = [await v.request("startConversation", text=f"latency {i}: hello", name=f"Visitor {i}")
                       for i, v in enumerate(visitors)]
            conversation_ids = [str(s["conversation"]["conversationId"]) for s in started]
            owner = [agents[i % len(agents)] for i in range(cfg.conversations)]
            await _gather_limited((owner[i].request("acceptConversation", conversationId=cid)
                                   for i, cid in enumerate(conversation_ids)), len(agents))
            await _quiesce(counter)
            setup = time.perf_counter() - t_setup

            record = LatencyRun()
            pauses = [[rng.uniform(cfg.pause_min, cfg.pause_max) for _ in range(cfg.messages)]
                      for _ in range(cfg.conversations)]

            async def converse(i: int) -> None:
                for m in range(cfg.messages):
                    await asyncio.sleep(pauses[i][m])
                    text = f"c{i} m{m} {secrets.token_hex(3)}"
                    t0 = time.perf_counter()
                    record.sent_at[text] = t0
                    record.receiver_of[text] = owner[i]
                    future = visitors[i].send("sendMessage", conversationId=conversation_ids[i], text=text,
                                              clientMessageId=f"lat-{i}-{m}")
                    reply = await _bounded(future, REPLY_TIMEOUT, f"visitor {i}: no ack")
                    if reply.get("type") != "ack":
                        raise BenchError(f"visitor {i}: sendMessage refused: {reply}")
                    record.acked_after.append(time.perf_counter() - t0)

            before = counter.snapshot()
            t_run = time.perf_counter()
            run = asyncio.gather(*(converse(i) for i in range(cfg.conversations)))
            await _bounded(run, cfg.deadline, "the latency run did not finish")
            # The relay is posted before the ack leaves, so by now every frame is in flight.
            waited = time.perf_counter()
            while time.perf_counter() - waited < 5 and any(t not in p.received_at
                                                           for t, p in record.receiver_of.items()):
                await asyncio.sleep(0.05)
            record.duration = time.perf_counter() - t_run
            record.used = counter.snapshot() - before
        finally:
            t_close = time.perf_counter()
            await _close_all(peers, counter)
            teardown = time.perf_counter() - t_close
    return _latency_report(cfg, len(agent_usernames), record, setup=setup, teardown=teardown)


def _latency_report(cfg: LatencyConfig, agents: int, record: LatencyRun, *, setup: float,
                    teardown: float) -> dict[str, Any]:
    receiver_of, used = record.receiver_of, record.used
    latencies = [receiver_of[text].received_at[text] - t0 for text, t0 in record.sent_at.items()
                 if text in receiver_of[text].received_at]
    sent = len(record.sent_at)
    ms = [x * 1000 for x in latencies]
    ack_ms = [x * 1000 for x in record.acked_after]
    mean_pause = (cfg.pause_min + cfg.pause_max) / 2
    throughput = sent / record.duration
    return {
        "conversations": cfg.conversations, "agents": agents, "messages_per_visitor": cfg.messages,
        "pause_s": [cfg.pause_min, cfg.pause_max], "sent": sent, "relayed": len(latencies),
        "lost": sent - len(latencies),
        "p50_ms": round(percentile(ms, 50), 1), "p99_ms": round(percentile(ms, 99), 1),
        "max_ms": round(max(ms), 1), "mean_ms": round(sum(ms) / len(ms), 1),
        "ack_p50_ms": round(percentile(ack_ms, 50), 1), "ack_p99_ms": round(percentile(ack_ms, 99), 1),
        # Closed loop: each visitor waits for its ack, then pauses. With no queueing the
        # visitors would offer conversations / (mean pause + service time) messages a second.
        "offered_msg_s_upper_bound": round(cfg.conversations / mean_pause, 1),
        "throughput_msg_s": round(throughput, 1), "run_s": round(record.duration, 2),
        "setup_s": round(setup, 2), "teardown_s": round(teardown, 2),
        "dynamodb_per_message_under_load": {op: round(n / sent, 3) for op, n in used.operations(DYNAMODB).items()},
        "management_api_per_message_under_load": {op: round(n / sent, 3)
                                                  for op, n in used.operations(APIGW).items()},
        "dynamodb_calls_and_http_attempts": [used.total(DYNAMODB), used.attempts.get(DYNAMODB, 0)],
        "aws_ms_per_call_under_load": {op: round(v, 2) for op, v in
                                       {**used.mean_ms(DYNAMODB), **used.mean_ms(APIGW)}.items()},
    }


# --- entry point ---------------------------------------------------------------------------
@dataclass(frozen=True)
class ChatConfig:
    idle_settings: tuple[int, ...] = (10, 1000)
    messages: int = 100
    idle_agents: int = 3
    latency: LatencyConfig = LatencyConfig()


def instrument(stack: Any, on_done: Callable[[str, float], None] | None = None,
               counter: ServerCounter | None = None) -> None:
    """Time every local invocation (`on_done(function, seconds)`) and mark those of the stream
    pollers and the scheduler as background work for `counter`: the gateway, the pollers and
    the scheduler each call the local Lambda runtime through their `_invoke`."""
    for part in (stack.gateway, *stack.pollers, stack.scheduler):
        if part is None or not hasattr(part, "_invoke"):
            continue
        invoke = counting_invoke(part._invoke, on_done)
        if counter is not None and part is not stack.gateway:
            invoke = _in_background(invoke, counter)
        part._invoke = invoke


def _in_background(invoke: Callable[[str, dict[str, Any]], Any],
                   counter: ServerCounter) -> Callable[[str, dict[str, Any]], Any]:
    def wrapped(name: str, event: dict[str, Any]) -> Any:
        with counter.background():
            return invoke(name, event)

    return wrapped


def run(cfg: ChatConfig = ChatConfig()) -> dict[str, Any]:
    """Start a LocalStack, run both chat benchmarks, stop it. Returns the results."""
    from infra.local.stack import LocalStack

    # Back-to-back sends must measure what a send costs, not refusals: the message limits are
    # raised for this stack (counted and checked by the same write as always; docs/protocol.md).
    raised = {role: {"limit": 1_000_000, "window_seconds": 5} for role in ("visitor_messages", "agent_messages")}
    previous_limits = os.environ.get(limits.LIMITS_ENV)
    os.environ[limits.LIMITS_ENV] = json.dumps(raised)
    t0 = time.perf_counter()
    stack = LocalStack().start()
    started = time.perf_counter() - t0
    counter = ServerCounter(posts=lambda: int(stack.gateway.traffic.posts), classify=classify_revocation).install(stack)
    instrument(stack, counter=counter)
    try:
        sierra, harbor = stack.demo.sierra, stack.demo.harbor
        latency_agents = [f"bench-sierra-{k}" for k in range(1, cfg.latency.agents + 1)]
        for username in latency_agents:
            stack.add_agent(username, f"Bench Agent {username[-1]}", [sierra.client_id])
        idle_agents = [harbor.agent_username] + [f"bench-harbor-{k}" for k in range(2, cfg.idle_agents + 1)]
        for username in idle_agents[1:]:
            stack.add_agent(username, f"Harbor Agent {username[-1]}", [harbor.client_id])

        t1 = time.perf_counter()
        latency = asyncio.run(run_latency(stack, counter, cfg.latency, latency_agents))
        latency["wall_s"] = round(time.perf_counter() - t1, 2)

        t2 = time.perf_counter()
        requests = asyncio.run(run_requests(stack, counter, list(cfg.idle_settings), cfg.messages, idle_agents))
        requests["wall_s"] = round(time.perf_counter() - t2, 2)
        requests["counted_at"] = ("moto's server (every request of every Lambda environment process, by "
                                  "X-Amz-Target) and the local gateway's @connections posts")
    finally:
        counter.close()
        t3 = time.perf_counter()
        stack.stop()
        stopped = time.perf_counter() - t3
        if previous_limits is None:
            os.environ.pop(limits.LIMITS_ENV, None)
        else:
            os.environ[limits.LIMITS_ENV] = previous_limits
    return {"stack_start_s": round(started, 2), "stack_stop_s": round(stopped, 2),
            "latency": latency, "requests": requests}
