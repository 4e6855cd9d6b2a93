"""Routing on the local stack with real WebSocket clients: many visitors and capped agents
arriving at once, the queue and its live positions, reassignment when an agent does not answer
(the local clock moved) or disconnects, transfer with an agents-only note, idle auto-close and
"visitor left". Each test has a client, a team and agents of its own."""

from __future__ import annotations

import json
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest

from parley.chat.models import Agent, Client
from parley.composition import chat as chat_services
from parley.composition import routing as routing_services
from tests.integration.chat_client import ChatClient, Harness

pytestmark = pytest.mark.integration

REPLY_TIMEOUT = 60.0


@dataclass(frozen=True)
class Site:
    """What Harness.visitor needs of a client (like the demo clients)."""

    client_id: str
    team_id: str
    widget_key: str
    origin: str


@dataclass
class Desk:
    site: Site
    agents: list[ChatClient]
    subs: list[str]


def open_desk(chat: Harness, caps: list[int], *, no_answer: int = 60, idle: int = 1800) -> Desk:
    """A client served by one team of agents with these caps, every agent online (in order)."""
    suffix = uuid.uuid4().hex[:8]
    stack = chat.stack
    site = Site(f"cl_rt_{suffix}", f"tm_rt_{suffix}", f"wk_rt_{suffix}", stack.base_url)
    stack.add_client(Client(client_id=site.client_id, name=f"Routing {suffix}", widget_key=site.widget_key,
                            allowed_origins=[site.origin], team_ids=[site.team_id],
                            no_answer_timeout_seconds=no_answer, idle_timeout_seconds=idle))
    tenants = chat_services.tenant_repository()
    agents, subs = [], []
    for i, cap in enumerate(caps):
        username = f"rt{suffix}a{i}"
        sub = stack.add_agent(username, f"Agent {i} {suffix}", [site.client_id])
        tenants.put_agent(Agent(agent_id=sub, name=f"Agent {i}", email=f"{username}@parley.local",
                                client_ids=[site.client_id], team_ids=[site.team_id], max_concurrent_chats=cap))
        agent = chat.agent(username)
        assert agent.ok("setStatus", status="online")["agent"]["status"] == "online"
        agents.append(agent)
        subs.append(sub)
    return Desk(site, agents, subs)


def collect(client: ChatClient, quiet: float = 1.0) -> list[dict[str, Any]]:
    """Every frame received so far (and until `quiet` seconds pass without one); forgets them."""
    frames = list(client.events)
    client.events.clear()
    while True:
        try:
            frames.append(json.loads(client.ws.recv(timeout=quiet)))
        except TimeoutError:
            return frames


def patient_ok(client: ChatClient, action: str, **fields: Any) -> dict[str, Any]:
    """`ok` with a generous bound: twenty chats start at once on a shared two-core machine."""
    request_id = f"rt-{uuid.uuid4().hex[:8]}"
    client.ws.send(json.dumps({"action": action, "requestId": request_id, **fields}))
    while True:
        frame = json.loads(client.ws.recv(timeout=REPLY_TIMEOUT))
        if frame.get("requestId") == request_id and frame["type"] in ("ack", "error"):
            assert frame["type"] == "ack", frame
            data: dict[str, Any] = frame["data"]
            return data
        client.events.append(frame)


def frames_until(client: ChatClient, type_: str, count: int) -> list[dict[str, Any]]:
    """Collect until `count` frames of `type_` arrived (bounded by REPLY_TIMEOUT), then a quiet second."""
    frames = collect(client, quiet=0.2)
    deadline = time.monotonic() + REPLY_TIMEOUT
    while len(of(frames, type_)) < count and time.monotonic() < deadline:
        frames += collect(client, quiet=0.5)
    return frames + collect(client, quiet=1.0)


def of(frames: list[dict[str, Any]], type_: str) -> list[dict[str, Any]]:
    return [f for f in frames if f["type"] == type_]


