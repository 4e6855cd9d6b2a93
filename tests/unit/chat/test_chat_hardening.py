"""Idempotent sends and the chat rate limits (issue 11, parts 3 and 6) against in-process moto
DynamoDB: what is stored, relayed and acked, and what each costs in DynamoDB requests."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from moto import mock_aws

from parley.chat import limits
from parley.chat.limits import RateLimited, SendInProgress
from parley.errors import ConversationClosed
from tests.unit.chat.test_chat_service import World, start

T0 = datetime(2026, 11, 22, 15, tzinfo=UTC)  # the start of a 5 s and of a 60 s window


@pytest.fixture
def world() -> Iterator[World]:
    with mock_aws():
        w = World()
        w.clock.set(T0)
        yield w


def send(world: World, conn: str, cid: str, text: str, client_message_id: str | None = None) -> dict[str, Any]:
    frame: dict[str, Any] = {"action": "sendMessage", "conversationId": cid, "text": text}
    if client_message_id is not None:
        frame["clientMessageId"] = client_message_id
    return world.do(conn, json.dumps(frame))


def stored(world: World, cid: str) -> list[tuple[int, str]]:
    messages, _ = world.chat.messages_since(cid, 0)
    return [(m.seq, m.text) for m in messages]


def conversations(world: World) -> list[str]:
    return [c.conversation_id for c in world.chat.conversations_of_client("cl_a")]


class TestIdempotentSends:
    def test_a_retried_send_gets_the_original_ack_and_nothing_is_stored_or_relayed(self, world: World) -> None:
        visitor, agent = world.visitor("V1"), world.agent("A1")
        cid = start(world, visitor, agent)
        first = send(world, visitor, cid, "where is my order?", "m-1")
        assert first["message"]["clientMessageId"] == "m-1"
        assert [f["message"]["clientMessageId"] for f in world.relay.to(agent) if f["type"] == "message"] == ["m-1"]
        send(world, agent, cid, "let me check")
        before = stored(world, cid)
        world.relay.posts.clear()
        world.requests.clear()
        again = send(world, visitor, cid, "where is my order?", "m-1")
        # The refused update (its old image says "seen") and one Query for the original message.
        assert world.requests == {"UpdateItem": 1, "Query": 1}
        assert again == {"message": first["message"], "duplicate": True}
        assert stored(world, cid) == before
        assert world.relay.posts == []

    def test_a_send_with_an_id_still_costs_two_requests(self, world: World) -> None:
        visitor, agent = world.visitor("V1"), world.agent("A1")
        cid = start(world, visitor, agent)
        for i, conn in enumerate((visitor, agent, visitor)):
            world.requests.clear()
            send(world, conn, cid, f"m{i}", f"id-{i}")
            assert world.requests == {"UpdateItem": 1, "PutItem": 1}

    def test_ids_are_per_sender(self, world: World) -> None:
        visitor, agent = world.visitor("V1"), world.agent("A1")
        cid = start(world, visitor, agent)
        send(world, visitor, cid, "hi", "same")
        reply = send(world, agent, cid, "hello", "same")
        assert "duplicate" not in reply
        assert [t for _, t in stored(world, cid)][-2:] == ["hi", "hello"]

    def test_a_retry_is_recognised_for_the_dedupe_window(self, world: World) -> None:
        visitor, agent = world.visitor("V1"), world.agent("A1")
        cid = start(world, visitor, agent)
        window = limits.DEDUPE_WINDOW_SECONDS
        world.clock.set(T0 + timedelta(seconds=window - 1))  # the last second of a window
        original = send(world, visitor, cid, "once", "m-edge")
        world.clock.set(T0 + timedelta(seconds=2 * window - 1))  # the end of the next window
        assert send(world, visitor, cid, "once", "m-edge")["duplicate"] is True
        world.clock.set(T0 + timedelta(seconds=2 * window))  # two windows on: forgotten
        later = send(world, visitor, cid, "once", "m-edge")
        assert "duplicate" not in later and later["message"]["seq"] == original["message"]["seq"] + 1

    def test_a_retry_from_a_new_socket_attaches_it(self, world: World) -> None:
        visitor, agent = world.visitor("V1"), world.agent("A1")
        cid = start(world, visitor, agent)
        send(world, visitor, cid, "hello?", "m-9")
        world.service.disconnect(visitor)
        again = world.visitor("V1-again", visitor_id="v_V1")
        assert send(world, again, cid, "hello?", "m-9")["duplicate"] is True
        send(world, agent, cid, "I am here")
        assert [f["message"]["text"] for f in world.relay.to(again) if f["type"] == "message"] == ["I am here"]

    def test_a_retry_whose_original_is_not_stored_yet_is_told_to_wait(self, world: World) -> None:
        visitor, agent = world.visitor("V1"), world.agent("A1")
        cid = start(world, visitor, agent)
        send(world, visitor, cid, "in flight", "m-f")
        seq = stored(world, cid)[-1][0]
        world.db.delete_item(TableName="data", Key={"pk": {"S": f"CONV#{cid}"}, "sk": {"S": f"MSG#{seq:010d}"}})
        with pytest.raises(SendInProgress):
            send(world, visitor, cid, "in flight", "m-f")

    def test_a_retried_start_returns_the_same_conversation(self, world: World) -> None:
        visitor, agent = world.visitor("V1"), world.agent("A1")
        world.relay.posts.clear()
        frame = json.dumps({"action": "startConversation", "text": "hello", "clientMessageId": "start-1"})
        first = world.do(visitor, frame)
        broadcasts = len(world.relay.to(agent))
        again = world.do(visitor, frame)
        assert again["duplicate"] is True
        assert (again["conversation"]["conversationId"], again["message"]) == (
            first["conversation"]["conversationId"], first["message"])
        assert again["message"]["clientMessageId"] == "start-1"
        assert conversations(world) == [first["conversation"]["conversationId"]]
        assert len(world.relay.to(agent)) == broadcasts  # no second conversation.waiting
        other = world.visitor("V2")  # the same id from another visitor is their own conversation
        assert world.do(other, frame)["conversation"]["conversationId"] != first["conversation"]["conversationId"]

    def test_a_conversation_stored_before_the_guards_still_takes_sends(self, world: World) -> None:
        visitor, agent = world.visitor("V1"), world.agent("A1")
        cid = start(world, visitor, agent)
        world.db.update_item(TableName="data", Key={"pk": {"S": f"CONV#{cid}"}, "sk": {"S": "META"}},
                             UpdateExpression="REMOVE rate, sent")
        send(world, visitor, cid, "old chat", "m-old")
        assert send(world, visitor, cid, "old chat", "m-old")["duplicate"] is True
        assert [t for _, t in stored(world, cid)].count("old chat") == 1


class TestMessageRateLimit:
    def test_a_burst_past_the_limit_is_refused_until_the_window_ends(self, world: World) -> None:
        visitor, agent = world.visitor("V1"), world.agent("A1")
        cid = start(world, visitor, agent)
        limit = limits.current().visitor_messages
        for i in range(limit.limit):
            send(world, visitor, cid, f"m{i}")
        before = world.chat.get_conversation(cid)
        messages_before = stored(world, cid)
        world.relay.posts.clear()
        world.clock.set(T0 + timedelta(seconds=limit.window_seconds) - timedelta(milliseconds=1))
        world.requests.clear()
        with pytest.raises(RateLimited) as refused:
            send(world, visitor, cid, "one too many", "m-over")
        assert (refused.value.code, refused.value.limit, refused.value.retry_after) == ("rate_limited", "messages",
                                                                                        0.001)
        assert refused.value.details() == {"retryAfter": 0.001, "limit": "messages"}
        assert world.requests == {"UpdateItem": 1}  # refused by the sequence update's condition
        assert world.chat.get_conversation(cid) == before and stored(world, cid) == messages_before
        assert world.relay.posts == []
        world.clock.set(T0 + timedelta(seconds=limit.window_seconds))
        accepted = send(world, visitor, cid, "one too many", "m-over")  # the refused id was not kept
        assert before is not None
        assert "duplicate" not in accepted and accepted["message"]["seq"] == before.last_seq + 1

    def test_the_agent_has_a_budget_of_its_own(self, world: World) -> None:
        visitor, agent = world.visitor("V1"), world.agent("A1")
        cid = start(world, visitor, agent)
        for i in range(limits.current().visitor_messages.limit):
            send(world, visitor, cid, f"v{i}")
        with pytest.raises(RateLimited):
            send(world, visitor, cid, "v-over")
        for i in range(limits.current().agent_messages.limit):
            send(world, agent, cid, f"a{i}")
        with pytest.raises(RateLimited):
            send(world, agent, cid, "a-over")

    def test_a_refusal_for_membership_is_not_called_a_rate_limit(self, world: World) -> None:
        visitor, agent = world.visitor("V1"), world.agent("A1")
        cid = start(world, visitor, agent)
        for i in range(limits.current().visitor_messages.limit):
            send(world, visitor, cid, f"v{i}")
        world.do(visitor, json.dumps({"action": "closeConversation", "conversationId": cid}))
        with pytest.raises(ConversationClosed):
            send(world, visitor, cid, "after close")

    def test_stale_window_counters_are_removed(self, world: World) -> None:
        visitor, agent = world.visitor("V1"), world.agent("A1")
        cid = start(world, visitor, agent)
        for step in range(4):
            world.clock.set(T0 + timedelta(seconds=5 * step))
            send(world, visitor, cid, f"m{step}")
        item = world.db.get_item(TableName="data", Key={"pk": {"S": f"CONV#{cid}"}, "sk": {"S": "META"}})["Item"]
        assert list(item["rate"]["M"]) == [f"v{limits.current().visitor_messages.window(world.clock.now())}"]


class TestConversationLimits:
    def start(self, world: World, conn: str) -> dict[str, Any]:
        return world.do(conn, json.dumps({"action": "startConversation", "text": "hello"}))

    def close(self, world: World, conn: str, cid: str) -> None:
        world.do(conn, json.dumps({"action": "closeConversation", "conversationId": cid}))

    def test_starts_per_window(self, world: World) -> None:
        visitor = world.visitor("V1")
        for _ in range(limits.current().starts.limit):
            self.close(world, visitor, self.start(world, visitor)["conversation"]["conversationId"])
        before = conversations(world)
        world.clock.set(T0 + timedelta(seconds=limits.current().starts.window_seconds - 1))
        with pytest.raises(RateLimited) as refused:
            self.start(world, visitor)
        assert (refused.value.limit, refused.value.retry_after) == ("starts", 1)
        assert conversations(world) == before
        world.clock.set(T0 + timedelta(seconds=limits.current().starts.window_seconds))
        assert self.start(world, visitor)["conversation"]["status"] == "waiting"

    def test_open_conversations_are_capped_and_a_closed_one_makes_room(self, world: World) -> None:
        visitor, agent = world.visitor("V1"), world.agent("A1")
        opened = [self.start(world, visitor)["conversation"]["conversationId"]
                  for _ in range(limits.current().max_open_conversations)]
        world.relay.posts.clear()
        with pytest.raises(RateLimited) as refused:
            self.start(world, visitor)
        assert refused.value.limit == "open_conversations"
        assert sorted(conversations(world)) == sorted(opened)
        assert world.relay.to(agent) == []  # nothing broadcast
        self.close(world, visitor, opened[0])
        world.requests.clear()
        assert self.start(world, visitor)["conversation"]["status"] == "waiting"
        other = world.visitor("V2")  # another visitor is not affected
        assert self.start(world, other)["conversation"]["status"] == "waiting"

    def test_what_a_start_costs(self, world: World) -> None:
        visitor = world.visitor("V1")
        world.requests.clear()
        self.start(world, visitor)
        # The client, the transaction (also the visitor's limits item), attaching the connection,
        # the agents to tell — and the client's ceiling: read before, counted after (a GetItem and
        # an UpdateItem per start; nothing per message).
        assert world.requests == {"GetItem": 2, "TransactWriteItems": 1, "UpdateItem": 2, "Query": 1}

    def test_a_client_has_a_ceiling_of_new_conversations_over_all_its_visitors(
            self, world: World, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setenv(limits.LIMITS_ENV, '{"client_starts": {"limit": 3, "window_seconds": 60}}')
        agent = world.agent("A1")
        for n in range(3):  # three fresh visitors (a flood of new visitor tokens looks like this)
            self.start(world, world.visitor(f"V{n}"))
        before = conversations(world)
        world.relay.posts.clear()
        world.clock.set(T0 + timedelta(seconds=59))
        with pytest.raises(RateLimited) as refused:
            self.start(world, world.visitor("V9"))
        assert (refused.value.limit, refused.value.retry_after) == ("client_starts", 1)
        assert conversations(world) == before and world.relay.to(agent) == []
        other_client = world.visitor("W1", client_id="cl_b")  # another client's visitors are not affected
        assert self.start(world, other_client)["conversation"]["status"] == "waiting"
        world.clock.set(T0 + timedelta(seconds=60))  # the next window
        assert self.start(world, world.visitor("V9"))["conversation"]["status"] == "waiting"

    def test_starts_a_visitors_own_limits_refuse_do_not_use_up_the_clients_ceiling(
            self, world: World, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setenv(limits.LIMITS_ENV, '{"client_starts": {"limit": 4, "window_seconds": 60}}')
        flooder = world.visitor("V1")
        opened = [self.start(world, flooder) for _ in range(limits.current().max_open_conversations)]
        for _ in range(10):  # refused by the visitor's open-conversation cap: not counted for the client
            with pytest.raises(RateLimited):
                self.start(world, flooder)
        assert len(opened) == 3
        assert self.start(world, world.visitor("V2"))["conversation"]["status"] == "waiting"  # 4 of 4


def test_typing_in_a_closed_conversation_is_refused(world: World) -> None:
    visitor, agent = world.visitor("V1"), world.agent("A1")
    cid = start(world, visitor, agent)
    world.do(agent, json.dumps({"action": "closeConversation", "conversationId": cid}))
    world.relay.posts.clear()
    with pytest.raises(ConversationClosed):
        world.do(visitor, json.dumps({"action": "typing", "conversationId": cid, "isTyping": True}))
    assert world.relay.posts == []


def test_the_limits_can_be_raised_for_a_whole_stack(monkeypatch: pytest.MonkeyPatch) -> None:
    assert limits.current() == limits.ChatLimits()
    monkeypatch.setenv(limits.LIMITS_ENV, '{"visitor_messages": {"limit": 1000, "window_seconds": 5}}')
    raised = limits.current()
    assert (raised.visitor_messages.limit, raised.agent_messages, raised.starts) == (
        1000, limits.ChatLimits().agent_messages, limits.ChatLimits().starts)
