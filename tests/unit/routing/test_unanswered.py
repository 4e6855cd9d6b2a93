"""A chat that waits in the queue longer than the client's no-answer timeout: the sweep tells
the visitor once (`conversation.unanswered`, reason no_answer), at the edge of the timeout, and
the chat stays queued so an agent can still take it (moto in-process, frozen clock)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from moto import mock_aws

from tests.unit.routing.test_router import World


@pytest.fixture
def world() -> Iterator[World]:
    with mock_aws():
        yield World()


def _full_house(world: World) -> tuple[str, str]:
    """Ann (cap 1) is busy with a first chat she answered; a second visitor waits. Returns
    (agent, visitor)."""
    ann = world.agent("ann", cap=1)
    world.online(ann)
    first = world.start(world.visitor("first"))["conversation"]["conversationId"]
    world.do(ann, "sendMessage", conversationId=first, text="Hi")  # answered: she keeps it
    waiting = world.visitor("waiting")
    reply = world.start(waiting)
    assert reply["conversation"]["status"] == "waiting"
    return ann, waiting


def test_the_waiting_visitor_is_told_once_at_the_timeout_not_a_second_before(world: World) -> None:
    _, visitor = _full_house(world)
    cid = world.relay.to(visitor, "queue.position")[0]["conversationId"]
    world.advance(59)  # the client's no_answer_timeout_seconds is 60
    report = world.router.sweep()
    assert report.unanswered == 0 and world.relay.to(visitor, "conversation.unanswered") == []
    world.advance(1)
    assert world.router.sweep().unanswered == 1
    assert world.relay.to(visitor, "conversation.unanswered") == [
        {"type": "conversation.unanswered", "conversationId": cid, "reason": "no_answer"}]
    world.advance(60)
    assert world.router.sweep().unanswered == 0  # once per conversation
    assert len(world.relay.to(visitor, "conversation.unanswered")) == 1
    conversation = world.chat.get_conversation(cid)
    assert conversation is not None and conversation.status.value == "waiting"  # still queued


def test_only_the_visitor_hears_it_and_an_agent_can_still_take_the_chat(world: World) -> None:
    ann, visitor = _full_house(world)
    cid = world.relay.to(visitor, "queue.position")[0]["conversationId"]
    world.advance(61)
    world.router.sweep()
    assert [c for c, f in world.relay.posts if f["type"] == "conversation.unanswered"] == [visitor]
    first = world.repo.open_conversations("ann")[0].conversation_id
    world.do(ann, "closeConversation", conversationId=first)  # a slot frees: the waiting chat is drained
    conversation = world.chat.get_conversation(cid)
    assert conversation is not None and conversation.agent_id == "ann" and conversation.status.value == "active"
    assert world.relay.to(visitor, "conversation.accepted")[0]["conversation"]["conversationId"] == cid


def test_a_chat_taken_before_the_timeout_is_never_reported(world: World) -> None:
    ann, visitor = _full_house(world)
    world.advance(30)
    first = world.repo.open_conversations("ann")[0].conversation_id
    world.do(ann, "closeConversation", conversationId=first)
    world.do(ann, "sendMessage", conversationId=world.repo.open_conversations("ann")[0].conversation_id,
             text="Hi")  # answered: the assigned-agent timeout does not apply either
    world.advance(60)
    assert world.router.sweep().unanswered == 0
    assert world.relay.to(visitor, "conversation.unanswered") == []


def test_a_client_without_a_no_answer_timeout_never_tells(world: World) -> None:
    client = world.tenants.get_client("cl_a")
    assert client is not None
    world.tenants.put_client(client.model_copy(update={"no_answer_timeout_seconds": 0}))
    _, visitor = _full_house(world)
    world.advance(3600)
    assert world.router.sweep().unanswered == 0
    assert world.relay.to(visitor, "conversation.unanswered") == []
