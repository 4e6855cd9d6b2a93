"""Revocation: every agent action re-checks their status, through a cache bounded to 30 s."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import boto3
import pytest
from moto import mock_aws

from infra.local.tables import create_tables
from parley.auth.revocation import TTL, AgentStatusCache
from parley.auth.roles import AccountDisabled
from parley.chat.frames import parse_action
from parley.chat.models import Agent, Client, Identity, Role
from parley.chat.service import ChatService
from parley.clock import ControlledClock
from parley.ids import new_id
from parley.repositories.chat import ChatRepository
from parley.repositories.tenants import TenantRepository


class Loader:
    def __init__(self, agent: Agent | None) -> None:
        self.agent = agent
        self.loads = 0

    def __call__(self, agent_id: str) -> Agent | None:
        self.loads += 1
        return self.agent


T0 = datetime(2026, 12, 1, 15, tzinfo=UTC)


def test_status_is_read_once_per_ttl_and_a_disable_bites_at_the_ttl_edge() -> None:
    loader = Loader(Agent(agent_id="ag", name="A"))
    cache = AgentStatusCache()
    cache.require_active("ag", loader, T0)
    loader.agent = Agent(agent_id="ag", name="A", disabled=True)  # an admin disables them
    cache.require_active("ag", loader, T0 + TTL - timedelta(milliseconds=1))  # cached: the bound
    assert loader.loads == 1
    with pytest.raises(AccountDisabled) as refused:
        cache.require_active("ag", loader, T0 + TTL)
    assert (refused.value.status, refused.value.code, loader.loads) == (403, "account_disabled", 2)
    with pytest.raises(AccountDisabled):  # and it stays refused, from the cache
        cache.require_active("ag", loader, T0 + TTL + timedelta(seconds=1))
    assert loader.loads == 2


def test_an_entry_from_the_clocks_future_counts_as_expired() -> None:
    loader = Loader(Agent(agent_id="ag", name="A"))
    cache = AgentStatusCache()
    cache.require_active("ag", loader, T0)
    loader.agent = Agent(agent_id="ag", name="A", disabled=True)
    with pytest.raises(AccountDisabled):
        cache.require_active("ag", loader, T0 - timedelta(seconds=1))


def test_an_agent_who_no_longer_exists_is_refused() -> None:
    with pytest.raises(AccountDisabled):
        AgentStatusCache().require_active("gone", Loader(None), T0)


@pytest.fixture
def service() -> Iterator[tuple[ChatService, TenantRepository]]:
    with mock_aws():
        db = boto3.client("dynamodb", region_name="us-east-1")
        create_tables(db, lambda name: name)
        tenants = TenantRepository(db, "data")
        tenants.put_client(Client(client_id="cl_a", name="A", widget_key="wk_a", allowed_origins=["https://a.test"]))
        yield ChatService(ChatRepository(db, "data", "connections"), tenants, _NoRelay(), ControlledClock()), tenants


class _NoRelay:
    def post(self, connection_ids: object, frame: object) -> set[str]:
        return set()


def test_every_action_of_a_disabled_agent_is_refused_on_an_open_connection(
        service: tuple[ChatService, TenantRepository]) -> None:
    chat, tenants = service
    agent_id = new_id("ag")  # unseen by the process-wide cache
    tenants.put_agent(Agent(agent_id=agent_id, name="Dana", client_ids=["cl_a"], disabled=True))
    identity = Identity(role=Role.AGENT, user_id=agent_id, client_ids=("cl_a",), name="Dana")
    chat.connect("C1", identity)
    for body in ('{"action":"ping"}', '{"action":"subscribeQueue"}',
                 '{"action":"acceptConversation","conversationId":"cv_x"}'):
        with pytest.raises(AccountDisabled):
            chat.handle("C1", identity, parse_action(body))


def test_an_enabled_agent_and_visitors_are_not_refused(service: tuple[ChatService, TenantRepository]) -> None:
    chat, tenants = service
    agent_id = new_id("ag")
    tenants.put_agent(Agent(agent_id=agent_id, name="Eli", client_ids=["cl_a"]))
    identity = Identity(role=Role.AGENT, user_id=agent_id, client_ids=("cl_a",), name="Eli")
    chat.connect("C2", identity)
    assert chat.handle("C2", identity, parse_action('{"action":"ping"}')) == {}
    visitor = Identity(role=Role.VISITOR, user_id="v_1", client_ids=("cl_a",), name="Visitor")
    chat.connect("C3", visitor)
    assert chat.handle("C3", visitor, parse_action('{"action":"ping"}')) == {}
