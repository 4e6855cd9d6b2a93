"""The chat domain against in-process moto DynamoDB, with a recording relay in place of the
@connections API: who may do what, what is stored, and what is relayed to whom."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from moto import mock_aws

from infra.local.tables import create_tables
from parley.auth.cognito import AgentClaims
from parley.auth.visitor_token import VisitorTokens
from parley.chat.frames import parse_action
from parley.chat.models import Agent, Client, ClientStatus
from parley.chat.service import ChatService
from parley.clock import ControlledClock
from parley.errors import AlreadyTaken, NotFound, OriginNotAllowed, ServiceUnavailable, Unauthorized
from parley.repositories.chat import ChatRepository
from parley.repositories.tenants import TenantRepository

ORIGIN = "https://dealer.example"


class RecordingRelay:
    def __init__(self) -> None:
        self.posts: list[tuple[str, dict[str, Any]]] = []
        self.gone: set[str] = set()

    def post(self, connection_ids: Iterable[str], frame: dict[str, Any]) -> set[str]:
        ids = list(connection_ids)
        self.posts += [(cid, frame) for cid in ids if cid not in self.gone]
        return {cid for cid in ids if cid in self.gone}

    def to(self, connection_id: str) -> list[dict[str, Any]]:
        return [frame for cid, frame in self.posts if cid == connection_id]


class World:
    def __init__(self) -> None:
        self.db = boto3.client("dynamodb", region_name="us-east-1")
        create_tables(self.db, lambda name: name)
        self.requests: Counter[str] = Counter()
        self.db.meta.events.register("before-call.dynamodb", self._count)
        self.chat = ChatRepository(self.db, "data", "connections")
        self.tenants = TenantRepository(self.db, "data")
        self.relay = RecordingRelay()
        self.clock = ControlledClock()
        self.clock.set(datetime(2026, 11, 22, 15, tzinfo=UTC))  # frozen: stored times are exact
        self.service = ChatService(self.chat, self.tenants, self.relay, self.clock)
        self.tokens = VisitorTokens(b"s" * 32, timedelta(days=1))
        for cid in ("cl_a", "cl_b"):
            self.tenants.put_client(Client(client_id=cid, name=cid, widget_key=f"wk_{cid}", allowed_origins=[ORIGIN]))
            self.tenants.put_agent(Agent(agent_id=f"ag_{cid}", name=f"Agent {cid}", client_ids=[cid]))

    def _count(self, model: Any, **_: Any) -> None:
        self.requests[model.name] += 1

    def visitor(self, conn: str, client_id: str = "cl_a", visitor_id: str | None = None) -> str:
        token, _ = self.tokens.issue(client_id, visitor_id or f"v_{conn}", self.clock.now())
        self.service.connect_visitor(conn, f"wk_{client_id}", ORIGIN, token, self.tokens)
        return conn

    def agent(self, conn: str, client_id: str = "cl_a") -> str:
        self.service.connect_agent(conn, AgentClaims(sub=f"ag_{client_id}", username="a", email="", groups=()))
        return conn

    def do(self, conn: str, body: str) -> dict[str, Any]:
        return self.service.handle(conn, parse_action(body))


@pytest.fixture
def world() -> Iterator[World]:
    with mock_aws():
        yield World()


def start(world: World, visitor: str, agent: str) -> str:
    cid: str = world.do(visitor, '{"action":"startConversation","text":"hello"}')["conversation"]["conversationId"]
    world.do(agent, f'{{"action":"acceptConversation","conversationId":"{cid}"}}')
    return cid


def test_a_relayed_message_costs_three_dynamodb_requests_whatever_the_open_connections(world: World) -> None:
    visitor, agent = world.visitor("V1"), world.agent("A1")
    cid = start(world, visitor, agent)
    per_message = []
    for idle in (10, 200):
        for i in range(idle):
            world.visitor(f"idle{idle}-{i}", client_id="cl_b")
        world.requests.clear()
        world.relay.posts.clear()
        world.do(visitor, f'{{"action":"sendMessage","conversationId":"{cid}","text":"hi"}}')
        per_message.append(dict(world.requests))
        assert [cid_ for cid_, _ in world.relay.posts] == ["A1"]  # the other participant only
    assert per_message[0] == per_message[1] == {"GetItem": 1, "UpdateItem": 1, "PutItem": 1}


def test_messages_get_consecutive_seqs_and_are_stored_before_the_ack(world: World) -> None:
    visitor, agent = world.visitor("V1"), world.agent("A1")
    cid = start(world, visitor, agent)
    acks = [world.do(visitor, f'{{"action":"sendMessage","conversationId":"{cid}","text":"m{i}"}}')["message"]
            for i in range(3)]
    assert [a["seq"] for a in acks] == [3, 4, 5]
    stored, _ = world.chat.messages_since(cid, 2)
    assert [m.public() for m in stored] == acks


def test_the_first_agent_reply_and_message_counts_are_recorded_for_metering(world: World) -> None:
    visitor, agent = world.visitor("V1"), world.agent("A1")
    cid = start(world, visitor, agent)
    world.do(agent, f'{{"action":"sendMessage","conversationId":"{cid}","text":"hi"}}')
    first_reply = world.clock.now()
    world.clock.set(datetime(2026, 11, 22, 16, tzinfo=UTC))
    world.do(agent, f'{{"action":"sendMessage","conversationId":"{cid}","text":"again"}}')
    conversation = world.chat.get_conversation(cid)
    assert conversation is not None
    assert (conversation.visitor_messages, conversation.agent_messages) == (1, 2)
    assert conversation.first_agent_reply_at == first_reply


def test_gone_connections_are_forgotten(world: World) -> None:
    visitor, agent = world.visitor("V1"), world.agent("A1")
    cid = start(world, visitor, agent)
    world.relay.gone.add("A1")
    world.do(visitor, f'{{"action":"sendMessage","conversationId":"{cid}","text":"hi"}}')
    conversation = world.chat.get_conversation(cid)
    assert conversation is not None and "A1" not in conversation.connections
    assert world.chat.get_connection("A1") is None


def test_accept_is_first_come_first_served(world: World) -> None:
    world.tenants.put_agent(Agent(agent_id="ag_2", name="Second", client_ids=["cl_a"]))
    visitor, agent = world.visitor("V1"), world.agent("A1")
    world.service.connect_agent("A2", AgentClaims(sub="ag_2", username="b", email="", groups=()))
    cid = start(world, visitor, agent)
    with pytest.raises(AlreadyTaken):
        world.do("A2", f'{{"action":"acceptConversation","conversationId":"{cid}"}}')


def test_another_tenants_agent_sees_nothing(world: World) -> None:
    visitor, agent = world.visitor("V1"), world.agent("A1")
    other = world.agent("B1", client_id="cl_b")
    world.relay.posts.clear()
    cid = world.do(visitor, '{"action":"startConversation","text":"hello"}')["conversation"]["conversationId"]
    assert [c for c, _ in world.relay.posts] == [agent]  # the queue broadcast reaches cl_a's agents only
    with pytest.raises(NotFound):
        world.do(other, f'{{"action":"acceptConversation","conversationId":"{cid}"}}')
    assert world.do(other, '{"action":"subscribeQueue"}') == {"waiting": [], "mine": []}


def test_connect_checks(world: World) -> None:
    token, _ = world.tokens.issue("cl_b", "v_x", world.clock.now())
    with pytest.raises(Unauthorized):  # a token of another client
        world.service.connect_visitor("X", "wk_cl_a", ORIGIN, token, world.tokens)
    with pytest.raises(OriginNotAllowed):
        world.service.connect_visitor("X", "wk_cl_a", "https://evil.example", token, world.tokens)
    assert world.chat.get_connection("X") is None


def test_a_deactivated_client_gets_no_new_chats(world: World) -> None:
    visitor = world.visitor("V1")
    client = world.tenants.get_client("cl_a")
    assert client is not None
    world.tenants.put_client(client.model_copy(update={"status": ClientStatus.DEACTIVATED}))
    with pytest.raises(ServiceUnavailable):
        world.do(visitor, '{"action":"startConversation","text":"hello"}')
