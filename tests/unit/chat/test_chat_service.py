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
from parley.chat.access import ConnectAccess
from parley.chat.frames import parse_action
from parley.chat.identity import from_context, to_context
from parley.chat.models import Agent, Client, ClientStatus, Identity
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
        self.access = ConnectAccess(self.tenants, self.clock)
        # What each connection's events carry: the $connect authorizer's context, as API Gateway
        # passes it (the identity goes through its string form, as on AWS).
        self.contexts: dict[str, dict[str, str]] = {}
        self.tokens = VisitorTokens(b"s" * 32, timedelta(days=1))
        for cid in ("cl_a", "cl_b"):
            self.tenants.put_client(Client(client_id=cid, name=cid, widget_key=f"wk_{cid}", allowed_origins=[ORIGIN]))
            self.tenants.put_agent(Agent(agent_id=f"ag_{cid}", name=f"Agent {cid}", client_ids=[cid]))

    def _count(self, model: Any, **_: Any) -> None:
        self.requests[model.name] += 1

    def _connect(self, conn: str, identity: Identity) -> str:
        self.contexts[conn] = to_context(identity)
        self.service.connect(conn, from_context(self.contexts[conn]))
        return conn

    def visitor(self, conn: str, client_id: str = "cl_a", visitor_id: str | None = None) -> str:
        token, _ = self.tokens.issue(client_id, visitor_id or f"v_{conn}", self.clock.now())
        return self._connect(conn, self.access.visitor(f"wk_{client_id}", ORIGIN, token, self.tokens))

    def agent(self, conn: str, client_id: str = "cl_a", sub: str | None = None) -> str:
        claims = AgentClaims(sub=sub or f"ag_{client_id}", username="a", email="", groups=())
        return self._connect(conn, self.access.agent(claims))

    def do(self, conn: str, body: str) -> dict[str, Any]:
        return self.service.handle(conn, from_context(self.contexts[conn]), parse_action(body))


@pytest.fixture
def world() -> Iterator[World]:
    with mock_aws():
        yield World()


def start(world: World, visitor: str, agent: str) -> str:
    cid: str = world.do(visitor, '{"action":"startConversation","text":"hello"}')["conversation"]["conversationId"]
    world.do(agent, f'{{"action":"acceptConversation","conversationId":"{cid}"}}')
    return cid


def test_a_relayed_message_costs_two_dynamodb_requests_whatever_the_open_connections(world: World) -> None:
    visitor, agent = world.visitor("V1"), world.agent("A1")
    cid = start(world, visitor, agent)
    per_message = []
    for idle in (10, 200):  # bench/chat.py measures 10 and 1,000 on the local stack
        for i in range(idle - sum(1 for c in world.contexts if c.startswith("idle"))):
            world.visitor(f"idle-{len(world.contexts)}-{i}", client_id="cl_b")
        for sender, receiver in ((visitor, agent), (agent, visitor)):
            world.requests.clear()
            world.relay.posts.clear()
            world.do(sender, f'{{"action":"sendMessage","conversationId":"{cid}","text":"hi"}}')
            per_message.append(dict(world.requests))
            assert [cid_ for cid_, _ in world.relay.posts] == [receiver]  # the other participant only
    # The sequence (a conditional UpdateItem that also checks membership) and the message; the
    # identity comes from the event, not from a read of the connection.
    assert per_message == [{"UpdateItem": 1, "PutItem": 1}] * 4


def test_a_non_participant_is_refused_by_the_sequence_update_and_nothing_is_stored(world: World) -> None:
    visitor, agent = world.visitor("V1"), world.agent("A1")
    cid = start(world, visitor, agent)
    stranger = world.visitor("V2", visitor_id="v_someone_else")
    world.tenants.put_agent(Agent(agent_id="ag_2", name="Second", client_ids=["cl_a"]))
    colleague = world.agent("A2", sub="ag_2")
    foreign = world.agent("B1", client_id="cl_b")
    before = world.chat.get_conversation(cid)
    for conn in (stranger, colleague, foreign):
        world.do(conn, '{"action":"ping"}')  # an agent's status is read once per 30 s (revocation), not here
        world.requests.clear()
        world.relay.posts.clear()
        with pytest.raises(NotFound):
            world.do(conn, f'{{"action":"sendMessage","conversationId":"{cid}","text":"let me in"}}')
        assert world.requests == {"UpdateItem": 1}  # refused by its condition; the old image says why
        assert world.relay.posts == []
    assert world.chat.get_conversation(cid) == before
    stored, _ = world.chat.messages_since(cid, 0)
    assert "let me in" not in [m.text for m in stored]


