"""Routing through the chat domain against in-process moto DynamoDB, with a recording relay in
place of the @connections API and a frozen clock: caps, fairness, the queue and its live
positions, no-answer and disconnect reassignment, transfers and their notes, idle close,
"visitor left", and the cost of one routing decision."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from moto import mock_aws

from infra.local.tables import create_tables
from parley.auth.roles import StaffRole
from parley.chat.frames import parse_action
from parley.chat.models import Agent, Client, Identity, Role
from parley.chat.service import ChatService
from parley.clock import ControlledClock
from parley.errors import NotFound
from parley.repositories.chat import ChatRepository
from parley.repositories.routing import RoutingRepository
from parley.repositories.tenants import TenantRepository
from parley.routing.errors import AgentUnavailable, NotServingClient
from parley.routing.service import PRESENCE_GRACE, Router

CLIENT = "cl_a"
TEAM = "tm_sales"


class RecordingRelay:
    def __init__(self) -> None:
        self.posts: list[tuple[str, dict[str, Any]]] = []

    def post(self, connection_ids: Iterable[str], frame: dict[str, Any]) -> set[str]:
        self.posts += [(cid, frame) for cid in connection_ids]
        return set()

    def to(self, connection_id: str, type_: str | None = None) -> list[dict[str, Any]]:
        return [f for cid, f in self.posts if cid == connection_id and (type_ is None or f["type"] == type_)]


class World:
    def __init__(self) -> None:
        self.db = boto3.client("dynamodb", region_name="us-east-1")
        create_tables(self.db, lambda name: name)
        self.requests: Counter[str] = Counter()
        self.db.meta.events.register("before-call.dynamodb", self._count)
        self.tenants = TenantRepository(self.db, "data")
        self.chat = ChatRepository(self.db, "data", "connections")
        self.repo = RoutingRepository(self.db, "data", "connections")
        self.relay = RecordingRelay()
        self.clock = ControlledClock()
        self.clock.set(datetime(2026, 12, 1, 15, tzinfo=UTC))
        self.router = Router(self.repo, self.tenants, self.relay, self.clock)
        self.service = ChatService(self.chat, self.tenants, self.relay, self.clock).with_routing(self.router)
        self.identities: dict[str, Identity] = {}
        self.tenants.put_client(Client(client_id=CLIENT, name="A", widget_key="wk_a", team_ids=[TEAM],
                                       no_answer_timeout_seconds=60, idle_timeout_seconds=600))
        self.tenants.put_client(Client(client_id="cl_b", name="B", widget_key="wk_b", team_ids=["tm_other"]))

    def _count(self, model: Any, **_: Any) -> None:
        self.requests[model.name] += 1

    def agent(self, name: str, cap: int = 3, client: str = CLIENT, role: StaffRole = StaffRole.AGENT) -> str:
        team = TEAM if client == CLIENT else "tm_other"
        self.tenants.put_agent(Agent(agent_id=name, name=name.title(), client_ids=[client], team_ids=[team],
                                     max_concurrent_chats=cap, role=role))
        identity = Identity(role=Role.AGENT, user_id=name, client_ids=(client,), name=name.title(), staff_role=role)
        return self._connect(f"{name}-tab", identity)

    def visitor(self, name: str) -> str:
        return self._connect(name, Identity(role=Role.VISITOR, user_id=f"v_{name}", client_ids=(CLIENT,),
                                            name="Visitor"))

    def _connect(self, conn: str, identity: Identity) -> str:
        self.identities[conn] = identity
        self.service.connect(conn, identity)
        return conn

    def do(self, conn: str, action: str, **fields: Any) -> dict[str, Any]:
        import json

        return self.service.handle(conn, self.identities[conn], parse_action(json.dumps({"action": action, **fields})))

    def online(self, *conns: str) -> None:
        for conn in conns:
            self.do(conn, "setStatus", status="online")
            self.clock.set(self.clock.now() + timedelta(seconds=1))  # distinct idle-since times

    def start(self, visitor: str) -> dict[str, Any]:
        self.clock.set(self.clock.now() + timedelta(milliseconds=10))  # arrival order
        return self.do(visitor, "startConversation", text="hello")

    def load(self, agent_conn: str) -> int:
        state = self.repo.agent_state(self.identities[agent_conn].user_id)
        assert state is not None
        return state.load

    def advance(self, seconds: float) -> None:
        self.clock.set(self.clock.now() + timedelta(seconds=seconds))


@pytest.fixture
def world() -> Iterator[World]:
    with mock_aws():
        yield World()


def agent_of(reply: dict[str, Any]) -> str | None:
    agent: str | None = reply["conversation"]["agentId"]
    return agent


def test_chats_go_to_the_least_loaded_then_longest_idle_and_never_past_a_cap(world: World) -> None:
    a, b, c = world.agent("ann", cap=1), world.agent("bob", cap=2), world.agent("cat", cap=2)
    world.online(a, b, c)  # idle since: ann first, then bob, then cat
    owners = [agent_of(world.start(world.visitor(f"v{i}"))) for i in range(7)]
    # 0 chats each: ann (longest idle), bob, cat; then 1 each for bob and cat (ann is full), bob first:
    # his last assignment is older than cat's.
    assert owners == ["ann", "bob", "cat", "bob", "cat", None, None]
    assert [world.load(x) for x in (a, b, c)] == [1, 2, 2]


def test_a_waiting_visitor_learns_place_and_wait_and_moves_up_live(world: World) -> None:
    a = world.agent("ann", cap=1)
    world.online(a)
    first = world.start(world.visitor("v0"))
    replies = [world.start(world.visitor(f"v{i}")) for i in (1, 2, 3)]
    assert [r["queue"]["position"] for r in replies] == [1, 2, 3]
    assert [r["queue"]["estimatedWaitSeconds"] for r in replies] == [60, 120, 180]  # default minute a place
    assert [f["position"] for f in world.relay.to("v3", "queue.position")] == [3]
    world.relay.posts.clear()
    world.advance(30)
    world.do(a, "closeConversation", conversationId=first["conversation"]["conversationId"])
    # v1 is now ann's; v2 and v3 moved up one place each and were told.
    assert agent_of({"conversation": world.relay.to("v1", "conversation.accepted")[0]["conversation"]}) == "ann"
    assert [f["position"] for f in world.relay.to("v2", "queue.position")] == [1]
    assert [f["position"] for f in world.relay.to("v3", "queue.position")] == [2]
    assert world.relay.to("v1", "queue.position") == []


def test_capacity_freed_by_an_agent_coming_online_takes_the_oldest_waiting_chats(world: World) -> None:
    visitors = [world.visitor(f"v{i}") for i in range(4)]
    ids = [world.start(v)["conversation"]["conversationId"] for v in visitors]
    assert all(world.chat.get_conversation(i).status.value == "waiting" for i in ids)  # type: ignore[union-attr]
    a = world.agent("ann", cap=3)
    world.online(a)
    statuses = [world.chat.get_conversation(i) for i in ids]
    assert [s.agent_id if s else None for s in statuses] == ["ann", "ann", "ann", None]
    assert [f["conversation"]["conversationId"] for f in world.relay.to(a, "conversation.assigned")] == ids[:3]


def test_an_agent_who_does_not_answer_loses_the_chat_to_the_next_and_is_set_away(world: World) -> None:
    a, b = world.agent("ann"), world.agent("bob")
    world.online(a, b)
    visitor = world.visitor("v0")
    cid = world.start(visitor)["conversation"]["conversationId"]
    assert world.chat.get_conversation(cid).agent_id == "ann"  # type: ignore[union-attr]
    world.advance(59)
    assert world.router.sweep().answers_missed == 0  # a second before the timeout
    world.advance(1)
    assert world.router.sweep().answers_missed == 1
    conversation = world.chat.get_conversation(cid)
    assert conversation is not None and conversation.agent_id == "bob" and conversation.status.value == "active"
    assert [world.load(a), world.load(b)] == [0, 1]
    assert world.repo.agent_state("ann").status.value == "away"  # type: ignore[union-attr]
    assert world.relay.to(a, "conversation.transferred")[0]["reason"] == "no_answer"
    codes = [f["message"].get("code") for f in world.relay.to(visitor) if f["type"] in ("message",
                                                                                          "conversation.accepted")]
    assert codes == ["agent_joined", "transferred", "agent_joined"]


def test_an_agent_who_answered_keeps_the_chat(world: World) -> None:
    a, b = world.agent("ann"), world.agent("bob")
    world.online(a, b)
    cid = world.start(world.visitor("v0"))["conversation"]["conversationId"]
    world.do(a, "sendMessage", conversationId=cid, text="Hi, I'm Ann")
    world.advance(120)
    assert world.router.sweep().answers_missed == 0
    assert world.chat.get_conversation(cid).agent_id == "ann"  # type: ignore[union-attr]


def test_a_disconnected_agent_goes_offline_after_the_grace_period_and_loses_the_chats(world: World) -> None:
    a, b = world.agent("ann"), world.agent("bob")
    world.online(a, b)
    cid = world.start(world.visitor("v0"))["conversation"]["conversationId"]
    world.do(a, "sendMessage", conversationId=cid, text="Hi")  # answered: no-answer does not apply
    world.service.disconnect(a)
    world.advance(PRESENCE_GRACE.total_seconds() - 1)
    assert world.router.sweep().agents_offline == 0
    world.advance(1)
    assert world.router.sweep().agents_offline == 1
    assert world.repo.agent_state("ann").status.value == "offline"  # type: ignore[union-attr]
    assert world.chat.get_conversation(cid).agent_id == "bob"  # type: ignore[union-attr]


def test_an_agent_who_reconnects_within_the_grace_period_stays(world: World) -> None:
    a = world.agent("ann")
    world.online(a)
    world.service.disconnect(a)
    world.agent("ann")  # the page reloaded
    world.advance(PRESENCE_GRACE.total_seconds() + 60)
    assert world.router.sweep().agents_offline == 0
    assert world.repo.agent_state("ann").status.value == "online"  # type: ignore[union-attr]


def test_transfer_to_an_agent_carries_a_note_the_visitor_never_sees(world: World) -> None:
    a, b = world.agent("ann"), world.agent("bob")
    world.online(a, b)
    visitor = world.visitor("v0")
    cid = world.start(visitor)["conversation"]["conversationId"]
    world.do(a, "sendMessage", conversationId=cid, text="Let me find a colleague")
    moved = world.do(a, "transferConversation", conversationId=cid, toAgentId="bob", note="wants a trade-in quote")
    assert moved["conversation"]["agentId"] == "bob"
    assigned = world.relay.to(b, "conversation.assigned")[-1]
    assert [n["text"] for n in assigned["notes"]] == ["wants a trade-in quote"]
    assert "trade-in" not in repr(world.relay.to(visitor))
    resumed = world.do(visitor, "resume", conversationId=cid, sinceSeq=0)
    assert "trade-in" not in repr(resumed)
    assert [world.load(a), world.load(b)] == [0, 1]


def test_transfer_to_a_team_routes_within_that_team(world: World) -> None:
    world.tenants.put_client(Client(client_id=CLIENT, name="A", widget_key="wk_a", team_ids=[TEAM, "tm_service"]))
    a = world.agent("ann")
    world.tenants.put_agent(Agent(agent_id="sam", name="Sam", client_ids=[CLIENT], team_ids=["tm_service"]))
    sam = world._connect("sam-tab", Identity(role=Role.AGENT, user_id="sam", client_ids=(CLIENT,), name="Sam"))
    world.online(a, sam)
    cid = world.start(world.visitor("v0"))["conversation"]["conversationId"]
    assert world.chat.get_conversation(cid).agent_id == "ann"  # type: ignore[union-attr]
    world.do(a, "transferConversation", conversationId=cid, toTeamId="tm_service", note="service question")
    conversation = world.chat.get_conversation(cid)
    assert conversation is not None and conversation.agent_id == "sam" and conversation.team_ids == ["tm_service"]


def test_transfers_to_whoever_does_not_serve_the_client_are_refused_and_change_nothing(world: World) -> None:
    a, b = world.agent("ann"), world.agent("bob", cap=1)
    world.agent("zed", client="cl_b")
    world.online(a, b)
    cid = world.start(world.visitor("v0"))["conversation"]["conversationId"]
    world.start(world.visitor("v1"))  # bob is full now
    before = world.chat.get_conversation(cid)
    with pytest.raises(NotServingClient):
        world.do(a, "transferConversation", conversationId=cid, toTeamId="tm_other")
    with pytest.raises(NotServingClient):
        world.do(a, "transferConversation", conversationId=cid, toAgentId="zed")
    with pytest.raises(NotServingClient):
        world.do(a, "transferConversation", conversationId=cid, toAgentId="nobody")
    with pytest.raises(AgentUnavailable):
        world.do(a, "transferConversation", conversationId=cid, toAgentId="bob")
    with pytest.raises(NotFound):  # not bob's chat, and bob is no supervisor
        world.do(b, "transferConversation", conversationId=cid, toAgentId="ann")
    assert world.chat.get_conversation(cid) == before
    assert [world.load(a), world.load(b)] == [1, 1]


def test_an_idle_chat_closes_with_a_system_code_and_frees_the_slot(world: World) -> None:
    a = world.agent("ann", cap=1)
    world.online(a)
    visitor = world.visitor("v0")
    cid = world.start(visitor)["conversation"]["conversationId"]
    world.do(a, "sendMessage", conversationId=cid, text="Hello!")
    waiting = world.start(world.visitor("v1"))["conversation"]["conversationId"]
    world.advance(599)
    assert world.router.sweep().idle_closed == []
    world.advance(1)
    # The first chat (idle 600 s since ann's reply) closes; the waiting one started later.
    assert world.router.sweep().idle_closed == [cid]
    closed = world.relay.to(visitor, "conversation.closed")[-1]
    assert closed["message"]["code"] == "idle_closed" and closed["conversation"]["status"] == "closed"
    assert world.chat.get_conversation(waiting).agent_id == "ann"  # type: ignore[union-attr]


def test_the_agent_hears_when_the_last_visitor_connection_is_gone(world: World) -> None:
    a = world.agent("ann")
    world.online(a)
    tab1 = world.visitor("v0")
    cid = world.start(tab1)["conversation"]["conversationId"]
    tab2 = world._connect("v0-tab2", world.identities[tab1])
    world.do(tab2, "resume", conversationId=cid, sinceSeq=0)
    world.service.disconnect(tab1)
    assert world.relay.to(a, "conversation.visitor_left") == []  # another tab is still open
    world.service.disconnect(tab2)
    assert world.relay.to(a, "conversation.visitor_left") == [{"type": "conversation.visitor_left",
                                                                "conversationId": cid}]


def _costs(world: World, online_agents: int, waiting: int) -> tuple[dict[str, int], dict[str, int]]:
    """Requests of a new chat that must queue, and of a close whose freed slot takes the oldest
    waiting chat, with every agent full and `waiting` chats queued."""
    agents = [world.agent(f"ag{i:02d}", cap=1) for i in range(online_agents)]
    world.online(*agents)
    for i in range(online_agents + waiting):
        world.start(world.visitor(f"fill{i}"))
    world.requests.clear()
    world.start(world.visitor("probe"))
    queued = dict(world.requests)
    mine = world.repo.open_conversations("ag00")[0].conversation_id
    world.do(agents[0], "ping")  # the agent's status (revocation) is read once per 30 s, not by routing
    world.requests.clear()
    world.do(agents[0], "closeConversation", conversationId=mine)
    drained = dict(world.requests)
    assert len(world.repo.open_conversations("ag00")) == 1  # the oldest waiting chat took the slot
    return queued, drained


@pytest.mark.parametrize("size", [(30, 10), (3, 100)])
def test_routing_costs_the_same_requests_whatever_the_agents_and_waiting_chats(size: tuple[int, int]) -> None:
    with mock_aws():
        small = _costs(World(), 3, 10)
    with mock_aws():
        large = _costs(World(), *size)
    assert small == large