def conversation(cid: str) -> Any:
    found = chat_services.chat_repository().get_conversation(cid)
    assert found is not None
    return found


def load_of(sub: str) -> int:
    state = routing_services.routing_repository().agent_state(sub)
    assert state is not None
    return state.load


def test_twenty_visitors_three_capped_agents_at_once(chat: Harness) -> None:
    caps = [2, 3, 5]
    desk = open_desk(chat, caps)
    visitors = [chat.visitor(desk.site)[0] for _ in range(20)]
    barrier = threading.Barrier(len(visitors))

    def start(i: int) -> dict[str, Any]:
        barrier.wait()
        return patient_ok(visitors[i], "startConversation", text=f"hello {i}")

    with ThreadPoolExecutor(len(visitors)) as pool:
        acks = list(pool.map(start, range(len(visitors))))
    ids = [a["conversation"]["conversationId"] for a in acks]
    assigned = [[f["conversation"]["conversationId"] for f in of(frames_until(a, "conversation.assigned", cap),
                                                                 "conversation.assigned")]
                for a, cap in zip(desk.agents, caps, strict=True)]
    # Every agent is exactly full, never over: the assignments each saw are their cap.
    assert [len(x) for x in assigned] == caps
    assert [load_of(s) for s in desk.subs] == caps
    # No chat was assigned twice, and what the agents were told is what is stored.
    flat = [cid for x in assigned for cid in x]
    assert len(set(flat)) == len(flat) == sum(caps)
    stored = {cid: conversation(cid) for cid in ids}
    for sub, mine in zip(desk.subs, assigned, strict=True):
        assert {cid for cid, c in stored.items() if c.agent_id == sub} == set(mine)
    waiting = sorted((c for c in stored.values() if c.status.value == "waiting"), key=lambda c: c.created_at)
    assert len(waiting) == len(ids) - sum(caps)
    by_id = dict(zip(ids, acks, strict=True))
    # Told on arrival, a place may count chats that arrived in the same instant and were being
    # assigned meanwhile (docs/protocol.md); it is never below the true place nor past the crowd.
    told = [by_id[c.conversation_id]["queue"]["position"] for c in waiting]
    assert all(true <= place <= len(ids) for true, place in enumerate(told, start=1)), told
    assert all("queue" not in by_id[cid] for cid in flat)

    # A chat closes: the oldest waiting one takes the slot, everyone behind moves up one place.
    for v in visitors:
        collect(v, quiet=0.1)
    first_agent = desk.agents[0]
    patient_ok(first_agent, "closeConversation", conversationId=assigned[0][0])
    taken = of(frames_until(first_agent, "conversation.assigned", 1), "conversation.assigned")
    assert [f["conversation"]["conversationId"] for f in taken] == [waiting[0].conversation_id]
    visitor_of = {a["conversation"]["conversationId"]: v for a, v in zip(acks, visitors, strict=True)}
    for place, c in enumerate(waiting[1:], start=1):
        frames = of(frames_until(visitor_of[c.conversation_id], "queue.position", 1), "queue.position")
        assert frames and frames[-1]["position"] == place, (c.conversation_id, frames)
        assert frames[-1]["estimatedWaitSeconds"] > 0
    assert [load_of(s) for s in desk.subs] == caps


def test_an_agent_who_does_not_answer_loses_the_chat_to_the_next(chat: Harness) -> None:
    desk = open_desk(chat, [3, 3], no_answer=60)
    first, second = desk.agents
    visitor, _ = chat.visitor(desk.site)
    cid = visitor.ok("startConversation", text="anyone there?")["conversation"]["conversationId"]
    assert conversation(cid).agent_id == desk.subs[0]  # online first: idle longest
    chat.stack.advance(timedelta(seconds=150))  # the sweep runs past the 60 s deadline
    lost = of(collect(first), "conversation.transferred")
    assert [(f["conversation"]["conversationId"], f["reason"]) for f in lost] == [(cid, "no_answer")]
    assert of(collect(second), "conversation.assigned")[0]["conversation"]["conversationId"] == cid
    assert conversation(cid).agent_id == desk.subs[1]
    assert [load_of(s) for s in desk.subs] == [0, 1]
    frames = collect(visitor)
    codes = [f["message"]["code"] for f in frames if f["type"] in ("message", "conversation.accepted")]
    assert codes[-2:] == ["transferred", "agent_joined"]