def test_a_first_message_without_resume_attaches_the_connection_once(world: World) -> None:
    visitor, agent = world.visitor("V1"), world.agent("A1")
    cid = start(world, visitor, agent)
    tab = world.agent("A1-tab2")  # a second tab of the same agent that did not resume
    costs = []
    for _ in range(2):
        world.requests.clear()
        world.do(tab, f'{{"action":"sendMessage","conversationId":"{cid}","text":"hi"}}')
        costs.append(dict(world.requests))
    # The first message also records the conversation on the connection item, so $disconnect
    # detaches the tab; from then on two requests.
    assert costs == [{"UpdateItem": 2, "PutItem": 1}, {"UpdateItem": 1, "PutItem": 1}]
    found = world.chat.get_connection(tab)
    assert found is not None and cid in found[1]
    conversation = world.chat.get_conversation(cid)
    assert conversation is not None and conversation.connections[tab] == "agent"
    world.service.disconnect(tab)
    conversation = world.chat.get_conversation(cid)
    assert conversation is not None and tab not in conversation.connections


def test_the_ack_and_the_stored_conversation_agree(world: World) -> None:
    visitor, agent = world.visitor("V1"), world.agent("A1")
    cid = start(world, visitor, agent)
    world.do(agent, f'{{"action":"sendMessage","conversationId":"{cid}","text":"first reply"}}')
    _, computed, _ = world.chat.append(from_context(world.contexts[visitor]), visitor, cid, "again",
                                       world.clock.now())
    assert computed == world.chat.get_conversation(cid)  # the old image with the update applied


def test_an_event_without_a_valid_identity_is_refused() -> None:
    for context in (None, {}, {"role": "visitor"}, {"role": "system", "userId": "x", "clientIds": "cl_a"},
                    {"role": "visitor", "userId": "v", "clientIds": ""},
                    {"role": "boss", "userId": "v", "clientIds": "a"}):
        with pytest.raises(Unauthorized):
            from_context(context)


def test_the_identity_survives_the_authorizer_context() -> None:
    agent = Identity(role="agent", user_id="ag_1", client_ids=("cl_a", "cl_b"), name="Alex, senior",  # type: ignore[arg-type]
                     staff_role="supervisor")  # type: ignore[arg-type]
    context = to_context(agent)
    assert all(isinstance(v, str) for v in context.values())  # API Gateway takes flat values only
    assert from_context({**context, "principalId": "ag_1", "integrationLatency": 12}) == agent
    with pytest.raises(ValueError):
        to_context(Identity(role="visitor", user_id="v", client_ids=("a,b",)))  # type: ignore[arg-type]


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
    world.agent("A2", sub="ag_2")
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
    assert world.do(other, '{"action":"subscribeQueue"}') == {"waiting": [], "mine": [], "clients": [{"id": "cl_b"}],
                                                           "waitingTotal": 0, "nextCursor": None}


def test_connect_checks(world: World) -> None:
    token, _ = world.tokens.issue("cl_b", "v_x", world.clock.now())
    with pytest.raises(Unauthorized):  # a token of another client
        world.access.visitor("wk_cl_a", ORIGIN, token, world.tokens)
    with pytest.raises(OriginNotAllowed):
        world.access.visitor("wk_cl_a", "https://evil.example", token, world.tokens)
    assert world.chat.get_connection("X") is None


def test_a_deactivated_client_gets_no_new_chats(world: World) -> None:
    visitor = world.visitor("V1")
    client = world.tenants.get_client("cl_a")
    assert client is not None
    world.tenants.put_client(client.model_copy(update={"status": ClientStatus.DEACTIVATED}))
    with pytest.raises(ServiceUnavailable):
        world.do(visitor, '{"action":"startConversation","text":"hello"}')
