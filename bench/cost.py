"""Cost model: what N engaged chats of 20 messages cost on AWS, from what they cost locally.

Every chat runs through the local stack as the widget and the console run it: the visitor
gets a session (HTTP API, `visitor_session`), connects (the `$connect` authorizer, then
`chat_connect`), starts the conversation with its first message, an agent (one of a few
always-connected agents of the client) accepts, the two alternate until the conversation holds
20 text messages, the visitor closes it and disconnects. Chats run a few at a time.

Counted while they run (all functions, the stream-triggered `usage_meter` included):

* WebSocket messages at the local gateway (`LocalGateway.traffic`): every frame in, every route
  response (ack / error), every @connections post delivered (relays, queue broadcasts);
* HTTP API requests; Lambda invocations per function and their duration (measured locally);
* DynamoDB request units from the requests moto's server answers (`ServerCounter`: every
  process's requests): writes 1 unit per KB written (the request's item, or the image an update
  returns), transactional actions 2, reads half a unit per 4 KB returned (eventually
  consistent), 1 when consistent, 2 in a transaction — item sizes as DynamoDB counts them
  (names + values); DynamoDB Streams reads (free for a Lambda trigger) are counted, not priced;
* Secrets Manager calls (the visitor-token secret, cached 5 minutes per environment).

Modelled, not measured (the local run compresses time): connection minutes. A visitor's
connection lives for the chat (`chat_minutes`, 10 by default); agents keep one connection per
shift and hold `agent_concurrency` chats at once, so an agent's connection minutes per chat are
chat_minutes / agent_concurrency. Lambda duration is the local wall time of each invocation
(moto answers slower than DynamoDB, so GB-seconds are an upper bound), billed per started ms.

Output: $ per 1,000 engaged chats by item, next to the floor of a relayed 1:1 message
(bench/prices.py) times the chat's relayed messages; target <= 1.3 x that floor.
"""

from __future__ import annotations

import asyncio
import json
import math
import secrets
import threading
import time
from collections import Counter
from dataclasses import dataclass
from typing import Any

import aiohttp

from bench import prices
from bench.chat import Harness, Peer, _bounded, _gather_limited, _quiesce, instrument
from bench.counting import ServerCounter

TARGET_RATIO = 1.3
MESSAGES_PER_CHAT = 20


@dataclass(frozen=True)
class CostConfig:
    chats: int = 1000
    concurrency: int = 8
    agents: int = 5
    chat_minutes: float = 10.0
    agent_concurrency: int = 3


_SCALAR_SIZE: dict[str, Any] = {
    "S": lambda v: len(str(v).encode()),
    "N": lambda v: len(str(v).lstrip("-").replace(".", "")) // 2 + 1,
    "B": lambda v: len(str(v)) * 3 // 4,
    "BOOL": lambda v: 1,
    "NULL": lambda v: 1,
}


def _value_size(value: dict[str, Any]) -> int:
    """DynamoDB's size of one typed attribute value (developer guide, "Item sizes")."""
    (kind, v), = value.items()
    if kind in _SCALAR_SIZE:
        return int(_SCALAR_SIZE[kind](v))
    if kind in ("SS", "NS", "BS"):
        return sum(_value_size({kind[0]: x}) for x in v)
    if kind == "M":
        return 3 + sum(len(k.encode()) + 1 + _value_size(x) for k, x in v.items())
    if kind == "L":
        return 3 + sum(1 + _value_size(x) for x in v)
    return len(json.dumps(v))


def _size(item: Any) -> int:
    """An item's size as DynamoDB bills it: attribute names plus values."""
    if not isinstance(item, dict):
        return 0
    return sum(len(name.encode()) + _value_size(value) for name, value in item.items() if isinstance(value, dict))


