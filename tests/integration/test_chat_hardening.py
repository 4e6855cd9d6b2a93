"""Issue 11 on the real local stack: every parser case gets its documented error frame and moves
nothing (not even the sequence), each chat rate limit refuses with `rate_limited` and stores
nothing, and a retried send or start (same clientMessageId) gives one message / one conversation."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest

from infra.local.stack import LocalStack
from parley.chat import limits
from tests.integration.chat_client import ChatClient, Harness

pytestmark = pytest.mark.integration

DEEP = "[" * 2000 + "]" * 2000


@pytest.fixture
def conversation(chat: Harness) -> Iterator[tuple[ChatClient, ChatClient, str]]:
    agent = chat.agent()
    agent.ok("subscribeQueue")
    visitor, _ = chat.visitor()
    cid = visitor.ok("startConversation", text="hello")["conversation"]["conversationId"]
    agent.ok("acceptConversation", conversationId=cid)
    visitor.next_event("conversation.accepted")
    yield visitor, agent, cid


@pytest.fixture
def frozen(local_stack: LocalStack) -> Iterator[datetime]:
    """The business clock stopped at the start of a minute (so of every limit's window), a
    little ahead; it runs on at real speed afterwards."""
    now = local_stack.clock.now()
    start = now.replace(second=0, microsecond=0) + timedelta(minutes=1)
    local_stack.clock.set(start)
    try:
        yield start
    finally:
        local_stack.clock.unfreeze()


def stored_seqs(client: ChatClient, cid: str) -> list[int]:
    return [m["seq"] for m in client.ok("resume", conversationId=cid, sinceSeq=0)["messages"]]


def drained(client: ChatClient, quiet: float = 0.3) -> list[dict[str, Any]]:
    """Every event the client has received, once nothing more came for `quiet` seconds."""
    while True:
        try:
            client.events.append(json.loads(client.ws.recv(timeout=quiet)))
        except TimeoutError:
            return client.events


def relayed(client: ChatClient) -> list[dict[str, Any]]:
    return [e["message"] for e in drained(client) if e["type"] == "message"]


@pytest.mark.parametrize(
    ("frame", "code"),
    [
        ('{"action": "typing", "conversationId": "CID", "isTyping": "yes"}', "invalid_request"),
        ('{"action": "typing", "conversationId": "CID", "isTyping": 1}', "invalid_request"),
        ('{"action": "resume", "conversationId": "CID", "sinceSeq": "0"}', "invalid_request"),
        ('{"action": "resume", "conversationId": "CID", "sinceSeq": true}', "invalid_request"),
        (DEEP, "invalid_json"),
        ('{"action": "sendMessage", "conversationId": "CID", "text": ' + DEEP + "}", "invalid_json"),
        ('{"action": ["ping"]}', "unknown_action"),
        ('{"action": "sendMessage", "conversationId": "CID", "text": "\\ud800"}', "invalid_request"),
        ('{"action": "sendMessage", "conversationId": "CID", "text": "hi", "clientMessageId": "no spaces"}',
         "invalid_request"),
    ],
)
def test_each_parser_case_is_an_error_frame_that_moves_nothing(
    conversation: tuple[ChatClient, ChatClient, str], frame: str, code: str
) -> None:
    visitor, agent, cid = conversation
    before = stored_seqs(visitor, cid)
    reply = visitor.send_raw(frame.replace("CID", cid))
    assert (reply["type"], reply["code"]) == ("error", code), reply
    assert stored_seqs(visitor, cid) == before
    assert relayed(agent) == []
    assert visitor.ok("ping") == {}  # the connection is still usable
    # The sequence did not move: the next message takes the next number.
    assert visitor.ok("sendMessage", conversationId=cid, text="next")["message"]["seq"] == before[-1] + 1


def test_an_error_frame_echoes_the_request_id_of_a_frame_it_could_read(
    conversation: tuple[ChatClient, ChatClient, str]
) -> None:
    visitor, _, cid = conversation
    frame = json.dumps({"action": "resume", "requestId": "rid-1", "conversationId": cid, "sinceSeq": "0"})
    assert visitor.send_raw(frame, request_id="rid-1")["code"] == "invalid_request"


def test_typing_in_a_closed_conversation_is_refused(conversation: tuple[ChatClient, ChatClient, str]) -> None:
    visitor, agent, cid = conversation
    agent.ok("closeConversation", conversationId=cid)
    visitor.next_event("conversation.closed")
    assert visitor.request("typing", conversationId=cid, isTyping=True)["code"] == "conversation_closed"
    assert not [e for e in drained(agent) if e["type"] == "typing"]


class TestRateLimits:
    def test_messages_past_the_window_limit_are_refused_and_nothing_is_stored(
        self, conversation: tuple[ChatClient, ChatClient, str], frozen: datetime, local_stack: LocalStack
    ) -> None:
        visitor, agent, cid = conversation
        limit = limits.current().visitor_messages
        for i in range(limit.limit):
            visitor.ok("sendMessage", conversationId=cid, text=f"burst {i}")
        before, got = stored_seqs(visitor, cid), len(relayed(agent))
        refused = visitor.request("sendMessage", conversationId=cid, text="one too many", clientMessageId="over-1")
        assert (refused["type"], refused["code"], refused["limit"]) == ("error", "rate_limited", "messages")
        assert refused["retryAfter"] == limit.window_seconds  # the clock stands at the window's start
        assert stored_seqs(visitor, cid) == before and len(relayed(agent)) == got
        assert agent.ok("sendMessage", conversationId=cid, text="the agent may still answer")
        local_stack.clock.set(frozen + timedelta(seconds=limit.window_seconds))
        sent = visitor.ok("sendMessage", conversationId=cid, text="one too many", clientMessageId="over-1")
        assert "duplicate" not in sent  # the refused send was not remembered

    def test_starts_per_minute(self, chat: Harness, frozen: datetime, local_stack: LocalStack) -> None:
        visitor, _ = chat.visitor()
        starts = limits.current().starts
        for i in range(starts.limit):
            cid = visitor.ok("startConversation", text=f"question {i}")["conversation"]["conversationId"]
            visitor.ok("closeConversation", conversationId=cid)
        refused = visitor.request("startConversation", text="and another")
        assert (refused["code"], refused["limit"], refused["retryAfter"]) == ("rate_limited", "starts",
                                                                              starts.window_seconds)
        local_stack.clock.set(frozen + timedelta(seconds=starts.window_seconds))
        assert visitor.ok("startConversation", text="next minute")["conversation"]["status"] in ("waiting", "active")

    def test_open_conversations_per_visitor(self, chat: Harness, frozen: datetime) -> None:
        agent = chat.agent()
        agent.ok("subscribeQueue")
        visitor, _ = chat.visitor()
        cap = limits.current().max_open_conversations
        opened = [visitor.ok("startConversation", text=f"chat {i}")["conversation"]["conversationId"]
                  for i in range(cap)]
        waiting_before = [e for e in drained(agent) if e["type"] == "conversation.waiting"]
        refused = visitor.request("startConversation", text="one more")
        assert (refused["code"], refused["limit"]) == ("rate_limited", "open_conversations")
        assert refused["retryAfter"] > 0
        assert [e for e in drained(agent) if e["type"] == "conversation.waiting"] == waiting_before  # none new
        visitor.ok("closeConversation", conversationId=opened[0])
        assert visitor.ok("startConversation", text="one more")["conversation"]["conversationId"] not in opened


class TestRetriedSends:
    def test_a_retried_send_is_stored_and_relayed_once(self, conversation: tuple[ChatClient, ChatClient, str]) -> None:
        visitor, agent, cid = conversation
        first = visitor.ok("sendMessage", conversationId=cid, text="did it arrive?", clientMessageId="send-1")
        again = visitor.ok("sendMessage", conversationId=cid, text="did it arrive?", clientMessageId="send-1")
        assert again == {"message": first["message"], "duplicate": True}
        assert first["message"]["clientMessageId"] == "send-1"
        history = visitor.ok("resume", conversationId=cid, sinceSeq=0)["messages"]
        assert [m["text"] for m in history].count("did it arrive?") == 1
        copies = [m for m in relayed(agent) if m.get("clientMessageId") == "send-1"]
        assert copies == [first["message"]]

    def test_a_send_retried_on_a_new_socket_after_its_ack_was_lost(
        self, chat: Harness, conversation: tuple[ChatClient, ChatClient, str]
    ) -> None:
        visitor, agent, cid = conversation
        session_token = visitor_token_of(visitor)  # the same visitor reconnects
        visitor.ws.send(json.dumps({"action": "sendMessage", "conversationId": cid, "text": "lost ack",
                                    "clientMessageId": "send-2", "requestId": "gone"}))
        visitor.ws.close()  # the ack, if any, is never read
        again, _ = chat.visitor(token=session_token)
        again.ok("resume", conversationId=cid, sinceSeq=0)
        reply = again.ok("sendMessage", conversationId=cid, text="lost ack", clientMessageId="send-2")
        history = again.ok("resume", conversationId=cid, sinceSeq=0)["messages"]
        (stored,) = [m for m in history if m["text"] == "lost ack"]  # once, whether or not the first got in
        assert reply["message"] == stored
        assert [m["clientMessageId"] for m in relayed(agent) if m.get("clientMessageId") == "send-2"] == ["send-2"]

    def test_a_retried_start_opens_one_conversation(self, chat: Harness) -> None:
        agent = chat.agent()
        agent.ok("subscribeQueue")
        visitor, _ = chat.visitor()
        first = visitor.ok("startConversation", text="anyone there?", clientMessageId="start-1")
        again = visitor.ok("startConversation", text="anyone there?", clientMessageId="start-1")
        assert again["duplicate"] is True
        assert again["conversation"]["conversationId"] == first["conversation"]["conversationId"]
        assert again["message"] == first["message"] and first["message"]["clientMessageId"] == "start-1"
        waiting = [e["conversation"]["conversationId"] for e in drained(agent, 0.5)
                   if e["type"] == "conversation.waiting"]
        assert waiting.count(first["conversation"]["conversationId"]) == 1  # one broadcast, for the first
        queue = agent.ok("subscribeQueue", order="newest", limit=100)
        seen = [c["conversationId"] for c in queue["waiting"] + queue["mine"]]
        assert seen.count(first["conversation"]["conversationId"]) == 1


def visitor_token_of(visitor: ChatClient) -> str:
    """The visitor token the harness connected `visitor` with (from its WebSocket URL)."""
    from urllib.parse import parse_qs, urlsplit

    path = visitor.ws.request.path if visitor.ws.request is not None else ""
    return parse_qs(urlsplit(path).query)["visitorToken"][0]
