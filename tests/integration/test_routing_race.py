"""Two routers at once, for real: threads writing to the local stack's moto server through the
routing repository. The conditional writes alone must keep every agent within their cap and
give a chat to exactly one agent, whatever the interleaving."""

from __future__ import annotations

import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any

import pytest

from parley.chat.models import Conversation, ConversationStatus, Message, Role
from parley.composition import chat as chat_services
from parley.composition import routing as routing_services
from parley.routing.choice import AgentStatus
from parley.routing.models import AgentState

pytestmark = pytest.mark.integration

THREADS = 24


def _at_once(count: int, work: Any) -> list[Any]:
    barrier = threading.Barrier(count)

    def run(i: int) -> Any:
        barrier.wait()
        return work(i)

    with ThreadPoolExecutor(count) as pool:
        return list(pool.map(run, range(count)))


def _online_agent(cap: int) -> AgentState:
    repo = routing_services.routing_repository()
    agent_id = f"ag_race_{uuid.uuid4().hex[:8]}"
    return repo.save_status(AgentState(agent_id=agent_id, name="Racer", status=AgentStatus.ONLINE, cap=cap,
                                       team_ids=["tm_race"], client_ids=["cl_race"], idle_since=datetime.now(UTC)))


@pytest.mark.usefixtures("local_stack")
def test_concurrent_reservations_never_push_an_agent_over_the_cap() -> None:
    agent = _online_agent(cap=5)
    repo = routing_services.routing_repository()
    results = _at_once(THREADS, lambda i: repo.reserve(agent.agent_id, datetime.now(UTC)))
    won = [r for r in results if r is not None]
    assert len(won) == 5
    assert sorted(r.load for r in won) == [1, 2, 3, 4, 5]  # each winner saw its own slot
    state = repo.agent_state(agent.agent_id)
    assert state is not None and state.load == 5


@pytest.mark.usefixtures("local_stack")
def test_concurrent_assignments_give_a_chat_to_exactly_one_agent() -> None:
    now = datetime.now(UTC)
    waiting = Conversation(conversation_id=f"cv_race_{uuid.uuid4().hex[:8]}", client_id="cl_race",
                           status=ConversationStatus.WAITING, visitor_id="v_race", created_at=now,
                           team_ids=["tm_race"])
    first = Message(conversation_id=waiting.conversation_id, client_id="cl_race", seq=1, role=Role.VISITOR,
                    sender_id="v_race", text="hello", sent_at=now)
    chat_services.chat_repository().create_conversation(waiting.model_copy(update={"last_seq": 1}), first, "c_race")
    agents = [_online_agent(cap=3) for _ in range(THREADS)]
    repo = routing_services.routing_repository()
    results = _at_once(THREADS, lambda i: repo.assign(waiting.conversation_id, agents[i], [], datetime.now(UTC)))
    won = [r for r in results if r is not None]
    assert len(won) == 1
    stored = repo.get_conversation(waiting.conversation_id)
    assert stored is not None and stored.agent_id == won[0].agent_id and stored.routing_version == 1