def test_an_agent_who_disconnects_loses_the_chat_after_the_grace_period(chat: Harness) -> None:
    desk = open_desk(chat, [3, 3])
    first, second = desk.agents
    visitor, _ = chat.visitor(desk.site)
    cid = visitor.ok("startConversation", text="hi")["conversation"]["conversationId"]
    first.ok("sendMessage", conversationId=cid, text="Hello, one moment")
    first.close()
    deadline = time.monotonic() + 10
    while routing_services.routing_repository().has_connection(desk.subs[0]) and time.monotonic() < deadline:
        time.sleep(0.05)  # $disconnect runs after the socket closes
    chat.stack.advance(timedelta(seconds=90))
    assert of(collect(second), "conversation.assigned")[0]["conversation"]["conversationId"] == cid
    assert conversation(cid).agent_id == desk.subs[1]
    state = routing_services.routing_repository().agent_state(desk.subs[0])
    assert state is not None and state.status.value == "offline" and state.load == 0


def test_transfer_with_a_note_that_never_reaches_the_visitor(chat: Harness) -> None:
    desk = open_desk(chat, [3, 3])
    first, second = desk.agents
    visitor, _ = chat.visitor(desk.site)
    cid = visitor.ok("startConversation", text="I'd like a trade-in quote")["conversation"]["conversationId"]
    refused = first.request("transferConversation", conversationId=cid, toTeamId="tm_somebody_else", note="x")
    assert refused["type"] == "error" and refused["code"] == "not_serving_client"
    assert conversation(cid).agent_id == desk.subs[0]
    secret = "VIP customer, owes us a call back"
    moved = first.ok("transferConversation", conversationId=cid, toAgentId=desk.subs[1], note=secret)
    assert moved["conversation"]["agentId"] == desk.subs[1]
    assigned = of(collect(second), "conversation.assigned")
    assert [n["text"] for n in assigned[0]["notes"]] == [secret]
    second.ok("sendMessage", conversationId=cid, text="Hi, I'm taking over")
    frames = collect(visitor)
    assert secret not in repr(frames)
    assert "Hi, I'm taking over" in repr(frames)
    assert secret not in repr(visitor.ok("resume", conversationId=cid, sinceSeq=0))
    assert [load_of(s) for s in desk.subs] == [0, 1]


def test_idle_conversation_closes_with_a_system_code(chat: Harness) -> None:
    desk = open_desk(chat, [2], idle=120)
    (agent,) = desk.agents
    visitor, _ = chat.visitor(desk.site)
    cid = visitor.ok("startConversation", text="hi")["conversation"]["conversationId"]
    agent.ok("sendMessage", conversationId=cid, text="Hello!")
    last_activity = conversation(cid).updated_at
    chat.stack.advance(timedelta(seconds=200))
    for client in (visitor, agent):
        closed = of(collect(client), "conversation.closed")
        assert [f["message"]["code"] for f in closed] == ["idle_closed"]
    stored = conversation(cid)
    assert stored.status.value == "closed"
    # It ends at its last activity: the idle wait is nobody's handling time (CO-7 agent minutes).
    assert stored.closed_at == last_activity
    assert load_of(desk.subs[0]) == 0


def test_the_agent_sees_the_visitor_leave(chat: Harness) -> None:
    desk = open_desk(chat, [2])
    (agent,) = desk.agents
    visitor, _ = chat.visitor(desk.site)
    cid = visitor.ok("startConversation", text="hi")["conversation"]["conversationId"]
    visitor.close()
    left = agent.next_event("conversation.visitor_left")
    assert left == {"type": "conversation.visitor_left", "conversationId": cid}