class CapacityMeter:
    """DynamoDB request units of every call made through the hooked session."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.read_units = 0.0
        self.write_units = 0.0
        self.by_operation: Counter[str] = Counter()
        self.stream_reads = 0
        self.secret_calls = 0
        self.largest_conversation_item = 0

    def observe(self, label: str, op: str, request: dict[str, Any], parsed: dict[str, Any]) -> None:
        """A ServerCounter observer: one request moto answered."""
        with self._lock:
            if label == "dynamodb-streams":
                self.stream_reads += op == "GetRecords"
                return
            if label == "secretsmanager":
                self.secret_calls += 1
                return
        if label != "dynamodb":
            return
        reads, writes = self._units(op, request, parsed)
        with self._lock:
            self.by_operation[op] += 1
            self.read_units += reads
            self.write_units += writes
            item = request.get("Item") or parsed.get("Attributes") or {}
            if str(item.get("sk", {}).get("S", "")) == "META" and str(item.get("pk", {}).get("S", "")).startswith(
                    "CONV#"):
                self.largest_conversation_item = max(self.largest_conversation_item, _size(item))

    @staticmethod
    def _units(op: str, request: dict[str, Any], parsed: dict[str, Any]) -> tuple[float, float]:
        """(read units, write units) of one call."""
        rule = _UNITS.get(op)
        return rule(request, parsed) if rule else (0.0, 0.0)


def _kb(item: Any) -> int:
    return max(1, math.ceil(_size(item) / 1024))


def _read(items: list[Any], consistent: bool = False) -> float:
    per = 1.0 if consistent else 0.5
    return max(per, per * math.ceil(sum(_size(i) for i in items) / 4096))


def _batch_get(request: dict[str, Any], parsed: dict[str, Any]) -> tuple[float, float]:
    items = [i for found in (parsed.get("Responses") or {}).values() for i in found]
    return 0.5 * sum(max(1, math.ceil(_size(i) / 4096)) for i in items), 0.0


def _batch_write(request: dict[str, Any], parsed: dict[str, Any]) -> tuple[float, float]:
    writes = [w for batch in (request.get("RequestItems") or {}).values() for w in batch]
    return 0.0, float(sum(_kb(w["PutRequest"]["Item"]) if "PutRequest" in w else 1 for w in writes))


_UNITS: dict[str, Any] = {
    "PutItem": lambda rq, rs: (0.0, float(_kb(rq.get("Item", {})))),
    "UpdateItem": lambda rq, rs: (0.0, float(_kb(rs.get("Attributes", {})))),
    "DeleteItem": lambda rq, rs: (0.0, float(_kb(rs.get("Attributes", {})))),
    "GetItem": lambda rq, rs: (_read([rs.get("Item", {})], bool(rq.get("ConsistentRead"))), 0.0),
    "Query": lambda rq, rs: (_read(rs.get("Items", []), bool(rq.get("ConsistentRead"))), 0.0),
    "Scan": lambda rq, rs: (_read(rs.get("Items", []), bool(rq.get("ConsistentRead"))), 0.0),
    "BatchGetItem": _batch_get,
    "BatchWriteItem": _batch_write,
    "TransactWriteItems": lambda rq, rs: (0.0, float(sum(2 * _kb(a.get("Put", {}).get("Item", {}))
                                                          for a in rq.get("TransactItems", [])))),
    "TransactGetItems": lambda rq, rs: (2.0 * len(rq.get("TransactItems", [])), 0.0),
}


class Invocations:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.count: Counter[str] = Counter()
        self.billed_ms: Counter[str] = Counter()

    def __call__(self, function: str, seconds: float) -> None:
        with self._lock:
            self.count[function] += 1
            self.billed_ms[function] += math.ceil(seconds * 1000)


async def _one_chat(harness: Harness, demo: Any, agent: Peer, lock: asyncio.Lock, index: int) -> None:
    visitor = await harness.visitor(demo)
    try:
        started = await visitor.request("startConversation", text=f"cost {index}: message 1", name=f"Visitor {index}")
        cid = str(started["conversation"]["conversationId"])
        async with lock:  # one accept at a time per agent connection
            await agent.request("acceptConversation", conversationId=cid)
        for m in range(2, MESSAGES_PER_CHAT + 1):
            sender, receiver = (agent, visitor) if m % 2 == 0 else (visitor, agent)
            text = f"cost {index}: message {m} {secrets.token_hex(3)}"
            relayed = receiver.expect_message(text)
            await sender.request("sendMessage", conversationId=cid, text=text)
            await _bounded(relayed, 15, f"chat {index}: message {m} not relayed")
        await visitor.request("closeConversation", conversationId=cid)
    finally:
        await visitor.close()


async def _run_chats(stack: Any, cfg: CostConfig, activity: ServerCounter, agent_usernames: list[str],
                     meters: tuple[CapacityMeter, Invocations]) -> dict[str, Any]:
    demo = stack.demo.sierra
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30)) as http:
        harness = Harness(stack, http)
        agents = [await harness.agent(u) for u in agent_usernames]
        for agent in agents:
            await agent.request("subscribeQueue")
        locks = [asyncio.Lock() for _ in agents]
        await _quiesce(activity)
        traffic_before = _traffic(stack)
        capacity, invocations = meters
        before = (capacity.read_units, capacity.write_units, Counter(capacity.by_operation), capacity.stream_reads,
                  capacity.secret_calls, Counter(invocations.count), Counter(invocations.billed_ms))
        t0 = time.perf_counter()
        await _gather_limited((_one_chat(harness, demo, agents[i % len(agents)], locks[i % len(agents)], i)
                               for i in range(cfg.chats)), cfg.concurrency)
        await _quiesce(activity)
        # The stream's records to usage_meter, in batches of up to 100 (the subscription's size):
        # delivered after the run, so batches are full — the fewest invocations Lambda would make.
        await asyncio.get_running_loop().run_in_executor(None, stack.drain_streams)
        await _quiesce(activity)
        run_s = time.perf_counter() - t0
        traffic = {k: v - traffic_before[k] for k, v in _traffic(stack).items()}
        counted = {
            "read_units": capacity.read_units - before[0], "write_units": capacity.write_units - before[1],
            "dynamodb_requests": dict(capacity.by_operation - before[2]),
            "stream_reads": capacity.stream_reads - before[3], "secret_calls": capacity.secret_calls - before[4],
            "invocations": dict(invocations.count - before[5]), "billed_ms": dict(invocations.billed_ms - before[6]),
        }
        for agent in agents:
            await agent.close()
    return {"traffic": traffic, "counted": counted, "run_s": round(run_s, 1)}


def _traffic(stack: Any) -> dict[str, Any]:
    t = stack.gateway.traffic
    return {"frames_in": t.frames_in, "route_responses": t.route_responses, "posts": t.posts,
            "connections": t.connections}


def price(result: dict[str, Any], cfg: CostConfig, chats: int) -> dict[str, Any]:
    from infra import wiring

    counted, traffic = result["counted"], result["traffic"]
    http_requests = counted["invocations"].get("visitor_session", 0)
    gb_seconds = sum(ms / 1000 * wiring.FUNCTIONS[f].memory_mb / 1024 for f, ms in counted["billed_ms"].items())
    connection_minutes = chats * cfg.chat_minutes * (1 + 1 / cfg.agent_concurrency)
    messages = traffic["frames_in"] + traffic["route_responses"] + traffic["posts"]
    items = {
        "WebSocket messages": messages * prices.WEBSOCKET_MESSAGE,
        "WebSocket connection minutes (modelled)": connection_minutes * prices.WEBSOCKET_CONNECTION_MINUTE,
        "HTTP API requests": http_requests * prices.HTTP_API_REQUEST,
        "Lambda requests": sum(counted["invocations"].values()) * prices.LAMBDA_REQUEST,
        "Lambda GB-seconds (local durations)": gb_seconds * prices.LAMBDA_ARM_GB_SECOND,
        "DynamoDB write units": counted["write_units"] * prices.DYNAMODB_WRITE_UNIT,
        "DynamoDB read units": counted["read_units"] * prices.DYNAMODB_READ_UNIT,
        "DynamoDB stream reads (Lambda trigger: free)": counted["stream_reads"] * prices.DYNAMODB_STREAM_READ_BY_LAMBDA,
        "Secrets Manager calls": counted["secret_calls"] * prices.SECRETS_MANAGER_CALL,
    }
    per_1000 = {k: round(v / chats * 1000, 5) for k, v in items.items()}
    total = sum(items.values()) / chats * 1000
    floor = MESSAGES_PER_CHAT * 1000 * prices.FLOOR_PER_MESSAGE
    issue_floor = MESSAGES_PER_CHAT * 1000 * prices.ISSUE_FLOOR_PER_MESSAGE
    without_duration = total - per_1000["Lambda GB-seconds (local durations)"]
    return {
        "per_1000_chats_usd": per_1000, "total_per_1000_chats_usd": round(total, 4),
        "floor_per_1000_chats_usd": round(floor, 4), "ratio_to_floor": round(total / floor, 2),
        "ratio_to_issue_floor": round(total / issue_floor, 2),
        "ratio_to_floor_without_lambda_duration": round(without_duration / floor, 2),
        "per_chat": {"websocket_messages": round(messages / chats, 2),
                     "frames_in": round(traffic["frames_in"] / chats, 2),
                     "route_responses": round(traffic["route_responses"] / chats, 2),
                     "posts": round(traffic["posts"] / chats, 2),
                     "lambda_invocations": {f: round(n / chats, 2) for f, n in sorted(counted["invocations"].items())},
                     "lambda_ms": {f: round(ms / max(1, counted["invocations"][f]), 1)
                                   for f, ms in sorted(counted["billed_ms"].items())},
                     "dynamodb_requests": {op: round(n / chats, 2)
                                           for op, n in sorted(counted["dynamodb_requests"].items())},
                     "write_units": round(counted["write_units"] / chats, 2),
                     "read_units": round(counted["read_units"] / chats, 2),
                     "stream_reads": round(counted["stream_reads"] / chats, 3),
                     "secret_calls": round(counted["secret_calls"] / chats, 3),
                     "connection_minutes": round(connection_minutes / chats, 2)},
        "pass": total <= TARGET_RATIO * floor,
    }


def run(cfg: CostConfig = CostConfig()) -> dict[str, Any]:
    # moto's backends live in this process: a stack started earlier in it (the chat benchmark)
    # left its tables behind. Forget them, as moto's own /moto-api/reset does.
    from moto.moto_api._internal.models import moto_api_backend

    from infra.local.stack import LocalStack

    moto_api_backend.reset()
    capacity = CapacityMeter()
    invocations = Invocations()
    stack = LocalStack().start()
    activity = ServerCounter(posts=lambda: int(stack.gateway.traffic.posts)).install(stack)
    activity.observers.append(capacity.observe)
    instrument(stack, invocations)
    try:
        usernames = [stack.demo.sierra.agent_username] + [f"cost-agent-{k}" for k in range(2, cfg.agents + 1)]
        for username in usernames[1:]:
            stack.add_agent(username, f"Cost Agent {username[-1]}", [stack.demo.sierra.client_id])
        result = asyncio.run(_run_chats(stack, cfg, activity, usernames, (capacity, invocations)))
    finally:
        activity.close()
        stack.stop()
    priced = price(result, cfg, cfg.chats)
    return {"config": {"chats": cfg.chats, "messages_per_chat": MESSAGES_PER_CHAT, "concurrency": cfg.concurrency,
                       "agents": cfg.agents, "chat_minutes": cfg.chat_minutes,
                       "agent_concurrency": cfg.agent_concurrency},
            "prices": {"date": prices.PRICES_DATE, "region": prices.REGION, "source": "bench/prices.py"},
            "largest_conversation_item_bytes": capacity.largest_conversation_item,
            **result, **priced}
